import type * as tfTypes from '@tensorflow/tfjs';
import { layerInit, type Init, type ParamSet } from '../params.js';

/**
 * Building blocks shared by the models, on raw tfjs ops (fused where tfjs
 * has a fused kernel: conv + bias + ReLU and matmul + bias + ReLU are one
 * kernel each on wasm and tfjs-node).
 */

export type Activation = 'relu' | 'linear';

export class Dense {
  readonly w: tfTypes.Variable;
  readonly b: tfTypes.Variable;

  constructor(
    private readonly tf: typeof tfTypes,
    params: ParamSet,
    name: string,
    readonly inUnits: number,
    readonly outUnits: number,
    init?: { w: Init; b: Init },
  ) {
    const def = layerInit(params.scheme, inUnits, outUnits);
    this.w = params.add(`${name}/w`, [inUnits, outUnits], init?.w ?? def.w);
    this.b = params.add(`${name}/b`, [outUnits], init?.b ?? def.b);
  }

  /** x: [B, in] -> [B, out]. */
  apply(x: tfTypes.Tensor2D, activation: Activation = 'linear'): tfTypes.Tensor2D {
    return this.tf.fused.matMul({ a: x, b: this.w as tfTypes.Tensor2D, bias: this.b, activation }) as tfTypes.Tensor2D;
  }

  /** x: [..., in] -> [..., out] (leading dimensions flattened for the product). */
  applyNd(x: tfTypes.Tensor, activation: Activation = 'linear'): tfTypes.Tensor {
    const lead = x.shape.slice(0, -1);
    const rows = lead.reduce((a, b) => a * b, 1);
    const y: tfTypes.Tensor = this.apply(x.reshape([rows, this.inUnits]) as tfTypes.Tensor2D, activation);
    return y.reshape([...lead, this.outUnits]) as tfTypes.Tensor;
  }
}

export class Conv2D {
  readonly w: tfTypes.Variable;
  readonly b: tfTypes.Variable | null;

  constructor(
    private readonly tf: typeof tfTypes,
    params: ParamSet,
    name: string,
    readonly kernel: number,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly stride = 1,
    bias = true,
  ) {
    const def = layerInit(params.scheme, kernel * kernel * inChannels, kernel * kernel * outChannels);
    this.w = params.add(`${name}/w`, [kernel, kernel, inChannels, outChannels], def.w);
    this.b = bias ? params.add(`${name}/b`, [outChannels], def.b) : null;
  }

  /** NHWC, 'same' padding. */
  apply(x: tfTypes.Tensor4D, activation: Activation = 'linear'): tfTypes.Tensor4D {
    return this.tf.fused.conv2d({
      x,
      filter: this.w as tfTypes.Tensor4D,
      strides: this.stride,
      pad: 'same',
      ...(this.b ? { bias: this.b } : {}),
      activation,
    });
  }
}

/**
 * Batch normalization over N, H, W (PyTorch's BatchNorm2d: eps 1e-5,
 * running averages with momentum 0.1, running variance unbiased). Training
 * mode normalizes with the batch statistics and updates the running ones;
 * evaluation uses the running ones.
 */
export class BatchNorm {
  readonly gamma: tfTypes.Variable;
  readonly beta: tfTypes.Variable;
  readonly runMean: tfTypes.Variable;
  readonly runVar: tfTypes.Variable;
  static readonly EPS = 1e-5;
  static readonly MOMENTUM = 0.1;

  constructor(
    private readonly tf: typeof tfTypes,
    params: ParamSet,
    name: string,
    readonly channels: number,
  ) {
    this.gamma = params.add(`${name}/gamma`, [channels], { kind: 'const', value: 1 });
    this.beta = params.add(`${name}/beta`, [channels], { kind: 'const', value: 0 });
    this.runMean = params.add(`${name}/running_mean`, [channels], { kind: 'const', value: 0 }, { trainable: false });
    this.runVar = params.add(`${name}/running_var`, [channels], { kind: 'const', value: 1 }, { trainable: false });
  }

  apply(x: tfTypes.Tensor4D, training: boolean): tfTypes.Tensor4D {
    const tf = this.tf;
    if (!training) return tf.batchNorm4d(x, this.runMean as tfTypes.Tensor1D, this.runVar as tfTypes.Tensor1D, this.beta as tfTypes.Tensor1D, this.gamma as tfTypes.Tensor1D, BatchNorm.EPS);
    const n = x.shape[0] * x.shape[1] * x.shape[2];
    const m = BatchNorm.MOMENTUM;
    // Training mode with the textbook backward pass (tfjs's own batchNorm
    // gradient tiles the statistics to the full tensor: 2-3x slower here):
    //   x̂ = (x - μ) / sqrt(σ² + ε),  y = γ x̂ + β
    //   dβ = Σ dy,  dγ = Σ dy x̂,  dx = γ / sqrt(σ² + ε) · (dy - (dβ + x̂ dγ) / n)
    const f = tf.customGrad(((xi: tfTypes.Tensor, gamma: tfTypes.Tensor, beta: tfTypes.Tensor, save: tfTypes.GradSaveFunc) => {
      const mean = tf.mean(xi, [0, 1, 2]);
      const centered = xi.sub(mean);
      const variance = tf.mean(centered.square(), [0, 1, 2]);
      const invStd = tf.rsqrt(variance.add(BatchNorm.EPS));
      const xhat = centered.mul(invStd);
      // Running statistics (values only; not part of the gradient).
      this.runMean.assign(this.runMean.mul(1 - m).add(mean.mul(m)));
      this.runVar.assign(this.runVar.mul(1 - m).add(variance.mul((m * n) / Math.max(1, n - 1))));
      save([xhat, invStd, gamma]);
      return {
        value: xhat.mul(gamma).add(beta),
        gradFunc: (dy: tfTypes.Tensor | tfTypes.Tensor[], saved: tfTypes.Tensor[]) => {
          const g = dy as tfTypes.Tensor;
          const [xh, inv, gm] = saved as [tfTypes.Tensor, tfTypes.Tensor, tfTypes.Tensor];
          const dBeta = tf.sum(g, [0, 1, 2]);
          const dGamma = tf.sum(g.mul(xh), [0, 1, 2]);
          const dx = g.sub(xh.mul(dGamma.div(n)).add(dBeta.div(n))).mul(gm.mul(inv));
          return [dx, dGamma, dBeta];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return f(x, this.gamma, this.beta) as tfTypes.Tensor4D;
  }
}

/**
 * Layer normalization over the last axis (BERT's: eps 1e-12 there; we use
 * 1e-12 too), x: [..., d].
 */
export class LayerNorm {
  readonly gamma: tfTypes.Variable;
  readonly beta: tfTypes.Variable;

  constructor(
    private readonly tf: typeof tfTypes,
    params: ParamSet,
    name: string,
    readonly dim: number,
    readonly eps = 1e-12,
  ) {
    this.gamma = params.add(`${name}/gamma`, [dim], { kind: 'const', value: 1 });
    this.beta = params.add(`${name}/beta`, [dim], { kind: 'const', value: 0 });
  }

  apply<T extends tfTypes.Tensor>(x: T): T {
    const tf = this.tf;
    const axis = x.rank - 1;
    const { mean, variance } = tf.moments(x, axis, true);
    return x.sub(mean).mul(tf.rsqrt(variance.add(this.eps))).mul(this.gamma).add(this.beta) as T;
  }
}

/**
 * Rows `ids` ([N] int32) of `table` ([V, d]) with a scatter-add gradient.
 * tf.gather's own gradient is UnsortedSegmentSum, which tfjs's cpu backend
 * computes in O(V·N·d) (seconds per step for a vocabulary of a few
 * thousand); ScatterNd sums the rows in O(N·d) on every backend.
 */
export function embeddingLookup(tf: typeof tfTypes, table: tfTypes.Tensor2D, ids: tfTypes.Tensor1D): tfTypes.Tensor2D {
  const f = tf.customGrad(((t: tfTypes.Tensor, i: tfTypes.Tensor, save: tfTypes.GradSaveFunc) => {
    save([i]);
    return {
      value: tf.gather(t as tfTypes.Tensor2D, i as tfTypes.Tensor1D),
      gradFunc: (dy: tfTypes.Tensor | tfTypes.Tensor[], saved: tfTypes.Tensor[]) => {
        const idx = saved[0]!;
        return [tf.scatterND(idx.reshape([idx.shape[0]!, 1]), dy as tfTypes.Tensor, t.shape), tf.zerosLike(idx)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(table, ids) as tfTypes.Tensor2D;
}
