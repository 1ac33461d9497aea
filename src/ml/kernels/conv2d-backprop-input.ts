/**
 * Conv2DBackpropInput (the input gradient of a 2-D convolution, also
 * `conv2dTranspose`) for the wasm backend, as one XNNPACK convolution.
 *
 * wasm does register this kernel, but as a scalar C++ loop: single-threaded,
 * no SIMD, and ~10x slower than its forward Conv2D (70% of a training step of
 * the paper's CNN). The input gradient is itself a convolution:
 *
 *   dx = conv2d(dilate(dy, strides), rot180(W) with in/out channels swapped,
 *               stride 1, padding kH-1-padTop on top, the rest at the bottom)
 *
 * where dilate() inserts strides-1 zeros between pixels (nothing for stride 1),
 * so it runs on wasm's XNNPACK-backed Conv2D.
 */
import {
  KernelScope,
  NCHW_TO_NHWC,
  NHWC_TO_NCHW,
  type Shape4,
  type TensorInfo,
  type WasmBackendLike,
  asShape4,
  convGeometry,
  isNCHW,
} from './util.js';

export interface Conv2DBackpropInputArgs {
  inputs: { dy?: TensorInfo; filter?: TensorInfo };
  backend: WasmBackendLike;
  attrs: {
    strides: number | [number, number];
    pad: unknown;
    dataFormat?: string;
    dimRoundingMode?: unknown;
    inputShape: number[];
  };
}

export function conv2DBackpropInput({ inputs, backend, attrs }: Conv2DBackpropInputArgs): TensorInfo {
  const { dy, filter } = inputs;
  if (!dy || !filter) throw new Error('Conv2DBackpropInput: missing dy or filter');
  const s = new KernelScope(backend);
  try {
    const nchw = isNCHW(attrs.dataFormat);
    const xShape = asShape4(attrs.inputShape, 'Conv2DBackpropInput inputShape');
    const xShapeNHWC: Shape4 = nchw ? [xShape[0], xShape[2], xShape[3], xShape[1]] : xShape;
    const dyNHWC = nchw ? s.transpose(dy, NCHW_TO_NHWC) : dy;
    const dx = inputGradNHWC(s, dyNHWC, filter, xShapeNHWC, attrs.strides, attrs.pad, attrs.dimRoundingMode);
    return s.keep(nchw ? s.transpose(dx, NHWC_TO_NCHW) : dx);
  } finally {
    s.dispose();
  }
}

/** dy: [B, OH, OW, Co]; filter: [kH, kW, Ci, Co]; returns dx: xShape (NHWC). */
export function inputGradNHWC(
  s: KernelScope,
  dy: TensorInfo,
  filter: TensorInfo,
  xShape: Shape4,
  strides: number | [number, number],
  pad: unknown,
  dimRoundingMode: unknown,
): TensorInfo {
  const g = convGeometry(xShape, asShape4(filter.shape, 'Conv2DBackpropInput filter'), strides, pad, dimRoundingMode);
  if (dy.shape[1] !== g.outH || dy.shape[2] !== g.outW || dy.shape[3] !== g.outC) {
    throw new Error(`Conv2DBackpropInput: dy shape [${dy.shape.join(', ')}] does not match the convolution`);
  }
  const wT = s.track(flipFilter(s.backend, filter));

  const dyd = dilate(s, dy, g.sH, g.sW);
  const hd = dyd.shape[1]!;
  const wd = dyd.shape[2]!;

  // Desired padding of the dilated dy: kH-1-padTop before; enough after for
  // inH output rows. Negative padding (a forward pad larger than the filter)
  // is done by padding 0 and cropping the output.
  const pt = g.kH - 1 - g.padTop;
  const pl = g.kW - 1 - g.padLeft;
  const ptA = Math.max(pt, 0);
  const plA = Math.max(pl, 0);
  const pbA = Math.max(0, g.inH + g.kH - 1 - pt - hd);
  const prA = Math.max(0, g.inW + g.kW - 1 - pl - wd);
  const conv = s.run(
    'Conv2D',
    { x: dyd, filter: wT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [ptA, pbA],
        [plA, prA],
        [0, 0],
      ],
      dilations: [1, 1],
      dataFormat: 'NHWC',
    },
  );
  return s.slice(conv, [0, ptA - pt, plA - pl, 0], [g.batch, g.inH, g.inW, g.inC]);
}

/**
 * Inserts (sH-1) zero rows after every row and (sW-1) zero columns after every
 * column: [B, H, W, C] -> [B, H*sH, W*sW, C] (trailing zeros included).
 */
export function dilate(s: KernelScope, x: TensorInfo, sH: number, sW: number): TensorInfo {
  if (sH === 1 && sW === 1) return x;
  const [b, h, w, c] = asShape4(x.shape, 'dilate');
  const x6 = s.reshape(x, [b, h, 1, w, 1, c]);
  const padded = s.pad(x6, [
    [0, 0],
    [0, 0],
    [0, sH - 1],
    [0, 0],
    [0, sW - 1],
    [0, 0],
  ]);
  return s.reshape(padded, [b, h * sH, w * sW, c]);
}

/**
 * rot180 over the spatial axes and in/out channels swapped, in one pass on
 * the heap: out[kh, kw, co, ci] = w[kH-1-kh, kW-1-kw, ci, co]. (wasm's
 * Reverse + Transpose take ~10x longer for these small tensors.)
 */
export function flipFilter(backend: WasmBackendLike, filter: TensorInfo): TensorInfo {
  const [kH, kW, ci, co] = asShape4(filter.shape, 'filter');
  const out = backend.makeOutput([kH, kW, co, ci], 'float32');
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  const w = backend.typedArrayFromHeap(filter) as Float32Array;
  const tap = ci * co;
  for (let t = 0, nt = kH * kW; t < nt; t++) {
    const src = (nt - 1 - t) * tap; // (kH-1-kh, kW-1-kw) is tap nt-1-t
    const dst = t * tap;
    for (let i = 0; i < ci; i++) {
      const row = src + i * co;
      for (let j = 0; j < co; j++) o[dst + j * ci + i] = w[row + j]!;
    }
  }
  return out;
}
