import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { interpolate } from '../src/engine/config/interpolate.js';
import { canonicalJson, hashJson } from '../src/engine/hash.js';
import { diffValues, nodeKey } from '../src/engine/plan.js';
import type { PreparedNode } from '../src/engine/project.js';
import { EtaEstimator, formatDuration, formatProgress } from '../src/engine/progress/logger.js';
import { PlainLogger } from '../src/engine/progress/plain-logger.js';
import { TtyLogger } from '../src/engine/progress/tty-logger.js';
import type { NodeName } from '../src/engine/types.js';

describe('canonical JSON', () => {
  test('key order does not change the hash; values do', () => {
    assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: 'x' }] }), '{"a":[1,{"c":"x","d":2}],"b":1}');
    assert.equal(hashJson({ a: 1, b: 2 }), hashJson({ b: 2, a: 1 }));
    assert.notEqual(hashJson({ a: 1 }), hashJson({ a: 1.0000001 }));
  });
  test('values JSON would silently change are refused', () => {
    assert.throws(() => canonicalJson({ lr: NaN }), /\$\.lr: NaN is not a finite number/);
    assert.throws(() => canonicalJson({ f: () => 1 }), /\$\.f: values of type function/);
  });
});

describe('interpolation', () => {
  const scope = { weights: [1, 0.5], item: { w: 0.25, name: 'cnn' }, profile: 'smoke' };
  test('a whole-value reference keeps its type; embedded references become text', () => {
    assert.deepEqual(interpolate('${weights}', scope), [1, 0.5]);
    assert.equal(interpolate('${item.w}', scope), 0.25);
    assert.equal(interpolate('w${item.w}-${item.name}', scope), 'w0.25-cnn');
    assert.deepEqual(interpolate({ a: ['${profile}'] }, scope), { a: ['smoke'] });
    assert.equal(interpolate('cost $${x}', scope), 'cost ${x}');
  });
  test('lists cannot be embedded in text, and undefined names are named', () => {
    assert.throws(() => interpolate('w=${weights}', scope), /\$\{weights\} is a list and cannot be embedded/);
    assert.throws(() => interpolate('${item.seed}', scope), /undefined 'seed' in \$\{item\} \(defined: name, w\)/);
  });
});

describe('node keys', () => {
  test('the hand-built key is the hash of canonical JSON of the key fields', () => {
    const node = {
      def: { module: 'stages/train.ts' },
      code: { digest: 'c0de' },
      params: { weight: 0.5, seed: 1, opt: { lr: 0.1 } },
      env: { backend: 'wasm', version: '4.22.0' },
    } as unknown as PreparedNode;
    const inputs = { data: [{ node: 'a', digest: 'd1' }], runs: [{ node: 'b', digest: 'd2' }, { node: 'c', digest: 'd3' }] } as never;
    assert.equal(
      nodeKey(node, inputs),
      hashJson({ format: 1, module: 'stages/train.ts', code: 'c0de', params: node.params, inputs: { runs: ['d2', 'd3'], data: ['d1'] }, env: node.env }),
    );
  });
});

describe('reasons', () => {
  test('param differences are reported as dotted paths with old and new values', () => {
    assert.deepEqual(diffValues({ lr: 0.1, opt: { beta: 0.9 } }, { lr: 0.05, opt: { beta: 0.9, eps: 1e-8 } }), [
      'lr 0.1 -> 0.05',
      'opt.eps (unset) -> 1e-8',
    ]);
  });
});

describe('progress display', () => {
  test('durations and progress read naturally', () => {
    assert.equal(formatDuration(1234), '1.2s');
    assert.equal(formatDuration(125_000), '2m05s');
    assert.equal(formatDuration(3_726_000), '1h02m');
    assert.equal(formatProgress({ done: 37, total: 200, info: { epoch: 37, loss: 0.412345 } }), '37/200 (18%) epoch=37 loss=0.4123');
  });

  test('the ETA uses previous durations, then this run\'s stage means', () => {
    const eta = new EtaEstimator(2);
    const a = 'train@a' as NodeName;
    const b = 'train@b' as NodeName;
    const c = 'train@c' as NodeName;
    eta.plan([a, b, c], new Map([[a, 10]]));
    assert.equal(eta.remaining(), undefined, 'nothing known about b and c yet');
    eta.start(b);
    eta.finish(b, 4000);
    // a: 10 s from the lock, c: 4 s from b, over 2 workers.
    assert.equal(Math.round(eta.remaining()!), 7);
  });

  test('an ETA that guesses a stage from other stages says so (~)', () => {
    const eta = new EtaEstimator(1);
    const fast = 'prep@a' as NodeName;
    const slow = ['train@a', 'train@b'] as NodeName[];
    eta.plan([fast, ...slow], new Map());
    eta.start(fast);
    eta.finish(fast, 1000);
    assert.equal(eta.label(), 'ETA ~2.0s', 'train is guessed from prep');
    eta.start(slow[0]!);
    eta.progress(slow[0]!, 1, 10);
    assert.ok(!eta.rough(), 'a running train node reporting progress times its stage');
    assert.match(eta.label(), /^ETA \d/);
  });

  test('a terminal shows running nodes with their progress and scrolls finished ones', async () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120, rows: 40 }) as unknown as NodeJS.WriteStream;
    let out = '';
    (stream as unknown as PassThrough).on('data', (d: Buffer) => (out += d.toString()));
    const logger = new TtyLogger(2, stream);
    const n = 'train@cnn-w0.5-s1' as NodeName;
    logger.planned([n, 'plot' as NodeName], 3, new Map());
    logger.started(n);
    logger.progress(n, { done: 37, total: 200, info: { epoch: 37, loss: 0.41 } });
    await new Promise((r) => setTimeout(r, 300));
    assert.match(out, /0\/2 nodes · 1 running · 3 cached/);
    assert.match(out, /train@cnn-w0\.5-s1 {2}37\/200 \(18%\) epoch=37 loss=0\.41/);
    logger.finished(n, 1500, 312);
    assert.match(out, /✓ train@cnn-w0\.5-s1 1\.5s · 312 MiB/);
    logger.done({ ran: 1, cached: 3, failed: 0, skipped: 0, cancelled: false, elapsedMs: 2000 });
    assert.match(out, /done: 1 ran, 3 cached, 0 failed, 0 skipped in 2\.0s/);
  });

  test('plain output is timestamped lines with throttled progress', () => {
    let out = '';
    const stream = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
    const logger = new PlainLogger(2, stream, 60_000);
    const n = 'train@x' as NodeName;
    logger.planned([n], 0, new Map());
    logger.started(n);
    logger.progress(n, { done: 1, total: 10 });
    logger.progress(n, { done: 2, total: 10 });
    logger.finished(n, 100);
    const lines = out.trim().split('\n');
    assert.ok(lines.every((l) => /^\d\d:\d\d:\d\d /.test(l)), out);
    assert.equal(lines.filter((l) => l.includes('/10')).length, 0, 'no progress line within the first interval');
    let chatty = '';
    const every = new PlainLogger(2, { write: (s: string) => ((chatty += s), true) } as unknown as NodeJS.WritableStream, 0);
    every.started(n);
    every.progress(n, { done: 1, total: 10, info: { loss: 0.5 } });
    assert.match(chatty, /\d\d:\d\d:\d\d {3}train@x 1\/10 \(10%\) loss=0\.5/);
  });
});
