/**
 * MaxPoolGrad for the wasm backend, on the wasm heap in JavaScript.
 *
 * wasm registers MaxPoolGrad as a scalar C++ loop that, for every input
 * pixel and channel, rescans all windows covering it (~5% of a training step
 * of the paper's CNN), and that starts each window's max at the smallest
 * positive float: windows without a positive value lose their gradient and
 * ties go to the last maximum (see index.ts). This version makes one pass
 * over the windows with the channel axis innermost (NHWC order, contiguous),
 * keeps the running max and its position per channel, and scatters dy to the
 * winning position: the cpu backend's semantics (the first maximum in
 * row-major window order wins; a window without any value > -Infinity passes
 * no gradient).
 */
import * as tf from '@tensorflow/tfjs';
import { type TensorInfo, type WasmBackendLike, asShape4 } from './util.js';

export interface MaxPoolGradArgs {
  inputs: { dy?: TensorInfo; input?: TensorInfo; output?: TensorInfo };
  backend: WasmBackendLike;
  attrs: {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: unknown;
    dimRoundingMode?: unknown;
  };
}

export function maxPoolGrad({ inputs, backend, attrs }: MaxPoolGradArgs): TensorInfo {
  const { dy, input } = inputs;
  if (!dy || !input) throw new Error('MaxPoolGrad: missing dy or input');
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error('MaxPoolGrad: float32 only');
  const xShape = asShape4(input.shape, 'MaxPoolGrad input');
  const info = tf.backend_util.computePool2DInfo(
    xShape,
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'floor' | undefined,
  );
  const { batchSize, inHeight, inWidth, inChannels: ch, outHeight, outWidth, strideHeight, strideWidth } = info;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  if (dy.shape[1] !== outHeight || dy.shape[2] !== outWidth) {
    throw new Error(`MaxPoolGrad: dy shape [${dy.shape.join(', ')}] does not match the pooling`);
  }

  const out = backend.makeOutput(input.shape, 'float32');
  // Views only after makeOutput: allocating may grow (and move) the heap.
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);

  const best = new Float32Array(ch);
  const where = new Int32Array(ch);
  const rowStride = inWidth * ch;
  const imgStride = inHeight * rowStride;
  let dyOff = 0;
  for (let b = 0; b < batchSize; b++) {
    const img = b * imgStride;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - padTop;
      const yMin = Math.max(0, y0);
      const yMax = Math.min(inHeight, y0 + fh);
      for (let ox = 0; ox < outWidth; ox++, dyOff += ch) {
        const x0 = ox * strideWidth - padLeft;
        const xMin = Math.max(0, x0);
        const xMax = Math.min(inWidth, x0 + fw);
        best.fill(-Infinity);
        where.fill(-1);
        for (let yy = yMin; yy < yMax; yy++) {
          for (let xx = xMin; xx < xMax; xx++) {
            const p = img + yy * rowStride + xx * ch;
            for (let c = 0; c < ch; c++) {
              const v = x[p + c]!;
              if (v > best[c]!) {
                best[c] = v;
                where[c] = p + c;
              }
            }
          }
        }
        for (let c = 0; c < ch; c++) {
          const w = where[c]!;
          if (w >= 0) dx[w] += g[dyOff + c]!;
        }
      }
    }
  }
  return out;
}
