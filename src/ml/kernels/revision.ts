/**
 * Revision of the wasm training kernels in this directory. It is part of the
 * wasm backend's version in `backendFacts()` (../backend.ts), so results
 * computed with one formulation are not mistaken for another's: the kernels
 * sum in a different order than wasm's or the cpu backend's, which changes
 * the last bits. Bump it whenever a kernel's arithmetic changes.
 *
 * Kept free of imports: `backendFacts()` must not load tfjs.
 *
 * 1: first version. 2: batched BatchMatMul (attention) on XNNPACK views.
 */
export const WASM_KERNELS_REVISION = 2;
