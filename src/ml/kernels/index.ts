/**
 * Training kernels for the wasm backend (`@tensorflow/tfjs-backend-wasm`).
 *
 * Missing on wasm 4.22 and needed to train the paper's models (see
 * bench/wasm-kernel-coverage.mjs):
 *   - Conv2DBackpropFilter (every convolution's weight gradient)
 *   - UnsortedSegmentSum   (gradient of GatherV2: embeddings)
 * Present but wrong (and slow):
 *   - MaxPoolGrad: wasm's starts each window's running max at
 *     numeric_limits<float>::min() (the smallest *positive* float), so a
 *     window without a positive value loses its gradient, and ties go to the
 *     last maximum instead of the first. After a ReLU this is harmless (the
 *     lost gradients sit where the ReLU's gradient is 0); on inputs that can
 *     be negative (pooling before the activation) the gradients are wrong.
 * Present but slow enough to dominate a training step (scalar C++ loops):
 *   - Conv2DBackpropInput  (every convolution's input gradient; 70% of a step)
 *   - BatchMatMul with transposes (dense-layer gradients), with a batch of
 *     inputs times one matrix, or with a fresh wide weight (packing)
 *
 * `registerWasmTrainingKernels()` registers our versions, built on the
 * XNNPACK-backed kernels wasm has (Conv2D, BatchMatMul) plus data movement
 * (Transpose, PadV2, Slice, Concat), or, for scatters and tiny reorderings,
 * plain loops on the wasm heap. It is idempotent. Each override keeps the
 * original kernel's setup/dispose hooks, so registering before or after the
 * backend initializes both work. The options exist for benchmarking; the
 * defaults are the fastest correct choice.
 */
import * as tf from '@tensorflow/tfjs';
import { batchMatMul } from './batch-mat-mul.js';
import { conv2DBackpropInput } from './conv2d-backprop-input.js';
import { type FilterGradMethod, makeConv2DBackpropFilter } from './conv2d-backprop-filter.js';
import { maxPoolGrad } from './max-pool-grad.js';
import { unsortedSegmentSum } from './unsorted-segment-sum.js';
import { WASM, captureOriginal } from './util.js';

export type { FilterGradMethod } from './conv2d-backprop-filter.js';

export { WASM_KERNELS_REVISION } from './revision.js';

export interface WasmTrainingKernelOptions {
  /** Formulation of Conv2DBackpropFilter (default 'auto'). */
  filterGrad?: FilterGradMethod;
  /** Replace wasm's scalar Conv2DBackpropInput by an XNNPACK convolution (default true). */
  fastInputGrad?: boolean;
  /** Route transposed, batch-folded and fresh-wide-weight BatchMatMul to XNNPACK (default true). */
  fastMatMul?: boolean;
  /** Replace wasm's MaxPoolGrad (default true; wasm's own is WRONG, see above: benchmarking only). */
  fastMaxPoolGrad?: boolean;
}

export interface RegisteredKernel {
  kernelName: string;
  /** 'added': wasm lacks it; 'replaced': overrides wasm's own kernel. */
  kind: 'added' | 'replaced';
}

let registered: RegisteredKernel[] | null = null;
let registeredWith = '';

/** The kernels wasm registers itself, before any of ours. */
const ORIGINALS = ['Conv2DBackpropInput', 'BatchMatMul', 'Conv2DBackpropFilter', 'UnsortedSegmentSum', 'MaxPoolGrad'];

export function registerWasmTrainingKernels(options: WasmTrainingKernelOptions = {}): RegisteredKernel[] {
  const opts = {
    filterGrad: options.filterGrad ?? 'auto',
    fastInputGrad: options.fastInputGrad ?? true,
    fastMatMul: options.fastMatMul ?? true,
    fastMaxPoolGrad: options.fastMaxPoolGrad ?? true,
  };
  const key = JSON.stringify(opts);
  if (registered && key === registeredWith) return registered;
  if (tf.getKernelsForBackend(WASM).length === 0) {
    throw new Error('registerWasmTrainingKernels: @tensorflow/tfjs-backend-wasm is not loaded');
  }
  // Capture wasm's own implementations once, before anything is replaced.
  for (const name of ORIGINALS) captureOriginal(name);

  const out: RegisteredKernel[] = [];
  const put = (kernelName: string, kernelFunc: tf.KernelFunc | null) => {
    const existing = tf.getKernel(kernelName, WASM) as tf.KernelConfig | undefined;
    const orig = captureOriginal(kernelName);
    if (kernelFunc === null) {
      // Restore the original (when switching options back).
      if (existing && orig && existing.kernelFunc !== orig) {
        tf.unregisterKernel(kernelName, WASM);
        tf.registerKernel({ ...existing, kernelFunc: orig });
      }
      return;
    }
    if (existing) tf.unregisterKernel(kernelName, WASM);
    const config: tf.KernelConfig = { kernelName, backendName: WASM, kernelFunc };
    if (existing?.setupFunc) config.setupFunc = existing.setupFunc;
    if (existing?.disposeFunc) config.disposeFunc = existing.disposeFunc;
    tf.registerKernel(config);
    out.push({ kernelName, kind: orig ? 'replaced' : 'added' });
  };

  put('Conv2DBackpropFilter', makeConv2DBackpropFilter(opts.filterGrad) as unknown as tf.KernelFunc);
  put('UnsortedSegmentSum', unsortedSegmentSum as unknown as tf.KernelFunc);
  put('Conv2DBackpropInput', opts.fastInputGrad ? (conv2DBackpropInput as unknown as tf.KernelFunc) : null);
  put('BatchMatMul', opts.fastMatMul ? (batchMatMul as unknown as tf.KernelFunc) : null);
  put('MaxPoolGrad', opts.fastMaxPoolGrad ? (maxPoolGrad as unknown as tf.KernelFunc) : null);

  registered = out;
  registeredWith = key;
  return out;
}
