import { Rng } from '../data/rng.js';
import type { SplitData, TrainingData } from './data.js';
import { fillMask } from './dropout.js';
import type { Learner } from './learner.js';
import { softplus, type Reduction } from './loss.js';
import { scaled } from './models/types.js';
import type { OptimizerSpec } from './optimizers.js';
import { DEFAULT_INIT, initialValues, layerInit, type InitScheme, type TensorData } from './params.js';

/**
 * The 2D models (logistic regression and the one-hidden-layer MLP of
 * Figures 1-3, A.1, A.2) trained in plain float64 JavaScript.
 *
 * Why: the full 2D protocol is 10,000 epochs of batch 8 over 1,024 points,
 * 1.28 million SGD steps per model, each a few thousand floating-point
 * operations. In tfjs every step costs tens of kernel dispatches (tens of
 * microseconds each on any backend), i.e. about a millisecond per step, or
 * twenty minutes per model; training several models in lockstep in one tfjs
 * program amortizes the dispatches but still pays them 1.28 million times.
 * Hand-written forward and backward passes over Float64Arrays cost a few
 * microseconds per step (see the report in the stage's log: seconds per
 * model), need no backend, and are exact enough that 10,000 epochs of
 * ever-smaller gradients (the implicit bias regime the paper studies) are
 * not lost to float32 rounding.
 *
 * Semantics are those of the tfjs models and loop, name for name: the same
 * seeded initial values (params.ts, parameter names `hidden/w`, `hidden/b`,
 * `out/w`, `out/b`), the same epoch order, the same dropout masks (same
 * stream, same order of draws), the same loss (loss.ts), the same SGD / Adam
 * with L2 as a gradient term (optimizers.ts). A test checks it against the
 * tfjs implementation.
 */

export type Js2dModel = 'logistic' | 'mlp2d';
/** Part of the environment facts of nodes trained here; bump when the arithmetic changes. */
export const JS_TRAINER_REVISION = 1;

export interface Js2dConfig {
  model: Js2dModel;
  width: number;
  dropout: number;
  seed: number;
  batchSize: number;
  lr: number;
  l2: number;
  optimizer: OptimizerSpec;
  classWeights: number[];
  reduction: Reduction;
  /** Initialization scheme (params.ts); default 'glorot'. */
  init?: InitScheme;
}

interface Slot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export function createJs2dLearner(data: TrainingData, cfg: Js2dConfig): Learner {
  if (data.numClasses !== 2) throw new Error(`the JavaScript 2D trainer is for binary data; this set has ${data.numClasses} classes`);
  if (data.input !== 'points') throw new Error(`the JavaScript 2D trainer takes points, not ${data.input}`);
  const D = data.exampleSize;
  const mlp = cfg.model === 'mlp2d';
  const H = mlp ? scaled(64, cfg.width) : 0;
  const p = mlp ? cfg.dropout : 0;

  // Parameter layout (names and shapes as in the tfjs models).
  const slots: Slot[] = [];
  let total = 0;
  const scheme = cfg.init ?? DEFAULT_INIT;
  const slot = (name: string, shape: number[], fanIn: number, fanOut: number, part: 'w' | 'b', values: Float64Array[]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    slots.push({ name, shape, offset: total, size });
    values.push(Float64Array.from(initialValues(cfg.seed, name, shape, layerInit(scheme, fanIn, fanOut)[part])));
    total += size;
  };
  const init: Float64Array[] = [];
  if (mlp) {
    slot('hidden/w', [D, H], D, H, 'w', init);
    slot('hidden/b', [H], D, H, 'b', init);
    slot('out/w', [H, 1], H, 1, 'w', init);
    slot('out/b', [1], H, 1, 'b', init);
  } else {
    slot('out/w', [D, 1], D, 1, 'w', init);
    slot('out/b', [1], D, 1, 'b', init);
  }
  const P = new Float64Array(total);
  slots.forEach((s, i) => P.set(init[i]!, s.offset));
  const G = new Float64Array(total);
  const adam = cfg.optimizer.name === 'adam' ? { m: new Float64Array(total), v: new Float64Array(total), ...cfg.optimizer } : null;
  let step = 0;

  // Views.
  const W1 = mlp ? P.subarray(0, D * H) : null;
  const B1 = mlp ? P.subarray(D * H, D * H + H) : null;
  const W2 = mlp ? P.subarray(D * H + H, D * H + 2 * H) : P.subarray(0, D);
  const bOut = mlp ? D * H + 2 * H : D;
  const gW1 = mlp ? G.subarray(0, D * H) : null;
  const gB1 = mlp ? G.subarray(D * H, D * H + H) : null;
  const gW2 = mlp ? G.subarray(D * H + H, D * H + 2 * H) : G.subarray(0, D);

  const X = Float64Array.from(data.train.x as Float32Array);
  const Y = data.train.y!;
  const EW = Float64Array.from(Y, (c) => cfg.classWeights[c]!);
  const pre = new Float64Array(H);
  const act = new Float64Array(H);
  const mask = new Float64Array(Math.max(1, cfg.batchSize * H));

  /** Logit of one input (evaluation mode). */
  const forward = (x: ArrayLike<number>, o: number): number => {
    let z = P[bOut]!;
    if (mlp) {
      for (let j = 0; j < H; j++) {
        let s = B1![j]!;
        for (let d = 0; d < D; d++) s += x[o + d]! * W1![d * H + j]!;
        if (s > 0) z += s * W2[j]!;
      }
    } else {
      for (let d = 0; d < D; d++) z += x[o + d]! * W2[d]!;
    }
    return z;
  };

  const update = () => {
    const lr = cfg.lr;
    const l2 = cfg.l2;
    if (!adam) {
      for (let k = 0; k < total; k++) P[k]! -= lr * (G[k]! + l2 * P[k]!);
      return;
    }
    step += 1;
    const { beta1, beta2, epsilon, m, v } = adam;
    const c1 = 1 - Math.pow(beta1, step);
    const c2 = 1 - Math.pow(beta2, step);
    for (let k = 0; k < total; k++) {
      const g = G[k]! + l2 * P[k]!;
      m[k] = beta1 * m[k]! + (1 - beta1) * g;
      v[k] = beta2 * v[k]! + (1 - beta2) * g * g;
      P[k]! -= (lr * (m[k]! / c1)) / (Math.sqrt(v[k]! / c2) + epsilon);
    }
  };

  const logitsOf = (x: ArrayLike<number>, n: number): Float64Array => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = forward(x, i * D);
    return out;
  };

  return {
    outputs: 1,
    numParams: total,
    describe: () =>
      mlp
        ? `MLP ${D} -> ${H} ReLU${p > 0 ? ` (dropout ${p})` : ''} -> 1 (float64 JavaScript trainer)`
        : `logistic regression ${D} -> 1 (float64 JavaScript trainer)`,

    async trainEpoch(epoch, order) {
      const rng = p > 0 ? Rng.stream(cfg.seed, `dropout:${epoch}`) : null;
      let lossSum = 0;
      let denomSum = 0;
      let correct = 0;
      const n = order.length;
      for (let s = 0; s < n; s += cfg.batchSize) {
        const e = Math.min(n, s + cfg.batchSize);
        const m = e - s;
        let denom = m;
        if (cfg.reduction === 'weighted_mean') {
          denom = 0;
          for (let k = s; k < e; k++) denom += EW[order[k]!]!;
        }
        if (rng) fillMask(rng, mask.subarray(0, m * H), p);
        G.fill(0);
        for (let k = s; k < e; k++) {
          const i = order[k]!;
          const o = i * D;
          const y = Y[i]!;
          let z = P[bOut]!;
          if (mlp) {
            const mo = (k - s) * H;
            for (let j = 0; j < H; j++) {
              let v = B1![j]!;
              for (let d = 0; d < D; d++) v += X[o + d]! * W1![d * H + j]!;
              pre[j] = v;
              const a = v > 0 ? (rng ? v * mask[mo + j]! : v) : 0;
              act[j] = a;
              z += a * W2[j]!;
            }
          } else {
            for (let d = 0; d < D; d++) z += X[o + d]! * W2[d]!;
          }
          const w = EW[i]!;
          lossSum += w * (softplus(z) - y * z);
          if ((z > 0 ? 1 : 0) === y) correct++;
          const sig = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
          const g = (w * (sig - y)) / denom;
          G[bOut]! += g;
          if (mlp) {
            const mo = (k - s) * H;
            for (let j = 0; j < H; j++) {
              gW2[j]! += g * act[j]!;
              if (pre[j]! > 0) {
                const dp = rng ? g * W2[j]! * mask[mo + j]! : g * W2[j]!;
                gB1![j]! += dp;
                for (let d = 0; d < D; d++) gW1![d * H + j]! += dp * X[o + d]!;
              }
            }
          } else {
            for (let d = 0; d < D; d++) gW2[d]! += g * X[o + d]!;
          }
        }
        update();
        denomSum += denom;
      }
      return { loss: lossSum / denomSum, accuracy: correct / Math.max(1, n) };
    },

    async logits(split: SplitData) {
      if (split.x instanceof Uint8Array || split.x instanceof Int32Array) throw new Error('the 2D trainer takes float points');
      return logitsOf(split.x, split.n);
    },

    async pointLogits(points) {
      return logitsOf(points, points.length / D);
    },

    async linear() {
      if (mlp) return null;
      return { w: Array.from(W2), b: P[bOut]! };
    },

    async state() {
      const tensors: Record<string, TensorData> = {};
      for (const s of slots) {
        tensors[`param/${s.name}`] = { shape: s.shape, data: P.slice(s.offset, s.offset + s.size) };
        if (adam) {
          tensors[`opt/adam_m/${s.name}`] = { shape: s.shape, data: adam.m.slice(s.offset, s.offset + s.size) };
          tensors[`opt/adam_v/${s.name}`] = { shape: s.shape, data: adam.v.slice(s.offset, s.offset + s.size) };
        }
      }
      return { step, tensors };
    },

    restore(state) {
      for (const s of slots) {
        const t = state.tensors[`param/${s.name}`];
        if (!t || t.data.length !== s.size) throw new Error(`checkpoint lacks parameter '${s.name}'`);
        P.set(t.data, s.offset);
        if (adam) {
          const m = state.tensors[`opt/adam_m/${s.name}`];
          const v = state.tensors[`opt/adam_v/${s.name}`];
          if (!m || !v) throw new Error(`checkpoint lacks Adam moments of '${s.name}'`);
          adam.m.set(m.data, s.offset);
          adam.v.set(v.data, s.offset);
        }
      }
      step = state.step;
    },

    dispose() {},
  };
}
