/**
 * Helpers for kernels that the wasm backend lacks (or implements slowly) and
 * that we build on top of the kernels it does have.
 *
 * A kernel here never goes through the tfjs engine: it calls the wasm
 * backend's own kernel functions directly (as the backends do internally), so
 * nothing is recorded on a gradient tape and intermediates are plain
 * `TensorInfo`s that must be released with `backend.disposeData`.
 */
import * as tf from '@tensorflow/tfjs';

export type TensorInfo = tf.TensorInfo;
export type KernelFunc = tf.KernelFunc;
export type NamedAttrMap = tf.NamedAttrMap;

export const WASM = 'wasm';

/** The subset of the wasm backend (`BackendWasm`) that the kernels use. */
export interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * Kernel functions captured from the registry. `original` keeps the
 * implementations that wasm itself registered, before any override by us, so
 * an override can fall back to (or build on) the kernel it replaces.
 */
const originals = new Map<string, KernelFunc | null>();

/**
 * Remembers (on first call per name) what wasm registered under `kernelName`,
 * `null` if nothing. Call before replacing a kernel.
 */
export function captureOriginal(kernelName: string): KernelFunc | undefined {
  if (!originals.has(kernelName)) {
    const cfg = tf.getKernel(kernelName, WASM) as tf.KernelConfig | undefined;
    originals.set(kernelName, cfg ? cfg.kernelFunc : null);
  }
  return originals.get(kernelName) ?? undefined;
}

export function original(kernelName: string): KernelFunc {
  const fn = captureOriginal(kernelName);
  if (!fn) throw new Error(`wasm backend has no '${kernelName}' kernel`);
  return fn;
}

/**
 * Runs wasm kernels and remembers their outputs, so that every intermediate
 * can be released in one `dispose()`; `keep()` exempts the result.
 */
export class KernelScope {
  private readonly temps: TensorInfo[] = [];

  constructor(readonly backend: WasmBackendLike) {}

  /** Runs the kernel currently registered for wasm (which may be ours). */
  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const cfg = tf.getKernel(kernelName, WASM) as tf.KernelConfig | undefined;
    if (!cfg) throw new Error(`wasm backend has no '${kernelName}' kernel`);
    return this.track(cfg.kernelFunc({ inputs, backend: this.backend, attrs }));
  }

  /** Runs the kernel that wasm itself registered, ignoring our overrides. */
  runOriginal(kernelName: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    return this.track(original(kernelName)({ inputs, backend: this.backend, attrs }));
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    if (sameShape(x.shape, shape)) return x;
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    if (perm.every((p, i) => p === i)) return x;
    return this.run('Transpose', { x }, { perm });
  }

  /** Zero padding; `paddings` is one [before, after] pair per axis. */
  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (begin.every((b) => b === 0) && sameShape(x.shape, size)) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  /** Concat takes its inputs as an array (as the engine passes them). */
  concat(xs: TensorInfo[], axis: number): TensorInfo {
    if (xs.length === 1) return xs[0]!;
    return this.runList('Concat', xs, { axis });
  }

  /** Elementwise sum of same-shaped tensors. */
  addN(xs: TensorInfo[]): TensorInfo {
    if (xs.length === 1) return xs[0]!;
    return this.runList('AddN', xs, {});
  }

  /** Kernels whose inputs are a list (Concat, AddN, Pack). */
  runList(kernelName: string, xs: TensorInfo[], attrs: NamedAttrMap): TensorInfo {
    const cfg = tf.getKernel(kernelName, WASM) as tf.KernelConfig | undefined;
    if (!cfg) throw new Error(`wasm backend has no '${kernelName}' kernel`);
    return this.track(cfg.kernelFunc({ inputs: xs as unknown as tf.NamedTensorInfoMap, backend: this.backend, attrs }));
  }

  /** Releases every intermediate except the ones passed to `keep`. */
  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }

  /** Exempts `t` from `dispose()` and returns it (the kernel's output). */
  keep(t: TensorInfo): TensorInfo {
    for (let i = this.temps.length - 1; i >= 0; i--) {
      if (this.temps[i] === t) this.temps.splice(i, 1);
    }
    return t;
  }

  /** Adopts an output made outside `run` (to be released by `dispose`). */
  track(out: TensorInfo | TensorInfo[]): TensorInfo {
    if (Array.isArray(out)) throw new Error('KernelScope.run: multi-output kernels are not supported');
    this.temps.push(out);
    return out;
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Forward geometry of a 2-D convolution in NHWC, as tfjs computes it. */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  padTop: number;
  padLeft: number;
}

export function convGeometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: unknown,
  dimRoundingMode: unknown,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    strides,
    1,
    pad as 'same',
    dimRoundingMode as 'floor' | undefined,
    false,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    sH: info.strideHeight,
    sW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

export type Shape4 = [number, number, number, number];

export function asShape4(shape: readonly number[], what: string): Shape4 {
  if (shape.length !== 4) throw new Error(`${what}: expected a rank-4 shape, got [${shape.join(', ')}]`);
  return [shape[0]!, shape[1]!, shape[2]!, shape[3]!];
}

/** NCHW <-> NHWC helpers for kernels whose attrs allow `dataFormat: 'NCHW'`. */
export const NCHW_TO_NHWC = [0, 2, 3, 1];
export const NHWC_TO_NCHW = [0, 3, 1, 2];

export function isNCHW(dataFormat: unknown): boolean {
  return dataFormat === 'NCHW' || dataFormat === 'channelsFirst';
}
