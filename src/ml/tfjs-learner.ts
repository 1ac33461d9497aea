import type * as tfTypes from '@tensorflow/tfjs';
import { BatchMaker, type SplitData, type TrainingData } from './data.js';
import { DropoutMasks } from './dropout.js';
import type { Learner } from './learner.js';
import { weightedCrossEntropy, type Reduction } from './loss.js';
import { buildModel, type Model } from './models/index.js';
import { makeOptimizer, type OptimizerSpec } from './optimizers.js';
import type { TensorData } from './params.js';

/**
 * The tfjs implementation of a Learner: any registered model, on whichever
 * backend the caller initialized (src/ml/backend.ts). One step is
 * forward -> class-weighted loss -> gradients (tf.variableGrads) -> update,
 * all inside one tf.tidy; the host reads the epoch's summed loss and
 * correct count once per epoch, so steps never wait on the host.
 */

export interface TfjsLearnerConfig {
  model: string;
  width: number;
  modelOptions: Record<string, unknown>;
  dropout: number;
  seed: number;
  batchSize: number;
  evalBatchSize: number;
  lr: number;
  l2: number;
  optimizer: OptimizerSpec;
  classWeights: number[];
  reduction: Reduction;
  /** Initial parameter values by name (a pretrained checkpoint); names absent here keep their seeded init. */
  initialValues?: Record<string, TensorData> | null;
}

export function createTfjsLearner(tf: typeof tfTypes, data: TrainingData, cfg: TfjsLearnerConfig): Learner & { model: Model } {
  const model = buildModel(tf, cfg.model, {
    inputShape: data.exampleShape,
    numClasses: data.numClasses,
    width: cfg.width,
    dropout: cfg.dropout,
    seed: cfg.seed,
    options: cfg.modelOptions,
  });
  if (cfg.initialValues) model.params.restore(cfg.initialValues, { partial: true });
  const vars = model.params.trainable();
  const names = model.params.trainableNames();
  const opt = makeOptimizer(tf, cfg.optimizer, vars, names, cfg.lr, cfg.l2);
  const maker = new BatchMaker(data);
  const train = data.train;
  const labels = train.y!;
  const exampleWeights = Float32Array.from(labels, (c) => cfg.classWeights[c]!);
  const isTokens = data.input === 'tokens';
  const outputs = model.outputs;

  const inputTensor = (split: SplitData, idx: ArrayLike<number>): tfTypes.Tensor => {
    const values = maker.inputs(split, idx);
    return tf.tensor(values, [idx.length, ...data.exampleShape], isTokens ? 'int32' : 'float32');
  };

  const correctCount = (logits: tfTypes.Tensor2D, y: tfTypes.Tensor1D): tfTypes.Scalar => {
    const pred = outputs === 1 ? tf.greater(logits.reshape([logits.shape[0]]), 0).toInt() : tf.argMax(logits, 1).toInt();
    return tf.sum(tf.equal(pred, y).toFloat());
  };

  return {
    model,
    outputs,
    numParams: model.params.count(),
    describe: () => model.describe(),

    async trainEpoch(epoch, order) {
      const masks = new DropoutMasks(tf, cfg.seed, epoch);
      let lossSum = tf.scalar(0);
      let correct = tf.scalar(0);
      const B = cfg.batchSize;
      for (let s = 0; s < order.length; s += B) {
        const idx = order.subarray(s, Math.min(order.length, s + B));
        const bx = inputTensor(train, idx);
        const by = tf.tensor1d(Int32Array.from(idx, (i) => labels[i]!), 'int32');
        const bw = tf.tensor1d(Float32Array.from(idx, (i) => exampleWeights[i]!), 'float32');
        let logits: tfTypes.Tensor2D | null = null;
        const next = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const z = model.apply(bx, { training: true, masks });
            logits = tf.keep(z);
            return weightedCrossEntropy(tf, z, by, bw, cfg.reduction);
          }, vars);
          opt.step(vars.map((v) => grads[v.name]!));
          // value is the batch objective; Σ over the batch = value·B (mean) or value·Σw (weighted_mean).
          const batchTotal = cfg.reduction === 'mean' ? value.mul(idx.length) : value.mul(tf.sum(bw));
          return { loss: lossSum.add(batchTotal), correct: correct.add(correctCount(logits!, by)) };
        });
        lossSum.dispose();
        correct.dispose();
        lossSum = next.loss as tfTypes.Scalar;
        correct = next.correct as tfTypes.Scalar;
        (logits as tfTypes.Tensor | null)?.dispose();
        bx.dispose();
        by.dispose();
        bw.dispose();
      }
      const [l, c] = await Promise.all([lossSum.data(), correct.data()]);
      lossSum.dispose();
      correct.dispose();
      let denom = order.length;
      if (cfg.reduction === 'weighted_mean') {
        denom = 0;
        for (let i = 0; i < order.length; i++) denom += exampleWeights[order[i]!]!;
      }
      return { loss: l[0]! / denom, accuracy: c[0]! / Math.max(1, order.length) };
    },

    async logits(split) {
      const out = new Float32Array(split.n * outputs);
      const B = cfg.evalBatchSize;
      for (let s = 0; s < split.n; s += B) {
        const idx = Array.from({ length: Math.min(split.n, s + B) - s }, (_, k) => s + k);
        const z = tf.tidy(() => model.apply(inputTensor(split, idx), { training: false }));
        out.set(await z.data(), s * outputs);
        z.dispose();
      }
      return out;
    },

    async pointLogits(points) {
      const n = points.length / 2;
      const out = new Float32Array(n * outputs);
      const B = Math.max(cfg.evalBatchSize, 1024);
      for (let s = 0; s < n; s += B) {
        const m = Math.min(n, s + B) - s;
        const z = tf.tidy(() => model.apply(tf.tensor2d(points.subarray(2 * s, 2 * (s + m)), [m, 2]), { training: false }));
        out.set(await z.data(), s * outputs);
        z.dispose();
      }
      return out;
    },

    async linear() {
      if (cfg.model !== 'logistic' || outputs !== 1) return null;
      const w = Array.from(await model.params.get('out/w').data());
      const b = (await model.params.get('out/b').data())[0]!;
      return { w, b };
    },

    async state() {
      const params = await model.params.snapshot();
      const o = await opt.state();
      const tensors: Record<string, TensorData> = {};
      for (const [k, v] of Object.entries(params)) tensors[`param/${k}`] = v;
      for (const [k, v] of Object.entries(o.tensors)) tensors[`opt/${k}`] = v;
      return { step: o.step, tensors };
    },

    restore(state) {
      const params: Record<string, TensorData> = {};
      const o: Record<string, TensorData> = {};
      for (const [k, v] of Object.entries(state.tensors)) {
        if (k.startsWith('param/')) params[k.slice(6)] = v;
        else if (k.startsWith('opt/')) o[k.slice(4)] = v;
      }
      model.params.restore(params);
      opt.restore({ step: state.step, tensors: o });
    },

    dispose() {
      opt.dispose();
      model.params.dispose();
    },
  };
}
