import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { readDatasetMeta, readSplit } from '../src/data/dataset-io.js';
import { buildVocab, encodePairs, fetchMrpcFromUrls, MRPC_FILES, mrpcContentDigest, parseMrpc, tokenize, verifyMrpcBytes } from '../src/data/mrpc.js';
import { readProvenance } from '../src/data/provenance.js';
import download from '../stages/download.js';
import preprocess from '../stages/preprocess.js';
import { startServer, type TestServer } from './helpers/http-server.js';
import { removeDir, runStage, tempDir } from './helpers/stage-context.js';

// The offline copy of MRPC beside the repository (shared/ is a sibling of the repo root in CI).
const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SHARED_MRPC = resolve(repoRoot, '../shared/data/mrpc');
const haveShared = existsSync(join(SHARED_MRPC, 'msr_paraphrase_train.txt'));

const HEADER = 'Quality\t#1 ID\t#2 ID\t#1 String\t#2 String';
const ROWS = [
  '1\t10\t11\tThe cat sat on the mat.\tA cat was sitting on the mat.',
  '0\t12\t13\tShares rose 5 percent.\tThe company\'s shares fell.',
  '1\t14\t15\tHe said "no".\tHe refused.',
];
const tsv = (rows: string[], eol = '\r\n', bom = true) => (bom ? '\ufeff' : '') + [HEADER, ...rows].join(eol) + eol;

let dir: string;
let server: TestServer;
before(async () => {
  dir = tempDir('iwdl-mrpc-');
  server = await startServer();
});
after(async () => {
  await server.close();
  removeDir(dir);
});

test('mrpc: parses BOM + CRLF, skips placeholder rows with their line numbers', () => {
  const parsed = parseMrpc(tsv([...ROWS, '0\t-1\t-1\tI like green apples.\tI don\'t like green apples.']), 'train.txt');
  assert.equal(parsed.pairs.length, 3);
  assert.deepEqual(parsed.pairs[0], { label: 1, id1: 10, id2: 11, s1: 'The cat sat on the mat.', s2: 'A cat was sitting on the mat.', line: 2 });
  assert.deepEqual(parsed.skipped, [{ line: 5, reason: 'placeholder row with pair ids -1/-1 (not an MSRP pair)' }]);
});

test('mrpc: the content digest ignores BOM, line ends and placeholder rows, not content', () => {
  const a = mrpcContentDigest(tsv(ROWS));
  assert.equal(mrpcContentDigest(tsv(ROWS, '\n', false)), a);
  assert.equal(mrpcContentDigest(tsv([...ROWS, '1\t-1\t-1\tx\ty'])), a);
  assert.notEqual(mrpcContentDigest(tsv(ROWS.slice(1))), a);
});

test('mrpc: malformed lines fail with file:line', () => {
  assert.throws(() => parseMrpc(tsv([ROWS[0]!, '1\t10\t11\tonly four fields']), 'msr_paraphrase_train.txt'), /^Error: msr_paraphrase_train\.txt:3: expected 5 tab-separated fields .*found 4$/);
  assert.throws(() => parseMrpc(tsv(['2\t10\t11\ta\tb']), 'f.txt'), /f\.txt:2: label "2" out of range \(expected 0 or 1\)/);
  assert.throws(() => parseMrpc(tsv(['1\tx\t11\ta\tb']), 'f.txt'), /f\.txt:2: pair ids "x", "11" are not integers/);
  assert.throws(() => parseMrpc(tsv(['1\t10\t11\t \tb']), 'f.txt'), /f\.txt:2: empty sentence/);
  assert.throws(() => parseMrpc('id\tsentence\n', 'f.txt'), /f\.txt:1: expected the header/);
});

test('mrpc: tokenizer, vocabulary from training sentences, BERT-style pair encoding', () => {
  assert.deepEqual(tokenize('The company\'s shares ROSE 5.2%!'), ['the', "company's", 'shares', 'rose', '5', '.', '2', '%', '!']);
  const vocab = buildVocab([['b', 'a', 'b'], ['c', 'b', 'a']], { minCount: 2, maxSize: null });
  assert.deepEqual(vocab, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'b', 'a']);
  const enc = encodePairs([[['a', 'b', 'z'], ['b']]], vocab, 8);
  assert.deepEqual([...enc.ids], [2, 5, 4, 1, 3, 4, 3, 0]);
  assert.equal(enc.unknown, 1);
  const cut = encodePairs([[['a', 'a', 'a', 'a'], ['b', 'b']]], vocab, 7);
  assert.deepEqual([...cut.ids], [2, 5, 5, 3, 4, 4, 3]);
  assert.equal(cut.truncated, 1);
});

test('mrpc: a copy differing only in BOM / line ends verifies by content; other bytes do not', () => {
  if (!haveShared) return;
  const original = readFileSync(join(SHARED_MRPC, MRPC_FILES.test.name));
  assert.match(verifyMrpcBytes(original, 'test', 'mirror').verified, /^sha256:/);
  const lf = Buffer.from(original.toString('utf8').replace(/^\ufeff/, '').replace(/\r\n/g, '\n'));
  assert.match(verifyMrpcBytes(lf, 'test', 'url').verified, /^content-sha256:/);
  assert.throws(() => verifyMrpcBytes(Buffer.concat([lf, Buffer.from('1\t1\t2\ta\tb\n')]), 'test', 'url'), /checksum mismatch for url/);
});

test('mrpc download stage: from the mirror, verified, with provenance (skipped without shared/)', async (t) => {
  if (!haveShared) return t.skip(`no MRPC mirror at ${SHARED_MRPC}`);
  const dl = await runStage(download, { dataset: 'mrpc', sources: ['mirror', 'url'], mirror: SHARED_MRPC }, { root: join(dir, 'dl') });
  const p = readProvenance(dl.outDir)!;
  assert.equal(p.source.id, 'mirror');
  assert.equal(p.files[MRPC_FILES.train.name]!.sha256, MRPC_FILES.train.sha256);
  assert.equal(p.files[MRPC_FILES.train.name]!.verified, `sha256:${MRPC_FILES.train.sha256}`);

  const pre = await runStage(preprocess, { dataset: { kind: 'mrpc', max_len: 48 } }, { root: join(dir, 'pre'), inputs: { source: [dl.outDir] } });
  const meta = readDatasetMeta(pre.outDir);
  assert.deepEqual(meta.splits.train!.counts, { not_paraphrase: 1323, paraphrase: 2753 });
  assert.deepEqual(meta.splits.test!.counts, { not_paraphrase: 578, paraphrase: 1147 });
  assert.equal(pre.logs.filter((l) => /skipped placeholder row/.test(l)).length, 4);
  const train = readSplit(pre.outDir, 'train');
  assert.deepEqual(train.x.shape, [4076, 48]);
  assert.equal(train.x.dtype, '<i4');
  const vocab = JSON.parse(readFileSync(join(pre.outDir, 'vocab.json'), 'utf8')) as string[];
  assert.equal(vocab.length, (meta.details as { vocab_size: number }).vocab_size);
  assert.deepEqual(vocab.slice(0, 4), ['[PAD]', '[UNK]', '[CLS]', '[SEP]']);
});

test('mrpc download stage: a mirror with a wrong file falls through; all failing lists each reason', async (t) => {
  if (!haveShared) return t.skip(`no MRPC mirror at ${SHARED_MRPC}`);
  const bad = join(dir, 'bad-mirror');
  mkdirSync(bad, { recursive: true });
  writeFileSync(join(bad, MRPC_FILES.train.name), readFileSync(join(SHARED_MRPC, MRPC_FILES.train.name)));
  writeFileSync(join(bad, MRPC_FILES.test.name), tsv(ROWS));
  const root = join(dir, 'dl-bad');
  await assert.rejects(
    runStage(download, { dataset: 'mrpc', sources: ['mirror', 'url'], mirror: bad, urls: { train: server.url('/train.txt'), test: server.url('/test.txt') } }, { root }),
    (err: Error) => {
      assert.match(err.message.split('\n')[0]!, /^MRPC: all 2 sources failed: mirror \(.*bad-mirror\): checksum mismatch .*; url \(.*\): HTTP 404/);
      return true;
    },
  );
  assert.deepEqual(readdirSync(join(root, 'out')), []);
  // Served with LF line ends and no BOM, the canonical URL source verifies by content.
  const lf = (name: string) => Buffer.from(readFileSync(join(SHARED_MRPC, name), 'utf8').replace(/^\ufeff/, '').replace(/\r\n/g, '\n'));
  server.files.set('/train.txt', { body: lf(MRPC_FILES.train.name) });
  server.files.set('/test.txt', { body: lf(MRPC_FILES.test.name) });
  const ok = await runStage(download, { dataset: 'mrpc', sources: ['mirror', 'url'], mirror: bad, urls: { train: server.url('/train.txt'), test: server.url('/test.txt') } }, { root: join(dir, 'dl-url') });
  const p = readProvenance(ok.outDir)!;
  assert.equal(p.source.id, 'url');
  assert.match(p.files[MRPC_FILES.test.name]!.verified!, /^content-sha256:/);
  assert.ok(ok.logs.some((l) => /^MRPC: source mirror \(.*\) failed: checksum mismatch/.test(l)));
});

test('mrpc: URL downloads that fail verification leave nothing behind', async () => {
  server.files.set('/t1.txt', { body: Buffer.from(tsv(ROWS)) });
  const work = join(dir, 'work');
  const raw = join(dir, 'raw-x');
  await assert.rejects(fetchMrpcFromUrls({ train: server.url('/t1.txt'), test: server.url('/t1.txt') }, work, raw), /checksum mismatch/);
  assert.deepEqual(readdirSync(raw), []);
  assert.deepEqual(readdirSync(work), []);
});
