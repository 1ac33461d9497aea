import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as aq from 'arquero';
import aggregate from '../stages/aggregate.js';
import { clipLine } from '../src/figures/aggregate.js';
import { catdogExperiment, runStageWith, tmp, write2dData, writeRun, cleanupTmp } from './helpers/fig-fixtures.js';

after(cleanupTmp);

const rows = (dir: string, file: string) => aq.fromCSV(readFileSync(join(dir, file), 'utf8'), { parse: { eval_set: String } }).objects() as Array<Record<string, any>>;
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('aggregate: mean and sd over seeds per (weight, epoch, eval set); final epoch per weight', async () => {
  const root = tmp();
  const runs = catdogExperiment(root);
  const { outDir } = await runStageWith(aggregate, { experiment: 'catdog' }, { runs });
  const curves = rows(outDir, 'curves.csv');
  const c = curves.find((r) => r.weight === 4 && r.epoch === 1 && r.eval_set === 'test')!;
  assert.equal(c.n_runs, 2);
  close(c.frac_second_mean, 0.6);
  close(c.frac_second_sd, Math.sqrt(2 * 0.005 ** 2));
  close(c.accuracy_mean, 0.815);
  close(c.weighted_accuracy_mean, 0.7);
  assert.equal(c.dataset, 'cifar-binary');
  assert.equal(c.reg, 'none');
  const noise = curves.find((r) => r.weight === 0.25 && r.epoch === 10 && r.eval_set === 'noise')!;
  close(noise.frac_second_mean, 0.5 - 0.01);
  assert.equal(noise.accuracy_mean, null);
  const final = rows(outDir, 'final.csv');
  assert.equal(final.length, 3 * 4);
  assert.ok(final.every((r) => r.epoch === 100));
  close(final.find((r) => r.weight === 0.25 && r.eval_set === 'test')!.frac_second_mean, 0.5 - 0.001);
  const runsCsv = rows(outDir, 'runs.csv');
  assert.equal(runsCsv.length, 6);
  assert.deepEqual([...new Set(runsCsv.map((r) => r.weight))].sort(), [0.25, 1, 4]);
  assert.equal(runsCsv[0]!.second_class, 'dog');
  const prov = JSON.parse(readFileSync(join(outDir, 'inputs.json'), 'utf8'));
  assert.equal(prov.inputs.length, 6);
  assert.match(prov.inputs[0].files['metrics.csv'], /^[0-9a-f]{64}$/);
});

test('aggregate: agreement statistics of Section 3 match hand values', async () => {
  const root = tmp();
  const runs = catdogExperiment(root);
  const { outDir } = await runStageWith(aggregate, { experiment: 'catdog' }, { runs });
  const a = Object.fromEntries(rows(outDir, 'agreement.csv').map((r) => [r.eval_set, r]));
  // test: majority votes per weight (ties -> class 0): w=1/4 [0,0,1,1], w=1 [0,0,1,0], w=4 [1,0,0,1]
  close(a.test.weights_agreement, 0.75);
  close(a.test.seeds_agreement, 10.5 / 12);
  assert.equal(a.test.n_weights, 3);
  assert.equal(a.test.n_seeds_max, 2);
  close(a.other.weights_agreement, 1);
  close(a.other.seeds_agreement, 0.75);
  close(a.noise.frac_second, 1 / 18);
  assert.equal(a.noise.majority_class, 'cat');
  close(a.noise.majority_share, 17 / 18);
  close(a.noise.seeds_agreement, 8.5 / 9);
});

test('aggregate: 2D surfaces downsampled, boundary lines clipped, points from the data input', async () => {
  const root = tmp();
  const data = write2dData(root, 'linear-2d', [[0, 0], [1, 1], [2, 2], [3, 3]], [0, 0, 1, 1]);
  const twoD = { G: 8, x: [0, 4] as [number, number], y: [0, 4] as [number, number], epochs: [1, 10], surface: (_k: number, x: number) => (x > 2 ? 0.9 : 0.1) };
  const runs = [
    writeRun(root, { node: 'train-2d@mlp-w1', params: { model: 'mlp2d', seed: 0 }, kind: 'linear-2d', classes: ['negative', 'positive'], classWeights: [1, 1], rows: [{ epoch: 10, eval_set: 'train', frac_second: 0.5, accuracy: 1 }], twoD: { ...twoD, svm: { w: [1, 0], b: -2 } } }),
    writeRun(root, { node: 'train-2d@lr-w1', params: { model: 'logistic', seed: 0 }, kind: 'linear-2d', classes: ['negative', 'positive'], classWeights: [1, 1], rows: [{ epoch: 10, eval_set: 'train', frac_second: 0.5, accuracy: 1 }], twoD: { ...twoD, boundary: [{ epoch: 1, w: [0, 1], b: -1 }, { epoch: 10, w: [1, 1], b: -4 }] } }),
  ];
  const { outDir } = await runStageWith(aggregate, { experiment: '2d', grid: 4 }, { runs, data: [data] });
  const s = rows(outDir, 'surfaces.csv');
  assert.equal(s.length, 2 * 16);
  assert.ok(s.every((r) => r.model === 'mlp2d'));
  const cell = s.find((r) => r.epoch === 10 && r.x0 === 3 && r.y0 === 0)!;
  close(cell.p, 0.9, 1e-6);
  const lines = rows(outDir, 'lines.csv');
  const svm = lines.find((r) => r.line === 'max-margin separator')!;
  assert.deepEqual([svm.xa, svm.ya, svm.xb, svm.yb], [2, 0, 2, 4]);
  assert.equal(lines.filter((r) => r.line === 'logistic regression').length, 2);
  assert.equal(rows(outDir, 'points.csv').length, 4);
  assert.deepEqual(clipLine([1, 1], -4, [0, 4], [0, 4]), [0, 4, 4, 0]);
});
