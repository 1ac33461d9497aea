/**
 * Conv2DBackpropFilter (the filter gradient of a 2-D convolution) for the
 * wasm backend, which does not register it at all.
 *
 *   dW[kh, kw, ci, co] = sum_{b, oh, ow} x[b, oh*sH + kh - padTop, ow*sW + kw - padLeft, ci]
 *                                       * dy[b, oh, ow, co]
 *
 * Formulations, all on XNNPACK-backed kernels wasm has (selectable, for
 * benchmarking; see bench/train-throughput.mjs):
 *
 * - 'conv': a single Conv2D over transposed operands: the input is x as
 *   [Ci, H, W, B] (batch <-> channels), the "filter" is dy as
 *   [OH, OW, B, Co], dilated by the forward strides; the output is
 *   [Ci, kH, kW, Co]. Two small transposes, no copies of x per tap. XNNPACK
 *   runs it as an indirect GEMM whose inner runs are only B floats long, at
 *   ~65% of the forward convolution's rate.
 * - 'gemm': one matrix product per filter tap. With xt = x transposed to
 *   [Ci, B, H, W] and zero padded, tap (kh, kw) is the (strided) window
 *   xt[:, :, kh.., kw..] as [Ci, B*OH*OW], and dW[kh, kw] = window @
 *   dy[B*OH*OW, Co]. dy is the weight operand of every tap, so XNNPACK packs
 *   it once (its operator cache is keyed on it). The products run at the
 *   forward convolution's rate, but wasm's Slice copies the windows slowly.
 * - 'im2col': the windows concatenated into one [kH*kW*Ci, B*OH*OW] matrix
 *   and a single product (one more pass over the copies).
 * - 'conv-rows': one convolution per filter column kw sliding along H only,
 *   with (batch, column) folded into the channel axis (longer inner runs).
 * - 'auto' (the default): 'conv' for Ci >= 16, else 'gemm' (for the first
 *   layer's 3 channels the conv's inner runs are too short).
 *
 * Splitting the reduction axis (B*OH*OW) into chunks of 512..2048 to keep
 * XNNPACK's panels in cache measured slower for every formulation.
 */
import {
  KernelScope,
  NCHW_TO_NHWC,
  type TensorInfo,
  type WasmBackendLike,
  asShape4,
  convGeometry,
  isNCHW,
  type ConvGeometry,
} from './util.js';

export type FilterGradMethod = 'auto' | 'gemm' | 'im2col' | 'conv' | 'conv-rows';

export interface Conv2DBackpropFilterArgs {
  inputs: { x?: TensorInfo; dy?: TensorInfo };
  backend: WasmBackendLike;
  attrs: {
    strides: number | [number, number];
    pad: unknown;
    dataFormat?: string;
    dimRoundingMode?: unknown;
    filterShape: number[];
  };
}

export function makeConv2DBackpropFilter(method: FilterGradMethod) {
  return function conv2DBackpropFilter({ inputs, backend, attrs }: Conv2DBackpropFilterArgs): TensorInfo {
    const { x, dy } = inputs;
    if (!x || !dy) throw new Error('Conv2DBackpropFilter: missing x or dy');
    const s = new KernelScope(backend);
    try {
      const nchw = isNCHW(attrs.dataFormat);
      const xN = nchw ? s.transpose(x, NCHW_TO_NHWC) : x;
      const dyN = nchw ? s.transpose(dy, NCHW_TO_NHWC) : dy;
      return s.keep(filterGradNHWC(s, xN, dyN, attrs.filterShape, attrs.strides, attrs.pad, attrs.dimRoundingMode, method));
    } finally {
      s.dispose();
    }
  };
}

/** x: [B, H, W, Ci]; dy: [B, OH, OW, Co]; returns dW: [kH, kW, Ci, Co]. */
export function filterGradNHWC(
  s: KernelScope,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: number[],
  strides: number | [number, number],
  pad: unknown,
  dimRoundingMode: unknown,
  method: FilterGradMethod,
): TensorInfo {
  const fShape = asShape4(filterShape, 'Conv2DBackpropFilter filterShape');
  const g = convGeometry(asShape4(x.shape, 'Conv2DBackpropFilter x'), fShape, strides, pad, dimRoundingMode);
  if (dy.shape[0] !== g.batch || dy.shape[1] !== g.outH || dy.shape[2] !== g.outW || dy.shape[3] !== g.outC) {
    throw new Error(`Conv2DBackpropFilter: dy shape [${dy.shape.join(', ')}] does not match the convolution`);
  }
  switch (method) {
    case 'auto':
      // Measured (bench/train-throughput.mjs): the transposed convolution is
      // fastest with many input channels; with few (the first layer) its
      // IGEMM runs on tiny channel runs and the per-tap products win.
      return g.inC >= 16 ? viaConv(s, x, dy, g) : viaGemm(s, x, dy, g, false);
    case 'conv':
      return viaConv(s, x, dy, g);
    case 'conv-rows':
      return viaRowConv(s, x, dy, g);
    case 'im2col':
      return viaGemm(s, x, dy, g, true);
    case 'gemm':
      return viaGemm(s, x, dy, g, false);
  }
}

/** Rows (or columns) of padding after x so that every tap window fits. */
function trailingPad(out: number, stride: number, k: number, padBefore: number, size: number): number {
  return Math.max(0, (out - 1) * stride + k - padBefore - size);
}

function viaGemm(s: KernelScope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry, single: boolean): TensorInfo {
  // [Ci, B, H, W], zero padded so that all taps are in range.
  const xt = s.transpose(x, [3, 0, 1, 2]);
  const xp = s.pad(xt, [
    [0, 0],
    [0, 0],
    [g.padTop, trailingPad(g.outH, g.sH, g.kH, g.padTop, g.inH)],
    [g.padLeft, trailingPad(g.outW, g.sW, g.kW, g.padLeft, g.inW)],
  ]);
  const n = g.batch * g.outH * g.outW;
  const taps = g.kH * g.kW;
  const dy3 = s.reshape(dy, [1, n, g.outC]);
  const windows: TensorInfo[] = [];
  for (let kh = 0; kh < g.kH; kh++) {
    for (let kw = 0; kw < g.kW; kw++) windows.push(s.reshape(tapWindow(s, xp, g, kh, kw), [g.inC, n]));
  }
  if (single) {
    // im2col^T: [kH*kW*Ci, N] (rows ordered kh, kw, ci), one product.
    const cols = s.concat(windows, 0);
    const prod = s.runOriginal('BatchMatMul', { a: s.reshape(cols, [1, taps * g.inC, n]), b: dy3 }, NO_T);
    return s.reshape(prod, [g.kH, g.kW, g.inC, g.outC]);
  }
  // dy3 is the weight operand of every tap: XNNPACK packs it once.
  const prods = windows.map((w) => s.runOriginal('BatchMatMul', { a: s.reshape(w, [1, g.inC, n]), b: dy3 }, NO_T));
  return s.reshape(s.concat(prods, 0), [g.kH, g.kW, g.inC, g.outC]);
}

const NO_T = { transposeA: false, transposeB: false };

/** The [Ci, B, OH, OW] window of the padded, transposed x seen by tap (kh, kw). */
function tapWindow(s: KernelScope, xp: TensorInfo, g: ConvGeometry, kh: number, kw: number): TensorInfo {
  const nb = g.batch;
  const ci = g.inC;
  if (g.sH === 1 && g.sW === 1) {
    return s.slice(xp, [0, 0, kh, kw], [ci, nb, g.outH, g.outW]);
  }
  return s.run(
    'StridedSlice',
    { x: xp },
    {
      begin: [0, 0, kh, kw],
      end: [ci, nb, kh + (g.outH - 1) * g.sH + 1, kw + (g.outW - 1) * g.sW + 1],
      strides: [1, 1, g.sH, g.sW],
      beginMask: 0,
      endMask: 0,
      ellipsisMask: 0,
      newAxisMask: 0,
      shrinkAxisMask: 0,
    },
  );
}

function viaConv(s: KernelScope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  // Input [Ci, H, W, B]; "filter" [OH, OW, B, Co] dilated by the strides.
  const xt = s.transpose(x, [3, 1, 2, 0]);
  const dyt = s.transpose(dy, [1, 2, 0, 3]);
  const pb = trailingPad(g.outH, g.sH, g.kH, g.padTop, g.inH);
  const pr = trailingPad(g.outW, g.sW, g.kW, g.padLeft, g.inW);
  const conv = s.run(
    'Conv2D',
    { x: xt, filter: dyt },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [g.padTop, pb],
        [g.padLeft, pr],
        [0, 0],
      ],
      dilations: [g.sH, g.sW],
      dataFormat: 'NHWC',
    },
  );
  // [Ci, >=kH, >=kW, Co] -> [Ci, kH, kW, Co] -> [kH, kW, Ci, Co]
  const cropped = s.slice(conv, [0, 0, 0, 0], [g.inC, g.kH, g.kW, g.outC]);
  return s.transpose(cropped, [1, 2, 0, 3]);
}

/**
 * One XNNPACK convolution per filter column kw, sliding along H only, with
 * (batch, output column) folded into the channel axis so that every
 * indirection entry of XNNPACK's IGEMM is a contiguous run of B*OW floats:
 * input  x as [Ci, Hp, 1, B*OW] (columns kw, kw+sW, ... of the padded x),
 * filter dy as [OH, 1, B*OW, Co] (shared by all kw: XNNPACK packs it once),
 * dilation sH; output [Ci, kH, 1, Co].
 */
function viaRowConv(s: KernelScope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const xt = s.transpose(x, [3, 1, 0, 2]); // [Ci, H, B, W]
  const xp = s.pad(xt, [
    [0, 0],
    [g.padTop, trailingPad(g.outH, g.sH, g.kH, g.padTop, g.inH)],
    [0, 0],
    [g.padLeft, trailingPad(g.outW, g.sW, g.kW, g.padLeft, g.inW)],
  ]);
  const hp = xp.shape[1]!;
  const bw = g.batch * g.outW;
  const dyt = s.reshape(s.transpose(dy, [1, 0, 2, 3]), [g.outH, 1, bw, g.outC]);
  const cols: TensorInfo[] = [];
  for (let kw = 0; kw < g.kW; kw++) {
    const xs =
      g.sW === 1
        ? s.slice(xp, [0, 0, 0, kw], [g.inC, hp, g.batch, g.outW])
        : s.run(
            'StridedSlice',
            { x: xp },
            {
              begin: [0, 0, 0, kw],
              end: [g.inC, hp, g.batch, kw + (g.outW - 1) * g.sW + 1],
              strides: [1, 1, 1, g.sW],
              beginMask: 0,
              endMask: 0,
              ellipsisMask: 0,
              newAxisMask: 0,
              shrinkAxisMask: 0,
            },
          );
    const conv = s.run(
      'Conv2D',
      { x: s.reshape(xs, [g.inC, hp, 1, bw]), filter: dyt },
      { strides: [1, 1], pad: 'valid', dilations: [g.sH, 1], dataFormat: 'NHWC' },
    );
    cols.push(s.slice(conv, [0, 0, 0, 0], [g.inC, g.kH, 1, g.outC]));
  }
  const stacked = s.concat(cols, 2); // [Ci, kH, kW, Co]
  return s.transpose(stacked, [1, 2, 0, 3]);
}
