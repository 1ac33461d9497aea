/**
 * BatchMatMul for the wasm backend, routed so that XNNPACK does the work.
 *
 * wasm's own kernel uses XNNPACK (SIMD, multi-threaded) only for a single
 * matrix product without transposes; with transposeA/transposeB (every
 * gradient of a dense layer) or a batch of matrices (attention) it falls back
 * to a scalar blocked loop, 10-30x slower. This override makes the
 * transposes explicit (wasm's Transpose kernel), choosing the cheapest of the
 * algebraically equivalent forms; a batch of inputs times one matrix is
 * folded into one product, and batches of distinct matrices (attention) run
 * as one XNNPACK product per matrix on zero-copy views of the operands:
 *
 *   A^T B       = (A^T) B                      (transpose A)
 *   A B^T       = A (B^T)    or  (B A^T)^T     (whichever moves fewer floats)
 *   A^T B^T     = (B A)^T    or  (A^T)(B^T)
 *
 * XNNPACK packs the right-hand operand of every product (cached per tensor),
 * which the cost model counts too. Tiny products stay on the original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelScope, type TensorInfo, type WasmBackendLike, original, sizeOf } from './util.js';

/** Below this many multiply-adds per matrix, the original kernel is as fast. */
export const XNN_MIN_MACS = 8192;

export interface BatchMatMulArgs {
  inputs: { a?: TensorInfo; b?: TensorInfo };
  backend: WasmBackendLike;
  attrs: { transposeA?: boolean; transposeB?: boolean };
}

export function batchMatMul({ inputs, backend, attrs }: BatchMatMulArgs): TensorInfo {
  const { a, b } = inputs;
  if (!a || !b) throw new Error('BatchMatMul: missing a or b');
  const s = new KernelScope(backend);
  try {
    const tA = attrs.transposeA === true;
    const tB = attrs.transposeB === true;
    const ar = a.shape.length;
    const br = b.shape.length;
    const m = tA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
    const k = tA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
    const kb = tB ? b.shape[br - 1]! : b.shape[br - 2]!;
    const n = tB ? b.shape[br - 2]! : b.shape[br - 1]!;
    const batchA = sizeOf(a.shape.slice(0, -2));
    const batchB = sizeOf(b.shape.slice(0, -2));
    const batch = Math.max(batchA, batchB);
    const plain = !tA && !tB && batchA === 1 && batchB === 1;
    if (plain && a.dtype === 'float32' && b.dtype === 'float32' && preferTransposedPlain(b.dataId, m, k, n)) {
      // out^T = b^T a^T: the big fresh b becomes the unpacked operand.
      const bt = s.track(transpose2D(backend, b, k, n)); // [n, k]
      const at = s.transpose(s.reshape(a, [m, k]), [1, 0]); // [k, m]
      const outT = s.runOriginal('BatchMatMul', { a: s.reshape(bt, [1, n, k]), b: s.reshape(at, [1, k, m]) }, NO_T);
      const out = s.transpose(s.reshape(outT, [n, m]), [1, 0]);
      const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)).concat([m, n]);
      return s.keep(s.reshape(out, outShape));
    }
    if (
      plain ||
      a.dtype !== 'float32' ||
      b.dtype !== 'float32' ||
      k !== kb ||
      (batchA !== batchB && batchA !== 1 && batchB !== 1) ||
      m * n * k < XNN_MIN_MACS ||
      m === 0 ||
      n === 0 ||
      k === 0
    ) {
      return s.keep(s.runOriginal('BatchMatMul', { a, b }, { transposeA: tA, transposeB: tB }));
    }
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)).concat([m, n]);
    if (batch === 1) {
      const a3 = s.reshape(a, [1, tA ? k : m, tA ? m : k]);
      const b3 = s.reshape(b, [1, tB ? n : k, tB ? k : n]);
      return s.keep(s.reshape(product2D(s, a3, b3, tA, tB, m, k, n), outShape));
    }
    if (batchB === 1 && !tA) {
      // A batch of inputs times one matrix (a dense layer on [B, T, D]): fold
      // the batch into the rows, one product.
      const a3 = s.reshape(a, [1, batchA * m, k]);
      const b3 = s.reshape(b, [1, tB ? n : k, tB ? k : n]);
      return s.keep(s.reshape(product2D(s, a3, b3, false, tB, batchA * m, k, n), outShape));
    }
    // Batches of distinct matrices (attention): one XNNPACK product per
    // matrix, on zero-copy views of the operands.
    const views = viewSupport(backend);
    if (views && m * n * k >= XNN_MIN_MACS_PER_VIEW) {
      const a3 = s.reshape(a, [batchA, tA ? k : m, tA ? m : k]);
      const b3 = s.reshape(b, [batchB, tB ? n : k, tB ? k : n]);
      const aP = tA ? s.transpose(a3, [0, 2, 1]) : a3; // [batchA, m, k]
      const bP = tB ? s.transpose(b3, [0, 2, 1]) : b3; // [batchB, k, n]
      // batchedOnViews' result is an intermediate too: the reshape shares
      // its data, and only the reshaped tensor may outlive this scope.
      return s.keep(s.reshape(s.track(batchedOnViews(backend, views, aP, bP, batch, m, k, n)), outShape));
    }
    return s.keep(s.runOriginal('BatchMatMul', { a, b }, { transposeA: tA, transposeB: tB }));
  } finally {
    s.dispose();
  }
}

/**
 * One product of [1, ., .] operands as stored (a is [1,k,m] when tA, b is
 * [1,n,k] when tB); returns [1, m, n]. Every XNNPACK call below is a plain
 * (untransposed, batch 1) product on the original kernel.
 */
function product2D(s: KernelScope, a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean, m: number, k: number, n: number): TensorInfo {
  const mm = (x: TensorInfo, y: TensorInfo) => s.runOriginal('BatchMatMul', { a: x, b: y }, { transposeA: false, transposeB: false });
  const tr = (x: TensorInfo) => s.transpose(x, [0, 2, 1]);
  const mk = m * k;
  const kn = k * n;
  const mn = m * n;
  if (!tA && !tB) return mm(a, b);
  if (tA && !tB) {
    // (A^T) B: transpose A (mk), pack B (kn). The alternative (B^T A)^T moves
    // kn + mk + mn and is never cheaper.
    return mm(tr(a), b);
  }
  if (!tA && tB) {
    // A (B^T): transpose B, pack it: 2kn. (B A^T)^T: transpose A, pack it,
    // transpose the result: 2mk + mn.
    return 2 * kn <= 2 * mk + mn ? mm(a, tr(b)) : tr(mm(b, tr(a)));
  }
  // A^T B^T = (B A)^T: pack A, transpose result: mk + mn; or transpose both
  // and pack B^T: mk + 2kn.
  return mk + mn <= mk + 2 * kn ? tr(mm(b, a)) : mm(tr(a), tr(b));
}

const NO_T = { transposeA: false, transposeB: false };

/** Weight operands already seen in a plain product (XNNPACK caches their packing). */
const seenWeights = new WeakSet<object>();

/** Below this many weight elements packing is too cheap to bother. */
export const TRANSPOSED_PLAIN_MIN_WEIGHTS = 1 << 18;

/**
 * A plain a[m,k] @ b[k,n] on wasm packs b for XNNPACK (a slow, scalar
 * pass, ~8 ns per element) unless the same b was packed before (the operator
 * is cached per tensor). In training every weight is a fresh tensor each
 * step, and with a small batch (m << n) packing costs far more than the
 * product. The first time a b is seen, compute (b^T a^T)^T instead: b^T via
 * a blocked transpose on the heap (~3 ns per element) is the unpacked
 * operand, and only the small a^T is packed. A b seen again (evaluation with
 * fixed weights) takes the direct path and its cached packing.
 */
function preferTransposedPlain(bId: object, m: number, k: number, n: number): boolean {
  const seen = seenWeights.has(bId);
  seenWeights.add(bId);
  return !seen && k * n >= TRANSPOSED_PLAIN_MIN_WEIGHTS && 4 * m <= n;
}

/** [rows, cols] -> [cols, rows] on the wasm heap, cache-blocked. */
export function transpose2D(backend: WasmBackendLike, x: TensorInfo, rows: number, cols: number): TensorInfo {
  const out = backend.makeOutput([cols, rows], x.dtype);
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  const v = backend.typedArrayFromHeap(x) as Float32Array;
  const B = 8;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(i0 + B, rows);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(j0 + B, cols);
      for (let i = i0; i < i1; i++) {
        const r = i * cols;
        for (let j = j0; j < j1; j++) o[j * rows + i] = v[r + j]!;
      }
    }
  }
  return out;
}

/** Per-matrix size from which a batch is split into XNNPACK products on views. */
export const XNN_MIN_MACS_PER_VIEW = 32768;

/** The parts of tfjs-backend-wasm's BackendWasm (4.x) needed for views. */
interface ViewSupport {
  offsetOf(t: TensorInfo): number;
  /** Registers a tensor living at `offset` (owned by another tensor). */
  view(offset: number, shape: number[]): TensorInfo;
  /** Unregisters a view without freeing its memory. */
  release(t: TensorInfo): void;
}

function viewSupport(backend: WasmBackendLike): ViewSupport | null {
  const b = backend as unknown as {
    dataIdMap?: { get(id: object): { id: number; memoryOffset: number } | undefined; delete(id: object): boolean };
    wasm?: { tfjs?: { disposeData?(id: number): void } };
    makeOutput(shape: number[], dtype: string, memoryOffset?: number): TensorInfo;
  };
  const map = b.dataIdMap;
  const dispose = b.wasm?.tfjs?.disposeData;
  if (!map || typeof map.get !== 'function' || typeof dispose !== 'function') return null;
  return {
    offsetOf: (t) => {
      const d = map.get(t.dataId);
      if (!d) throw new Error('BatchMatMul: tensor not on the wasm heap');
      return d.memoryOffset;
    },
    view: (offset, shape) => b.makeOutput(shape, 'float32', offset),
    release: (t) => {
      const d = map.get(t.dataId);
      if (!d) return;
      dispose.call(b.wasm!.tfjs, d.id); // drops the C++ registration (and XNNPACK operators cached on it)
      map.delete(t.dataId);
    },
  };
}

/**
 * out[i] = a[min(i, batchA-1)] @ b[min(i, batchB-1)] for row-major a
 * [batchA, m, k] and b [batchB, k, n]: one XNNPACK product per matrix on
 * views of a and b (no copies in), each result copied into out.
 */
function batchedOnViews(
  backend: WasmBackendLike,
  views: ViewSupport,
  a: TensorInfo,
  b: TensorInfo,
  batch: number,
  m: number,
  k: number,
  n: number,
): TensorInfo {
  const batchA = a.shape[0]!;
  const batchB = b.shape[0]!;
  const out = backend.makeOutput([batch, m, n], 'float32');
  const mm = original('BatchMatMul');
  const aOff = views.offsetOf(a);
  const bOff = views.offsetOf(b);
  const shared = new Map<number, TensorInfo>(); // broadcast operand: one view (and one packing)
  try {
    for (let i = 0; i < batch; i++) {
      const ia = Math.min(i, batchA - 1);
      const ib = Math.min(i, batchB - 1);
      const av = views.view(aOff + 4 * ia * m * k, [1, m, k]);
      let bv = batchB === 1 ? shared.get(0) : undefined;
      if (!bv) {
        bv = views.view(bOff + 4 * ib * k * n, [1, k, n]);
        if (batchB === 1) shared.set(0, bv);
      }
      let prod: TensorInfo | null = null;
      try {
        prod = mm({ inputs: { a: av, b: bv }, backend, attrs: NO_T }) as TensorInfo;
        // Views of the heap only now: allocations may have grown it.
        const src = backend.typedArrayFromHeap(prod) as Float32Array;
        const dst = backend.typedArrayFromHeap(out) as Float32Array;
        dst.set(src, i * m * n);
      } finally {
        if (prod) backend.disposeData(prod.dataId);
        views.release(av);
        if (batchB !== 1) views.release(bv);
      }
    }
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  } finally {
    for (const v of shared.values()) views.release(v);
  }
  return out;
}
