import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { readNpy, writeNpy, npyArray } from '../src/data/npy.js';
import { METRIC_COLUMNS } from '../src/ml/evaluate.js';
import train from '../stages/train.js';
import { readTree, stableMeta, write2d, writeImages, writeMulticlass, writeTokens } from './helpers/ml-fixtures.js';
import { removeDir, runStage, tempDir } from './helpers/stage-context.js';

/**
 * The train stage end to end on tiny preprocess-layout fixtures: the output
 * contract (metrics.csv, predictions/, meta.json, and the 2D files), the
 * environment facts, resuming through the node's checkpoint directory, and
 * a user-supplied pretrained checkpoint.
 */

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));
const d2 = write2d(12);
const img = writeImages({ train: 12, test: 6, other: 8, noise: 5, size: 8 });
const multi = writeMulticlass({ perClass: 3, test: 10, classes: 10, size: 4 });
const tok = writeTokens({ train: 12, test: 6, len: 10, vocab: 24 });
dirs.push(d2, img, multi, tok);

async function run(params: Record<string, unknown>, data: string, opts: { checkpointDir?: string } = {}) {
  const root = tempDir('iwdl-ml-stage-');
  dirs.push(root);
  const r = await runStage(train, params, { inputs: { data: [data] }, root, ...opts });
  return r;
}

function rows(out: string): string[][] {
  const [head, ...rest] = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.equal(head, METRIC_COLUMNS.join(','));
  return rest.map((l) => l.split(','));
}

test('environment facts: the JS trainer for 2D models, the tfjs backend otherwise', async () => {
  const env = (p: Record<string, unknown>) => train.environment!(train.params!.parse(p));
  const base = { epochs: 1, batch_size: 8, lr: 0.1, seed: 1 };
  assert.deepEqual(await env({ ...base, model: 'mlp2d' }), { backend: 'js', version: 'float64.1' });
  const cpu = await env({ ...base, model: 'cnn', backend: 'cpu' });
  assert.equal(cpu.backend, 'cpu');
  assert.match(cpu.version!, /^\d+\.\d+\.\d+/);
  assert.equal((await env({ ...base, model: 'mlp2d', backend: 'cpu' })).backend, 'cpu');
});

test('2D node: metrics, predictions, decision surfaces, SVM, logistic boundaries', async () => {
  const p = { model: 'logistic', epochs: 20, batch_size: 8, lr: 'inverse_sigma_max', seed: 1, weight_ratio: 0.125, eval: { points: 4, grid: 16, snapshots: [5] } };
  const r = await run(p, d2);
  const out = r.outDir;
  const rs = rows(out);
  assert.deepEqual([...new Set(rs.map((x) => x[1]))], ['train']);
  assert.deepEqual(rs.map((x) => Number(x[0])), [0, 1, 3, 7, 20]);
  const pred = readNpy(join(out, 'predictions', 'train.npy'));
  assert.equal(pred.dtype, '|u1');
  assert.deepEqual(pred.shape, [24]);
  const surface = readNpy(join(out, 'surface.npy'));
  assert.equal(surface.dtype, '<f4');
  assert.deepEqual(surface.shape, [2, 16, 16]);
  assert.ok([...(surface.data as Float32Array)].every((v) => v >= 0 && v <= 1));
  const sj = JSON.parse(readFileSync(join(out, 'surface.json'), 'utf8'));
  assert.deepEqual(sj.epochs, [5, 20]);
  assert.equal(sj.G, 16);
  const svm = JSON.parse(readFileSync(join(out, 'svm.json'), 'utf8'));
  assert.equal(svm.separable, true);
  assert.ok(svm.margin > 0 && svm.support_vectors.length >= 2);
  const b = JSON.parse(readFileSync(join(out, 'boundary.json'), 'utf8'));
  assert.deepEqual(b.snapshots.map((s: { epoch: number }) => s.epoch), [5, 20]);
  assert.deepEqual(b.evals.map((s: { epoch: number }) => s.epoch), [0, 1, 3, 7, 20]);
  // The boundary at the last epoch predicts exactly the saved predictions.
  const last = b.snapshots[1];
  const x = readNpy(join(d2, 'train_x.npy')).data as Float32Array;
  for (let i = 0; i < 24; i++) assert.equal(last.w[0] * x[2 * i]! + last.w[1] * x[2 * i + 1]! + last.b > 0 ? 1 : 0, pred.data[i]);
  const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
  assert.deepEqual(meta.class_weights, [1, 0.125]);
  assert.equal(meta.epochs_run, 20);
  assert.equal(meta.model.num_params, 3);
  assert.equal(meta.backend.backend, 'js');
  assert.ok(meta.lr > 0 && Math.abs(meta.lr - 1 / meta.sigma_max) < 1e-12);
  assert.equal(typeof meta.seconds, 'number');
  assert.equal(meta.final.train_accuracy, Number(rs[rs.length - 1]![4]));
  assert.ok(r.progress.length === 20 && r.progress[19]!.info!.epoch === 20);
  assert.ok(['loss', 'acc', 'eta'].every((k) => k in r.progress[0]!.info!));
});

test('binary image node (CNN): train, test, other and noise sets; uint8 predictions', async () => {
  const p = { model: 'cnn', width: 1 / 16, epochs: 2, batch_size: 4, lr: 0.1, seed: 1, weight_ratio: 0.25, l2: 0.001, eval: { points: 2 }, backend: 'cpu' };
  const out = (await run(p, img)).outDir;
  const rs = rows(out);
  assert.deepEqual([...new Set(rs.map((x) => x[1]))], ['train', 'test', 'other', 'noise']);
  assert.deepEqual([...new Set(rs.map((x) => x[0]))], ['0', '1', '2']);
  const other = rs.find((x) => x[1] === 'other')!;
  assert.equal(other[2], '8');
  assert.deepEqual(other.slice(4), ['', '', '']);
  const test1 = rs.find((x) => x[1] === 'test')!;
  assert.ok(test1[4] !== '' && test1[5] !== '' && test1[6] !== '');
  for (const [set, n] of [['train', 12], ['test', 6], ['other', 8], ['noise', 5]] as const) {
    const a = readNpy(join(out, 'predictions', `${set}.npy`));
    assert.equal(a.dtype, '|u1');
    assert.deepEqual(a.shape, [n]);
  }
  assert.ok(!existsSync(join(out, 'surface.npy')));
  const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
  assert.equal(meta.backend.backend, 'cpu');
  assert.equal(meta.data.normalization.mean.length, 3);
});

test('multiclass node (MLP, rho): focus-class fraction, label-shift weighted accuracy, int32 predictions', async () => {
  const p = { model: 'mlp', width: 1 / 16, epochs: 2, batch_size: 8, lr: 0.01, lr_unweighted: 0.5, seed: 1, rho: 0.9, focus_class: 4, eval: { points: 2 }, backend: 'cpu' };
  const out = (await run(p, multi)).outDir;
  const rs = rows(out);
  assert.deepEqual([...new Set(rs.map((x) => x[1]))], ['train', 'test']);
  const pred = readNpy(join(out, 'predictions', 'test.npy'));
  assert.equal(pred.dtype, '<i4');
  const last = rs[rs.length - 1]!;
  assert.equal(Number(last[3]), [...(pred.data as Int32Array)].filter((c) => c === 4).length / 10);
  const y = readNpy(join(multi, 'test_y.npy')).data as Int32Array;
  const w = (c: number) => (c === 4 ? 0.9 : 0.1 / 9);
  let num = 0;
  let den = 0;
  y.forEach((c, i) => {
    den += w(c);
    if (pred.data[i] === c) num += w(c);
  });
  assert.ok(Math.abs(Number(last[5]) - num / den) < 1e-12);
  const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
  assert.equal(meta.focus_class, 4);
  assert.equal(meta.lr, 0.01, 'weighted: lr, not lr_unweighted');
  const flat = JSON.parse(readFileSync(join((await run({ ...p, rho: null, focus_class: null, epochs: 0 }, multi)).outDir, 'meta.json'), 'utf8'));
  assert.equal(flat.lr, 0.5, 'unweighted: lr_unweighted');
});

test('token node (transformer) runs, and a pretrained checkpoint initializes it', async () => {
  const base = { model: 'transformer', width: 1 / 8, epochs: 0, batch_size: 4, lr: 0.01, seed: 5, eval: { points: 1 }, backend: 'cpu' };
  const fresh = await run({ ...base, epochs: 1, dropout: 0.1 }, tok);
  assert.deepEqual([...new Set(rows(fresh.outDir).map((x) => x[1]))], ['train', 'test']);

  // Export the seed-5 initialization as a checkpoint; a seed-9 node loading it must evaluate like seed 5.
  const tf = await import('@tensorflow/tfjs');
  const { buildModel } = await import('../src/ml/models/index.js');
  const { transformerConfig } = await import('../src/ml/models/transformer.js');
  const spec = { inputShape: [10], numClasses: 2, width: 1 / 8, dropout: 0, seed: 5, options: { vocab_size: 24 } };
  const model = buildModel(tf, 'transformer', spec);
  const cfg = transformerConfig(spec);
  const ck = tempDir('iwdl-ml-pretrained-');
  dirs.push(ck);
  for (const [name, t] of Object.entries(await model.params.snapshot())) {
    const file = join(ck, `${name}.npy`);
    mkdirSync(dirname(file), { recursive: true });
    writeNpy(file, npyArray('<f4', t.shape, t.data as Float32Array));
  }
  writeFileSync(join(ck, 'config.json'), JSON.stringify({ layers: cfg.layers, d_model: cfg.d_model, heads: cfg.heads, ffn: cfg.ffn, max_positions: cfg.max_positions }));
  model.params.dispose();
  const a = await run(base, tok);
  const b = await run({ ...base, seed: 9, pretrained: ck }, tok);
  const c = await run({ ...base, seed: 9 }, tok);
  assert.equal(readFileSync(join(a.outDir, 'metrics.csv'), 'utf8'), readFileSync(join(b.outDir, 'metrics.csv'), 'utf8'));
  assert.notEqual(readFileSync(join(a.outDir, 'metrics.csv'), 'utf8'), readFileSync(join(c.outDir, 'metrics.csv'), 'utf8'));
  const env = await train.environment!(train.params!.parse({ ...base, pretrained: ck }));
  assert.match(env.pretrained_sha256!, /^[0-9a-f]{64}$/);
  writeFileSync(join(ck, 'vocab.json'), JSON.stringify(['x']));
  await assert.rejects(run({ ...base, pretrained: ck }, tok), /vocab.json differs/);
});

test('the stage resumes from the node checkpoint directory (IWDL_CHECKPOINT_EPOCHS)', async () => {
  const p = { model: 'mlp2d', epochs: 9, batch_size: 8, lr: 'inverse_sigma_max', seed: 4, dropout: 0.5, eval: { points: 4, grid: 8 } };
  const whole = await run(p, d2);
  process.env.IWDL_CHECKPOINT_EPOCHS = '2';
  try {
    const ckpt = tempDir('iwdl-ml-stage-ckpt-');
    dirs.push(ckpt);
    const killing = { ...train, run: (ctx: Parameters<typeof train.run>[0]) => train.run({ ...ctx, progress: (d, t, i) => { if (d === 7) throw new Error('killed'); ctx.progress(d, t, i); } }) };
    await assert.rejects(runStage(killing, p, { inputs: { data: [d2] }, checkpointDir: ckpt, root: tempDir('iwdl-ml-stage-') }), /killed/);
    assert.ok(existsSync(join(ckpt, 'train-state.ckpt')));
    const resumed = await run(p, d2, { checkpointDir: ckpt });
    assert.ok(resumed.logs.some((l) => l.startsWith('resumed from the checkpoint after epoch 6 ')), resumed.logs.join('\n'));
    assert.deepEqual(readTree(resumed.outDir, (f) => f === 'meta.json'), readTree(whole.outDir, (f) => f === 'meta.json'));
    assert.deepEqual(stableMeta(resumed.outDir), stableMeta(whole.outDir));
  } finally {
    delete process.env.IWDL_CHECKPOINT_EPOCHS;
  }
});
