import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type * as tfTypes from '@tensorflow/tfjs';
import { initBackend } from '../src/ml/backend.js';
import { DropoutMasks } from '../src/ml/dropout.js';
import { crossEntropyHost, weightedCrossEntropy, weightedCrossEntropyHost } from '../src/ml/loss.js';
import { buildModel, MODEL_NAMES, modelFactory, type ModelSpec } from '../src/ml/models/index.js';
import { makeOptimizer } from '../src/ml/optimizers.js';
import { BatchNorm, embeddingLookup } from '../src/ml/models/layers.js';
import { ParamSet } from '../src/ml/params.js';

/**
 * Every model builds and takes one training step (tiny widths and inputs,
 * cpu backend); the tfjs loss matches a hand computation; BN running
 * statistics move in training mode only; parameter counts at width 1 match
 * the paper's architectures.
 */

let tf: typeof tfTypes;
before(async () => {
  await initBackend('cpu', 1);
  tf = await import('@tensorflow/tfjs');
});

test('tfjs weighted cross-entropy equals the host computation, and its gradient the closed form', () => {
  const logits = tf.tensor2d([2, -1, 0.5], [3, 1]);
  const y = tf.tensor1d([1, 0, 0], 'int32');
  const w = tf.tensor1d([0.25, 1, 1]);
  const v = weightedCrossEntropy(tf, logits, y, w).dataSync()[0]!;
  assert.ok(Math.abs(v - weightedCrossEntropyHost([2, -1, 0.5], 1, [1, 0, 0], [1, 0.25])) < 1e-6);
  const vw = weightedCrossEntropy(tf, logits, y, w, 'weighted_mean').dataSync()[0]!;
  assert.ok(Math.abs(vw - weightedCrossEntropyHost([2, -1, 0.5], 1, [1, 0, 0], [1, 0.25], 'weighted_mean')) < 1e-6);
  // d/dz of (1/B) Σ w (softplus(z) - y z) = w (σ(z) - y) / B
  const g = tf.grad((z: tfTypes.Tensor) => weightedCrossEntropy(tf, z as tfTypes.Tensor2D, y, w))(logits).dataSync();
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  const expect = [(0.25 * (sig(2) - 1)) / 3, sig(-1) / 3, sig(0.5) / 3];
  expect.forEach((e, i) => assert.ok(Math.abs(g[i]! - e) < 1e-6, `${g[i]} vs ${e}`));
  // Multiclass.
  const z3 = tf.tensor2d([1, 2, 3, 0, 0, 0], [2, 3]);
  const y3 = tf.tensor1d([2, 0], 'int32');
  const w3 = tf.tensor1d([0.5, 2]);
  const v3 = weightedCrossEntropy(tf, z3, y3, w3).dataSync()[0]!;
  const ce = crossEntropyHost([1, 2, 3, 0, 0, 0], 3, [2, 0]);
  assert.ok(Math.abs(v3 - (0.5 * ce[0]! + 2 * ce[1]!) / 2) < 1e-6);
});

const specs: Record<string, { spec: Omit<ModelSpec, 'seed'>; x: () => tfTypes.Tensor; y: number[] }> = {
  logistic: { spec: { inputShape: [2], numClasses: 2, width: 1, dropout: 0 }, x: () => tf.tensor2d([0, 1, 1, 0, 2, 2, -1, 0], [4, 2]), y: [0, 1, 1, 0] },
  mlp2d: { spec: { inputShape: [2], numClasses: 2, width: 0.25, dropout: 0.5 }, x: () => tf.tensor2d([0, 1, 1, 0, 2, 2, -1, 0], [4, 2]), y: [0, 1, 1, 0] },
  cnn: { spec: { inputShape: [8, 8, 3], numClasses: 2, width: 1 / 16, dropout: 0.5 }, x: () => tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1), y: [0, 1] },
  'resnet-bn': { spec: { inputShape: [8, 8, 3], numClasses: 2, width: 1 / 16, dropout: 0 }, x: () => tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 2), y: [0, 1] },
  'resnet-nobn': { spec: { inputShape: [8, 8, 3], numClasses: 2, width: 1 / 16, dropout: 0 }, x: () => tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 3), y: [1, 0] },
  mlp: { spec: { inputShape: [4, 4, 3], numClasses: 10, width: 1 / 16, dropout: 0 }, x: () => tf.randomNormal([3, 4, 4, 3], 0, 1, 'float32', 4), y: [0, 5, 9] },
  transformer: {
    spec: { inputShape: [8], numClasses: 2, width: 1 / 8, dropout: 0.1, options: { vocab_size: 20 } },
    x: () => tf.tensor2d([2, 5, 6, 3, 7, 8, 3, 0, 2, 9, 3, 9, 10, 3, 0, 0], [2, 8], 'int32'),
    y: [0, 1],
  },
};

test('every registered model builds and takes one SGD step', () => {
  assert.deepEqual([...MODEL_NAMES].sort(), Object.keys(specs).sort());
  for (const name of MODEL_NAMES) {
    const s = specs[name]!;
    const model = buildModel(tf, name, { ...s.spec, seed: 7 });
    assert.equal(model.input, modelFactory(name).input);
    const x = s.x();
    const y = tf.tensor1d(s.y, 'int32');
    const w = tf.ones([s.y.length]) as tfTypes.Tensor1D;
    const logits = model.apply(x, { training: false });
    assert.deepEqual(logits.shape, [s.y.length, s.spec.numClasses === 2 ? 1 : s.spec.numClasses], name);
    const vars = model.params.trainable();
    const opt = makeOptimizer(tf, { name: 'sgd' }, vars, model.params.trainableNames(), 0.1, 0.001);
    const before = vars.map((v) => v.dataSync().slice());
    const masks = new DropoutMasks(tf, 1, 1);
    const loss = () => weightedCrossEntropy(tf, model.apply(x, { training: true, masks }), y, w);
    const l0 = tf.tidy(() => loss().dataSync()[0]!);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(loss, vars);
      opt.step(vars.map((v) => grads[v.name]!));
    });
    assert.ok(Number.isFinite(l0), `${name}: loss ${l0}`);
    const changed = vars.filter((v, i) => v.dataSync().some((a, k) => a !== before[i]![k])).length;
    assert.ok(changed >= vars.length - 1, `${name}: ${changed} of ${vars.length} parameters changed`);
    model.params.dispose();
  }
});

test('batch norm: running statistics move in training mode, not in evaluation', () => {
  const model = buildModel(tf, 'resnet-bn', { ...specs['resnet-bn']!.spec, seed: 1 });
  const info = model.params.infos().filter((i) => i.name.endsWith('running_mean'));
  assert.equal(info.length, 1 + 2 * 6 + 2, 'stem, two per block, two shortcuts');
  const rm = () => model.params.get('stem/bn/running_mean').dataSync().slice();
  const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 9);
  const r0 = rm();
  tf.tidy(() => model.apply(x, { training: false }));
  assert.deepEqual(rm(), r0);
  tf.tidy(() => model.apply(x, { training: true }));
  assert.notDeepEqual(rm(), r0);
  model.params.dispose();
});

test('the paper-size architectures have the expected numbers of parameters', () => {
  const count = (name: string, spec: Omit<ModelSpec, 'seed'>) => {
    const m = buildModel(tf, name, { ...spec, seed: 1 });
    const n = m.params.count();
    m.params.dispose();
    return n;
  };
  const img = { inputShape: [32, 32, 3], numClasses: 2, width: 1, dropout: 0 };
  // CNN: convs 3·64·9+64, 64·64·9+64, 64·128·9+128, 2×(128·128·9+128); dense 8192·512+512, 512·128+128, 128+1.
  const cnn = 1792 + 36928 + 73856 + 2 * 147584 + (8192 * 512 + 512) + (512 * 128 + 128) + 129;
  assert.equal(count('cnn', img), cnn);
  assert.equal(count('logistic', { inputShape: [2], numClasses: 2, width: 1, dropout: 0 }), 3);
  assert.equal(count('mlp2d', { inputShape: [2], numClasses: 2, width: 1, dropout: 0 }), 2 * 64 + 64 + 64 + 1);
  assert.equal(count('mlp', { inputShape: [32, 32, 3], numClasses: 10, width: 1, dropout: 0 }), 3072 * 256 + 256 + 2570);
  // ResNet without BN: stem 5·5·3·64+64; blocks; shortcuts 1x1 with bias; dense 256·512+512, 512+1.
  const conv = (k: number, i: number, o: number) => k * k * i * o + o;
  const resnet =
    conv(5, 3, 64) +
    4 * conv(3, 64, 64) +
    conv(3, 64, 128) + conv(3, 128, 128) + conv(1, 64, 128) + 2 * conv(3, 128, 128) +
    conv(3, 128, 256) + conv(3, 256, 256) + conv(1, 128, 256) + 2 * conv(3, 256, 256) +
    (256 * 512 + 512) + 513;
  assert.equal(count('resnet-nobn', img), resnet);
});

test('batch norm and embedding gradients equal tfjs autodiff of the plain formulas', () => {
  const params = new ParamSet(tf, 1);
  const bn = new BatchNorm(tf, params, 'bn', 3);
  params.get('bn/gamma').assign(tf.tensor1d([0.5, 1.5, -2]));
  params.get('bn/beta').assign(tf.tensor1d([0.1, 0, 0.3]));
  const x = tf.randomNormal([2, 3, 2, 3], 1, 2, 'float32', 5) as tfTypes.Tensor4D;
  const r = tf.randomNormal([2, 3, 2, 3], 0, 1, 'float32', 6);
  const gamma = params.get('bn/gamma') as tfTypes.Variable<tfTypes.Rank.R1>;
  const beta = params.get('bn/beta') as tfTypes.Variable<tfTypes.Rank.R1>;
  const refY = (xi: tfTypes.Tensor) => {
    const { mean, variance } = tf.moments(xi, [0, 1, 2]);
    return tf.batchNorm4d(xi as tfTypes.Tensor4D, mean as tfTypes.Tensor1D, variance as tfTypes.Tensor1D, beta, gamma, BatchNorm.EPS);
  };
  const ourLoss = (xi: tfTypes.Tensor) => tf.sum(bn.apply(xi as tfTypes.Tensor4D, true).mul(r)) as tfTypes.Scalar;
  const refLoss = (xi: tfTypes.Tensor) => tf.sum(refY(xi).mul(r)) as tfTypes.Scalar;
  const near = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  };
  near(tf.grad(ourLoss)(x).dataSync(), tf.grad(refLoss)(x).dataSync(), 'dx');
  const vo = tf.variableGrads(() => ourLoss(x), [gamma, beta]).grads;
  const vr = tf.variableGrads(() => refLoss(x), [gamma, beta]).grads;
  near(vo[gamma.name]!.dataSync(), vr[gamma.name]!.dataSync(), 'dgamma');
  near(vo[beta.name]!.dataSync(), vr[beta.name]!.dataSync(), 'dbeta');
  // Forward value too.
  near(bn.apply(x, true).dataSync(), refY(x).dataSync(), 'y');
  params.dispose();

  const table = tf.randomNormal([5, 3], 0, 1, 'float32', 7) as tfTypes.Tensor2D;
  const ids = tf.tensor1d([4, 1, 4, 0], 'int32');
  const rr = tf.randomNormal([4, 3], 0, 1, 'float32', 8);
  const gOurs = tf.grad((t: tfTypes.Tensor) => tf.sum(embeddingLookup(tf, t as tfTypes.Tensor2D, ids).mul(rr)))(table).dataSync();
  const gRef = tf.grad((t: tfTypes.Tensor) => tf.sum(tf.gather(t, ids).mul(rr)))(table).dataSync();
  gOurs.forEach((v, i) => assert.ok(Math.abs(v - gRef[i]!) < 1e-6));
});
