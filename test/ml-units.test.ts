import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stratifiedLimit, sigmaMaxOf } from '../src/ml/data.js';
import { evaluateLogits, metricsCsv } from '../src/ml/evaluate.js';
import { crossEntropyHost, softplus, weightedCrossEntropyHost } from '../src/ml/loss.js';
import { evalEpochs, logSpacedEpochs, snapshotEpochs } from '../src/ml/schedule.js';
import { closestHullPoints, convexHull, hardMarginSvm2d } from '../src/ml/svm.js';
import { gridFor, gridPoints } from '../src/ml/surface.js';
import { trainParamsSchema, effectiveBackend } from '../src/ml/train-params.js';
import { epochOrder, formatDuration } from '../src/ml/train.js';
import { resolveClassWeights } from '../src/ml/weights.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('eval schedule: log-spaced epochs, the last epoch, epoch 0 and extras', () => {
  assert.deepEqual(logSpacedEpochs(1000, 4), [1, 10, 100, 1000]);
  assert.deepEqual(logSpacedEpochs(1, 30), [1]);
  assert.deepEqual(logSpacedEpochs(0, 5), []);
  const e = evalEpochs(10000, { points: 30, include_initial: true, epochs: [5, 20000] });
  assert.equal(e[0], 0);
  assert.equal(e[e.length - 1], 10000);
  assert.ok(e.includes(5) && !e.includes(20000));
  assert.deepEqual([...e].sort((a, b) => a - b), e, 'sorted');
  assert.equal(new Set(e).size, e.length, 'unique');
  // Roughly even on a log axis: consecutive ratios bounded.
  for (let i = 2; i < e.length; i++) assert.ok(e[i]! / e[i - 1]! <= 1.5 || e[i]! - e[i - 1]! <= 1, `${e[i - 1]} -> ${e[i]}`);
  assert.deepEqual(evalEpochs(7, { points: 3, include_initial: false, epochs: [] }), [1, 3, 7]);
  assert.deepEqual(snapshotEpochs(10000, 'decades'), [1, 10, 100, 1000, 10000]);
  assert.deepEqual(snapshotEpochs(50, 'decades'), [1, 10, 50]);
  assert.deepEqual(snapshotEpochs(50, [0, 5, 60]), [0, 5, 50]);
});

test('weighted cross-entropy (host) matches a hand computation', () => {
  // Binary: logits 2, -1, 0.5; labels 1, 0, 0; class weights [0.25, 1].
  const l = [Math.log(1 + Math.exp(-2)), Math.log(1 + Math.exp(-1)), Math.log(1 + Math.exp(0.5))];
  const w = [1, 0.25, 0.25];
  close(weightedCrossEntropyHost([2, -1, 0.5], 1, [1, 0, 0], [0.25, 1]), (w[0]! * l[0]! + w[1]! * l[1]! + w[2]! * l[2]!) / 3);
  close(weightedCrossEntropyHost([2, -1, 0.5], 1, [1, 0, 0], [0.25, 1], 'weighted_mean'), (w[0]! * l[0]! + w[1]! * l[1]! + w[2]! * l[2]!) / 1.5);
  // Multiclass: softmax cross-entropy.
  const z = [1, 2, 3, 0, 0, 0];
  const ce = crossEntropyHost(z, 3, [2, 0]);
  close(ce[0]!, -Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3))));
  close(ce[1]!, Math.log(3));
  close(softplus(800), 800);
  close(softplus(-800), 0);
});

test('class weights: explicit, ratio, rho, rebalance', () => {
  const none = { class_weights: null, weight_ratio: null, rho: null, focus_class: null, rebalance: false };
  assert.deepEqual(resolveClassWeights(none, ['cat', 'dog'], {}), [1, 1]);
  assert.deepEqual(resolveClassWeights({ ...none, weight_ratio: 0.25 }, ['cat', 'dog'], {}), [1, 0.25]);
  assert.deepEqual(resolveClassWeights({ ...none, weight_ratio: 4 }, ['cat', 'dog'], {}), [0.25, 1]);
  const rho = resolveClassWeights({ ...none, rho: 0.1, focus_class: 3 }, Array.from({ length: 10 }, (_, i) => `c${i}`), {});
  assert.equal(rho[3], 0.1);
  close(rho[0]!, 0.1);
  close(rho.reduce((a, b) => a + b, 0), 1);
  assert.deepEqual(resolveClassWeights({ ...none, rebalance: true }, ['cat', 'dog'], { subsample: { class: 'dog', ratio: 0.125 } }), [0.125, 1]);
  assert.throws(() => resolveClassWeights({ ...none, rebalance: true }, ['cat', 'dog'], {}), /not sub-sampled/);
  assert.throws(() => resolveClassWeights({ ...none, class_weights: [1] }, ['cat', 'dog'], {}), /1 entries for 2 classes/);
});

test('metrics of one evaluation set: fractions, accuracy, label-shift weighted accuracy', () => {
  const ctx = { outputs: 1, classWeights: [1, 0.25], focusClass: 1, reduction: 'mean' as const };
  const { row, predictions } = evaluateLogits(3, 'test', [1, -1, 2, -0.5], Int32Array.from([1, 1, 0, 0]), ctx);
  assert.deepEqual([...predictions], [1, 0, 1, 0]);
  assert.equal(row.frac_second, 0.5);
  assert.equal(row.accuracy, 0.5);
  // correct: example 0 (class 1, w .25) and 3 (class 0, w 1): (0.25 + 1) / (0.25 + 0.25 + 1 + 1)
  close(row.weighted_accuracy!, 1.25 / 2.5);
  const unl = evaluateLogits(3, 'noise', [1, -1], null, ctx).row;
  assert.equal(unl.accuracy, null);
  assert.equal(unl.frac_second, 0.5);
  const csv = metricsCsv([row, unl]);
  assert.equal(csv.split('\n')[0], 'epoch,eval_set,n,frac_second,accuracy,weighted_accuracy,loss');
  assert.match(csv.split('\n')[2]!, /^3,noise,2,0.5,,,$/);
  // Multiclass: fraction predicted as the focus class; arg max.
  const m = evaluateLogits(1, 'test', [0, 5, 1, 9, 0, 0], Int32Array.from([1, 0]), { ...ctx, outputs: 3, classWeights: [0.5, 0.25, 0.25], focusClass: 0 });
  assert.deepEqual([...m.predictions], [1, 0]);
  assert.equal(m.row.frac_second, 0.5);
  assert.equal(m.row.accuracy, 1);
});

test('hard-margin SVM: known answers, support vectors, non-separable sets', () => {
  // Two points: the separator is their perpendicular bisector x = 0, margin 1.
  let r = hardMarginSvm2d([-1, 0, 1, 0], [0, 1]);
  assert.ok(r.separable);
  close(r.w![0], 1);
  close(r.w![1], 0);
  close(r.b!, 0);
  close(r.margin!, 1);
  // Squares at x in [-3,-1] and [2,4] (y in [0,1]) plus an outlier that moves the margin: closest points (-1, y) and (2, y).
  const neg = [-3, 0, -1, 0, -3, 1, -1, 1];
  const pos = [2, 0, 4, 0, 2, 1, 4, 1];
  r = hardMarginSvm2d([...neg, ...pos], [0, 0, 0, 0, 1, 1, 1, 1]);
  close(r.margin!, 1.5);
  close(r.w![0], 2 / 3);
  close(r.w![1], 0);
  close(-r.b! / r.w![0], 0.5); // the boundary x = 0.5
  assert.deepEqual(r.support_vectors, [1, 3, 4, 6]);
  // Diagonal: classes {(0,0)} and {(1,1),(2,0),(0,2)}: closest point of the segment (2,0)-(0,2) is (1,1).
  r = hardMarginSvm2d([0, 0, 2, 0, 0, 2, 1, 1], [0, 1, 1, 1]);
  close(r.w![0], 1);
  close(r.w![1], 1);
  close(r.b!, -1);
  // Every point satisfies the margin constraint.
  const x = [0, 0, 2, 0, 0, 2, 1, 1];
  const y = [0, 1, 1, 1];
  for (let i = 0; i < 4; i++) assert.ok((y[i] ? 1 : -1) * (r.w![0] * x[2 * i]! + r.w![1] * x[2 * i + 1]! + r.b!) >= 1 - 1e-9);
  // Interleaved (a cross): not separable, even though no vertex of one hull is inside the other.
  r = hardMarginSvm2d([-2, 0, 2, 0, 0, -2, 0, 2], [0, 0, 1, 1]);
  assert.equal(r.separable, false);
  assert.equal(r.w, null);
  assert.equal(convexHull([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]]).length, 4);
  assert.deepEqual(closestHullPoints([[0, 0]], [[3, 4]]), [[0, 0], [3, 4]]);
});

test('grid of a decision surface; σmax; stratified train_limit; epoch order', () => {
  const g = gridFor([0, 0, 10, 20], 3);
  assert.deepEqual(g, { size: 3, x: [-1, 11], y: [-2, 22] });
  const p = gridPoints(g);
  assert.deepEqual([p[0], p[1], p[2], p[3], p[6], p[7]], [-1, -2, 5, -2, -1, 10]);
  // σmax of [[3, 0], [0, 4]] is 4; power iteration for D > 2 agrees with the closed form.
  close(sigmaMaxOf([3, 0, 0, 4], 2), 4);
  close(sigmaMaxOf([3, 0, 0, 0, 4, 0, 0, 0, 1], 3), 4, 1e-6);
  const y = Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(stratifiedLimit(y, 2, 4), [0, 1, 6, 7]);
  assert.equal(stratifiedLimit(y, 2, 5).length, 5);
  assert.deepEqual([...epochOrder(1, 3, 10)], [...epochOrder(1, 3, 10)]);
  assert.notDeepEqual([...epochOrder(1, 3, 10)], [...epochOrder(1, 4, 10)]);
  assert.deepEqual([...epochOrder(1, 3, 10)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(65), '1m05s');
});

test('train params: defaults, exclusive weight sources, js only for 2D models', () => {
  const p = trainParamsSchema.parse({ model: 'cnn', epochs: 1, batch_size: 16, lr: 0.1, seed: 1 });
  assert.equal(p.width, 1);
  assert.deepEqual(p.optimizer, { name: 'sgd' });
  assert.equal(p.eval.points, 30);
  assert.equal(effectiveBackend(p), 'auto');
  assert.equal(p.lr_unweighted, null);
  assert.equal(effectiveBackend({ model: 'mlp2d', backend: 'auto' }), 'js');
  const a = trainParamsSchema.parse({ model: 'cnn', epochs: 1, batch_size: 16, lr: 1e-4, seed: 1, optimizer: { name: 'adam' } });
  assert.deepEqual(a.optimizer, { name: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  assert.throws(() => trainParamsSchema.parse({ model: 'cnn', epochs: 1, batch_size: 16, lr: 0.1, seed: 1, weight_ratio: 2, rebalance: true }), /at most one/);
  assert.throws(() => trainParamsSchema.parse({ model: 'cnn', epochs: 1, batch_size: 16, lr: 0.1, seed: 1, backend: 'js' }), /trains only/);
  assert.throws(() => trainParamsSchema.parse({ model: 'mlp', epochs: 1, batch_size: 16, lr: 0.1, seed: 1, rho: 0.5 }), /focus_class/);
  assert.throws(() => trainParamsSchema.parse({ model: 'cnn', epochs: 1, batch_size: 16, lr: 0.1, seed: 1, bogus: 1 }), /bogus/);
});
