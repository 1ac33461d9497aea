import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { extractTar, unsafeEntryReason } from '../src/data/archive.js';
import { checksum, downloadFile, DownloadError } from '../src/data/download.js';
import { expectedHex, expectedSri, formatExpected } from '../src/data/integrity.js';
import { AllSourcesFailedError, firstAvailable } from '../src/data/sources.js';
import { startServer, type TestServer } from './helpers/http-server.js';
import { removeDir, tempDir } from './helpers/stage-context.js';
import { rawTar } from './helpers/tar-builder.js';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.close();
});

const body = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 251));
const md5 = createHash('md5').update(body).digest('hex');
const sha512 = createHash('sha512').update(body).digest('base64');

test('integrity: SRI strings and hex digests parse and format back', () => {
  const e = expectedSri(`sha512-${sha512}`);
  assert.equal(e.algorithm, 'sha512');
  assert.equal(formatExpected(e), `sha512-${sha512}`);
  assert.equal(formatExpected(expectedHex('md5', md5.toUpperCase())), `md5:${md5}`);
  assert.throws(() => expectedHex('md5', 'xyz'), /not a hex md5 digest/);
  assert.throws(() => expectedSri('md5-abc'), /not an integrity string/);
});

test('download: fetches, reports byte progress, verifies, leaves only the verified file', async () => {
  server.files.set('/ok.bin', { body });
  const dir = tempDir();
  try {
    const progress: number[] = [];
    const dest = join(dir, 'ok.bin');
    const r = await downloadFile(server.url('/ok.bin'), dest, { verify: checksum(expectedHex('md5', md5)), onProgress: (p) => progress.push(p.done) });
    assert.deepEqual(readFileSync(dest), body);
    assert.equal(r.size, body.length);
    assert.equal(r.verified, `md5:${md5}`);
    assert.equal(progress.at(-1), body.length);
    assert.deepEqual(readdirSync(dir), ['ok.bin']);
  } finally {
    removeDir(dir);
  }
});

test('download: a dropped connection keeps the partial file, and the next attempt resumes with Range', async () => {
  server.files.set('/cut.bin', { body, cutAfter: 30_000 });
  const dir = tempDir();
  try {
    const dest = join(dir, 'cut.bin');
    const verify = checksum(expectedSri(`sha512-${sha512}`));
    await assert.rejects(downloadFile(server.url('/cut.bin'), dest, { verify }), (err: Error) => {
      assert.ok(err instanceof DownloadError);
      assert.match(err.message, /partial file kept for resuming/);
      return true;
    });
    assert.equal(existsSync(dest), false);
    const partial = statSync(`${dest}.part`).size;
    assert.ok(partial > 0 && partial < body.length);
    server.files.set('/cut.bin', { body });
    server.requests.length = 0;
    const r = await downloadFile(server.url('/cut.bin'), dest, { verify });
    assert.equal(r.resumedFrom, partial);
    assert.equal(server.requests[0]?.range, `bytes=${partial}-`);
    assert.deepEqual(readFileSync(dest), body);
    assert.equal(existsSync(`${dest}.part`), false);
  } finally {
    removeDir(dir);
  }
});

test('download: a server that ignores Range makes it start over, still verified', async () => {
  server.files.set('/norange.bin', { body, ignoreRange: true });
  const dir = tempDir();
  try {
    const dest = join(dir, 'norange.bin');
    writeFileSync(`${dest}.part`, body.subarray(0, 1000));
    writeFileSync(`${dest}.part.json`, JSON.stringify({ url: server.url('/norange.bin') }));
    await downloadFile(server.url('/norange.bin'), dest, { verify: checksum(expectedHex('md5', md5)) });
    assert.deepEqual(readFileSync(dest), body);
  } finally {
    removeDir(dir);
  }
});

test('download: checksum mismatch and HTTP errors fail with a one-line reason and leave nothing', async () => {
  server.files.set('/bad.bin', { body: Buffer.from('not the file') });
  const dir = tempDir();
  try {
    const dest = join(dir, 'bad.bin');
    await assert.rejects(downloadFile(server.url('/bad.bin'), dest, { verify: checksum(expectedHex('md5', md5)) }), /checksum mismatch .* md5 .* expected/);
    await assert.rejects(downloadFile(server.url('/missing.bin'), dest, { verify: checksum(expectedHex('md5', md5)) }), /HTTP 404/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    removeDir(dir);
  }
});

test('download: connection refused is a network error', async () => {
  const dir = tempDir();
  try {
    await assert.rejects(
      downloadFile('http://127.0.0.1:9/nothing', join(dir, 'x'), { verify: checksum(expectedHex('md5', md5)) }),
      /network error/,
    );
  } finally {
    removeDir(dir);
  }
});

test('sources: a failing source falls through to the next, with its reason logged', async () => {
  const log: string[] = [];
  const r = await firstAvailable(
    'DATA',
    [
      { id: 'a', location: 'http://a', fetch: async () => Promise.reject(new Error('HTTP 404 Not Found\nmore detail')) },
      { id: 'b', location: 'pkg@1', fetch: async () => 42 },
    ],
    (l) => log.push(l),
  );
  assert.equal(r.value, 42);
  assert.equal(r.source.id, 'b');
  assert.deepEqual(r.attempts.map((a) => [a.id, a.ok, a.reason]), [
    ['a', false, 'HTTP 404 Not Found'],
    ['b', true, undefined],
  ]);
  assert.ok(log.includes('DATA: source a (http://a) failed: HTTP 404 Not Found'));
});

test('sources: when all fail, the first line of the error names every source and why', async () => {
  await assert.rejects(
    firstAvailable(
      'DATA',
      [
        { id: 'a', location: 'http://a', fetch: async () => Promise.reject(new Error('network error: ENOTFOUND')) },
        { id: 'b', location: 'pkg@1', fetch: async () => Promise.reject(new Error('checksum mismatch')) },
      ],
      () => {},
    ),
    (err: Error) => {
      assert.ok(err instanceof AllSourcesFailedError);
      assert.equal(err.message.split('\n')[0], 'DATA: all 2 sources failed: a (http://a): network error: ENOTFOUND; b (pkg@1): checksum mismatch');
      return true;
    },
  );
});

test('archive: unsafe entry paths are recognised', () => {
  assert.equal(unsafeEntryReason('cifar-10-batches-bin/data_batch_1.bin'), undefined);
  assert.equal(unsafeEntryReason('/etc/passwd'), 'absolute path');
  assert.equal(unsafeEntryReason('C:\\x'), 'absolute path');
  assert.equal(unsafeEntryReason('package/../../x'), "'..' segment");
  assert.equal(unsafeEntryReason('a\\..\\b'), "'..' segment");
});

test('archive: extracts only the listed members, to flat names', async () => {
  const dir = tempDir();
  try {
    const archive = join(dir, 'a.tgz');
    writeFileSync(archive, rawTar([{ name: 'package/', type: '5' }, { name: 'package/a.txt', data: 'A' }, { name: 'package/b.txt', data: 'B' }]));
    const out = join(dir, 'out');
    assert.deepEqual(await extractTar(archive, out, { members: { 'package/a.txt': 'a.txt' } }), ['a.txt']);
    assert.deepEqual(readdirSync(out), ['a.txt']);
    await assert.rejects(extractTar(archive, join(dir, 'out2'), { members: { 'package/c.txt': 'c.txt' } }), /missing member package\/c\.txt/);
  } finally {
    removeDir(dir);
  }
});

for (const [what, entry] of [
  ["a '..' entry", { name: 'package/../../escaped.txt', data: 'x' }],
  ['an absolute path', { name: '/tmp/iwdl-absolute-escape.txt', data: 'x' }],
  ['a symbolic link', { name: 'package/link', type: '2', linkname: '/etc/passwd' }],
] as const) {
  test(`archive: rejects ${what}, writing nothing`, async () => {
    const dir = tempDir();
    try {
      const archive = join(dir, 'evil.tgz');
      writeFileSync(archive, rawTar([{ name: 'package/a.txt', data: 'A' }, entry]));
      const out = join(dir, 'deep', 'out');
      await assert.rejects(extractTar(archive, out, { members: { 'package/a.txt': 'a.txt' } }), /unsafe archive entries rejected/);
      assert.deepEqual(readdirSync(out), []);
      assert.equal(existsSync(join(dir, 'escaped.txt')), false);
      assert.equal(existsSync(join(dir, 'deep', 'escaped.txt')), false);
      assert.equal(existsSync('/tmp/iwdl-absolute-escape.txt'), false);
    } finally {
      removeDir(dir);
    }
  });
}

test('archive: a truncated archive fails to extract', async () => {
  const dir = tempDir();
  try {
    const archive = join(dir, 'cut.tgz');
    const full = rawTar([{ name: 'package/a.txt', data: 'A'.repeat(5000) }]);
    writeFileSync(archive, full.subarray(0, Math.floor(full.length / 2)));
    await assert.rejects(extractTar(archive, join(dir, 'out'), { members: { 'package/a.txt': 'a.txt' } }), /cannot extract|missing member/);
  } finally {
    removeDir(dir);
  }
});

test('mirror directory: the environment variable overrides the param; relative paths are from the project root', async () => {
  const { MRPC_MIRROR_ENV, projectRootOf, resolveMirror } = await import('../src/data/fetch.js');
  const fx = { outDir: '', workDir: '', log: () => {}, progress: () => {}, projectRoot: '/repo' };
  assert.deepEqual(resolveMirror('../shared/data/mrpc', MRPC_MIRROR_ENV, { ...fx, env: {} }), { dir: '/shared/data/mrpc', location: '../shared/data/mrpc' });
  assert.deepEqual(resolveMirror('../shared/data/mrpc', MRPC_MIRROR_ENV, { ...fx, env: { [MRPC_MIRROR_ENV]: '/data/mrpc' } }), {
    dir: '/data/mrpc',
    location: `$${MRPC_MIRROR_ENV}=/data/mrpc`,
  });
  assert.equal(resolveMirror(null, MRPC_MIRROR_ENV, { ...fx, env: {} }), undefined);
  // A compiled stage under dist/ finds the repository root (the folder with package.json).
  const root = projectRootOf(import.meta.url);
  assert.ok(existsSync(join(root, 'package.json')));
  assert.ok(!root.includes('/dist'));
});
