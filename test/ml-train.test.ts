import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runTrainNode, type RunTrainOptions } from '../src/ml/run.js';
import { trainParamsSchema } from '../src/ml/train-params.js';
import { readTree, stableMeta, write2d, writeImages, writeMulticlass, writeTokens } from './helpers/ml-fixtures.js';
import { removeDir, tempDir } from './helpers/stage-context.js';

/**
 * Training behaviour on tiny data sets (cpu backend for tfjs): separable
 * sets are fitted, runs are deterministic, a killed run resumes from its
 * checkpoint with the same results as an uninterrupted one, and the float64
 * JavaScript 2D trainer agrees with the tfjs implementation.
 */

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));
const tmp = (p: string) => {
  const d = tempDir(p);
  dirs.push(d);
  return d;
};

const d2 = write2d(16);
const img = writeImages({ train: 16, test: 8, other: 8, noise: 4, size: 8 });
const multi = writeMulticlass({ perClass: 4, test: 6, classes: 3, size: 4 });
const tok = writeTokens({ train: 32, test: 8, len: 10, vocab: 24 });
dirs.push(d2, img, multi, tok);

type Raw = Record<string, unknown>;
const base2d: Raw = { model: 'mlp2d', epochs: 12, batch_size: 8, lr: 'inverse_sigma_max', seed: 1, weight_ratio: 0.25, eval: { points: 5, grid: 8 } };
const baseCnn: Raw = {
  model: 'cnn',
  width: 1 / 16,
  epochs: 4,
  batch_size: 4,
  lr: 0.05,
  seed: 2,
  weight_ratio: 4,
  dropout: 0.5,
  eval: { points: 3 },
  backend: 'cpu',
};

async function train(raw: Raw, dataDir: string, extra: Partial<RunTrainOptions> = {}): Promise<{ out: string; logs: string[]; meta: Record<string, unknown> }> {
  const out = tmp('iwdl-ml-out-');
  const logs: string[] = [];
  const meta = await runTrainNode({ params: trainParamsSchema.parse(raw), dataDir, outDir: out, log: (l) => logs.push(l), threads: 1, ...extra });
  return { out, logs, meta };
}

const csv = (out: string) => readFileSync(join(out, 'metrics.csv'), 'utf8');
const lastRow = (out: string, set: string) => csv(out).trim().split('\n').filter((l) => l.split(',')[1] === set).pop()!.split(',');

test('separable sets are fitted: 100% training accuracy (JS 2D trainer, tfjs MLP, CNN, transformer with SGD)', async () => {
  for (const model of ['logistic', 'mlp2d']) {
    // The classes sit far from the origin, so the bias moves slowly: a few hundred epochs (milliseconds here).
    const { out, meta } = await train({ ...base2d, model, epochs: 300 }, d2);
    assert.equal(lastRow(out, 'train')[4], '1', `${model}: ${csv(out)}`);
    assert.equal((meta.backend as { backend: string }).backend, 'js');
  }
  const m = await train({ model: 'mlp', width: 1 / 8, epochs: 40, batch_size: 4, lr: 0.05, seed: 1, backend: 'cpu', eval: { points: 3 } }, multi);
  assert.equal(lastRow(m.out, 'train')[4], '1', csv(m.out));
  const c = await train({ ...baseCnn, dropout: 0, epochs: 10, weight_ratio: null }, img);
  assert.equal(lastRow(c.out, 'train')[4], '1', csv(c.out));
  // The transformer learns with plain SGD from its default init (BERT's N(0, 0.02²) would not: see transformer.ts).
  const t = await train({ model: 'transformer', width: 1 / 8, epochs: 30, batch_size: 8, lr: 0.1, seed: 1, backend: 'cpu', eval: { points: 2 } }, tok);
  assert.equal(lastRow(t.out, 'train')[4], '1', csv(t.out));
});

test('same seed, same params: identical outputs; another seed differs; no tensors leak', async () => {
  const a = await train(baseCnn, img);
  const tf = await import('@tensorflow/tfjs');
  const live = tf.memory().numTensors;
  const b = await train(baseCnn, img);
  assert.equal(tf.memory().numTensors, live, 'a finished run leaves no tensors behind');
  assert.deepEqual(readTree(a.out, (r) => r === 'meta.json'), readTree(b.out, (r) => r === 'meta.json'));
  assert.deepEqual(stableMeta(a.out), stableMeta(b.out));
  const c = await train({ ...baseCnn, seed: 3 }, img);
  assert.notEqual(csv(a.out), csv(c.out));
  const j1 = await train({ ...base2d, dropout: 0.5 }, d2);
  const j2 = await train({ ...base2d, dropout: 0.5 }, d2);
  assert.deepEqual(readTree(j1.out, (r) => r === 'meta.json'), readTree(j2.out, (r) => r === 'meta.json'));
});

async function killAndResume(raw: Raw, dataDir: string, killAt: number, every: number): Promise<void> {
  const whole = await train(raw, dataDir);
  const ckpt = tmp('iwdl-ml-ckpt-');
  await assert.rejects(
    train(raw, dataDir, {
      checkpointDir: ckpt,
      checkpointEveryEpochs: every,
      progress: (done) => {
        if (done === killAt) throw new Error('killed');
      },
    }),
    /killed/,
  );
  const resumed = await train(raw, dataDir, { checkpointDir: ckpt, checkpointEveryEpochs: every });
  const from = Math.floor((killAt - 1) / every) * every;
  assert.ok(resumed.logs.some((l) => l.includes(`resumed from the checkpoint after epoch ${from} `)), resumed.logs.join('\n'));
  assert.deepEqual(readTree(resumed.out, (r) => r === 'meta.json'), readTree(whole.out, (r) => r === 'meta.json'));
  assert.deepEqual(stableMeta(resumed.out), stableMeta(whole.out));
}

test('a killed run resumes from its checkpoint with identical results (JS trainer: Adam, dropout, surfaces)', async () => {
  await killAndResume({ ...base2d, optimizer: { name: 'adam' }, lr: 0.01, dropout: 0.5 }, d2, 8, 3);
  await killAndResume({ ...base2d, model: 'logistic', eval: { points: 4, snapshots: [2, 5, 9] } }, d2, 10, 4);
});

test('a killed run resumes from its checkpoint with identical results (tfjs: batch norm, Adam, dropout)', async () => {
  await killAndResume(
    { ...baseCnn, model: 'resnet-bn', dropout: 0.5, optimizer: { name: 'adam' }, lr: 1e-3, epochs: 3, eval: { points: 3, include_initial: false } },
    img,
    3,
    2,
  );
});

test('the JS 2D trainer and tfjs agree (same init, order, dropout masks; float64 vs float32)', async () => {
  for (const extra of [{ dropout: 0.5 }, { model: 'logistic', l2: 0.001 }, { optimizer: { name: 'adam' }, lr: 0.01, reduction: 'weighted_mean' }]) {
    const raw = { ...base2d, epochs: 6, ...extra };
    const js = await train(raw, d2);
    const tj = await train({ ...raw, backend: 'cpu' }, d2);
    const rows = (o: string) => csv(o).trim().split('\n').slice(1).map((l) => l.split(','));
    const a = rows(js.out);
    const b = rows(tj.out);
    assert.equal(a.length, b.length);
    a.forEach((r, i) => {
      assert.deepEqual(r.slice(0, 5), b[i]!.slice(0, 5), `row ${i} ${JSON.stringify(extra)}`);
      assert.ok(Math.abs(Number(r[6]) - Number(b[i]![6])) < 1e-4 * Math.max(1, Math.abs(Number(r[6]))), `loss ${r[6]} vs ${b[i]![6]}`);
    });
    const s1 = readFileSync(join(js.out, 'surface.npy'));
    const s2 = readFileSync(join(tj.out, 'surface.npy'));
    const f1 = new Float32Array(s1.buffer, s1.byteOffset + 128, (s1.length - 128) / 4);
    const f2 = new Float32Array(s2.buffer, s2.byteOffset + 128, (s2.length - 128) / 4);
    let worst = 0;
    for (let i = 0; i < f1.length; i++) worst = Math.max(worst, Math.abs(f1[i]! - f2[i]!));
    assert.ok(worst < 1e-4, `surfaces differ by ${worst}`);
  }
});
