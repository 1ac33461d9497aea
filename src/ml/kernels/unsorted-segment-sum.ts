/**
 * UnsortedSegmentSum for the wasm backend, which does not register it. It is
 * the gradient of GatherV2 (embedding lookups): rows of x are added into the
 * output row named by their segment id; ids outside [0, numSegments) are
 * dropped, as on the cpu backend.
 *
 * A scatter-add has no efficient expression in wasm's kernels (the one-hot
 * matrix product would be [ids x vocabulary]), so this one works on the wasm
 * heap directly: one pass over x, in JavaScript, no copies.
 */
import { type TensorInfo, type WasmBackendLike, sizeOf } from './util.js';

export interface UnsortedSegmentSumArgs {
  inputs: { x?: TensorInfo; segmentIds?: TensorInfo };
  backend: WasmBackendLike;
  attrs: { numSegments: number };
}

export function unsortedSegmentSum({ inputs, backend, attrs }: UnsortedSegmentSumArgs): TensorInfo {
  const { x, segmentIds } = inputs;
  if (!x || !segmentIds) throw new Error('UnsortedSegmentSum: missing x or segmentIds');
  const numSegments = attrs.numSegments;
  const idsRank = segmentIds.shape.length;
  for (let i = 0; i < idsRank; i++) {
    if (x.shape[i] !== segmentIds.shape[i]) {
      throw new Error(
        `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape.join(', ')}] must be a prefix of x shape [${x.shape.join(', ')}]`,
      );
    }
  }
  if (segmentIds.dtype !== 'int32') throw new Error('UnsortedSegmentSum: segmentIds must be int32');
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`UnsortedSegmentSum: unsupported dtype ${x.dtype}`);
  const inner = x.shape.slice(idsRank);
  const rowSize = sizeOf(inner);
  const rows = sizeOf(segmentIds.shape);
  const out = backend.makeOutput([numSegments, ...inner], x.dtype);
  // Views only after makeOutput: allocating may grow (and move) the heap.
  const o = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  const v = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = backend.typedArrayFromHeap(segmentIds) as Int32Array;
  o.fill(0);
  for (let r = 0; r < rows; r++) {
    const id = ids[r];
    if (id < 0 || id >= numSegments) continue;
    const src = r * rowSize;
    const dst = id * rowSize;
    for (let j = 0; j < rowSize; j++) o[dst + j] += v[src + j];
  }
  return out;
}
