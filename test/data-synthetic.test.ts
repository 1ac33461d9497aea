import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { datasetMeta, readSplit } from '../src/data/dataset-io.js';
import { linearlySeparable, moons, overlappingGaussians, sigmaMax } from '../src/data/synthetic-2d.js';
import preprocess from '../stages/preprocess.js';
import { removeDir, runStage, tempDir } from './helpers/stage-context.js';

const linear = { nPerClass: 512, seed: 1, std: [1, 0.5] as const, truncate: 2, rotateDeg: 60, translate: [3.5, 3.5] as const };

test('linear-2d: 512 truncated-normal positives; negatives are them rotated and translated', () => {
  const set = linearlySeparable(linear);
  const x = set.splits.train!.x.data as Float32Array;
  const y = set.splits.train!.y!.data;
  assert.deepEqual(set.splits.train!.x.shape, [1024, 2]);
  assert.deepEqual(datasetMeta(set).splits.train!.counts, { negative: 512, positive: 512 });
  const t = (60 * Math.PI) / 180;
  for (let i = 0; i < 512; i++) {
    const [nx, ny] = [x[2 * i]!, x[2 * i + 1]!]; // negatives first
    const [px, py] = [x[2 * (512 + i)]!, x[2 * (512 + i) + 1]!];
    assert.equal(y[i], 0);
    assert.equal(y[512 + i], 1);
    assert.ok(Math.abs(px) <= 2 && Math.abs(py) <= 1, 'positives are truncated at 2 standard deviations');
    assert.ok(Math.abs(nx - (Math.cos(t) * px - Math.sin(t) * py + 3.5)) < 1e-5);
    assert.ok(Math.abs(ny - (Math.sin(t) * px + Math.cos(t) * py + 3.5)) < 1e-5);
  }
  assert.ok((set.details!.gap_along_translation as number) > 0);
  assert.equal(set.details!.sigma_max, sigmaMax(x));
  assert.throws(() => linearlySeparable({ ...linear, translate: [0.5, 0] }), /overlaps the positives/);
});

test('moons and overlapping Gaussians: sizes, labels, seeds', () => {
  const m = moons({ nPerClass: 100, seed: 2, noise: 0.1 });
  assert.deepEqual(datasetMeta(m).splits.train!.counts, { outer: 100, inner: 100 });
  const g = overlappingGaussians({ nPerClass: 300, seed: 2, means: [[-1, 0], [1, 0]], std: 1 });
  const means = datasetMeta(g).splits.train!.column_mean!;
  assert.ok(Math.abs(means[0]!) < 0.15 && Math.abs(means[1]!) < 0.15);
  assert.deepEqual(moons({ nPerClass: 10, seed: 2, noise: 0.1 }).splits.train!.x.data, moons({ nPerClass: 10, seed: 2, noise: 0.1 }).splits.train!.x.data);
  assert.notDeepEqual(moons({ nPerClass: 10, seed: 2, noise: 0.1 }).splits.train!.x.data, moons({ nPerClass: 10, seed: 3, noise: 0.1 }).splits.train!.x.data);
});

test('preprocess stage: 2D sets need no input and are the same bytes for the same seed', async () => {
  const digests = async (params: object) => {
    const root = tempDir();
    try {
      const run = await runStage(preprocess, { dataset: params }, { root });
      const out: Record<string, string> = {};
      for (const f of readdirSync(run.outDir).sort()) out[f] = createHash('sha256').update(readFileSync(join(run.outDir, f))).digest('hex');
      if ((params as { kind: string }).kind === 'linear-2d') {
        const { x } = readSplit(run.outDir, 'train');
        assert.equal(x.dtype, '<f4');
        assert.ok(run.logs.some((l) => l.startsWith('train: 1024 × 2 <f4; per class negative 512, positive 512')));
      }
      return out;
    } finally {
      removeDir(root);
    }
  };
  for (const kind of ['linear-2d', 'moons-2d', 'gaussians-2d']) {
    const a = await digests({ kind, seed: 5 });
    assert.deepEqual(Object.keys(a), ['meta.json', 'train_x.npy', 'train_y.npy']);
    assert.deepEqual(await digests({ kind, seed: 5 }), a);
    assert.notDeepEqual(await digests({ kind, seed: 6 }), a);
  }
});
