import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { byStatus, FixtureProject, gridProject } from './helpers/fixture-project.js';

/** A pipeline whose `slow` node announces itself, writes a partial output, then waits until fast.flag exists. */
function slowProject(): FixtureProject {
  return new FixtureProject({
    'pipeline.yaml': `
stages:
  first:
    module: stages/first.mjs
  slow:
    module: stages/slow.mjs
    needs: { data: first }
  last:
    module: stages/last.mjs
    needs: { data: slow }
`,
    'stages/first.mjs': `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
export default { async run(ctx) { writeFileSync(join(ctx.outDir, 'a.txt'), 'first'); } };
`,
    'stages/slow.mjs': `
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
export default {
  async run(ctx) {
    const dir = process.env.FIXTURE_DIR;
    writeFileSync(join(ctx.outDir, 'partial.bin'), 'half-written');
    writeFileSync(join(dir, 'started.flag'), String(process.pid));
    while (!existsSync(join(dir, 'fast.flag'))) await sleep(50);
    writeFileSync(join(ctx.outDir, 'partial.bin'), 'complete:' + readFileSync(join(ctx.input('data'), 'a.txt'), 'utf8'));
  },
};
`,
    'stages/last.mjs': `
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
export default { async run(ctx) { writeFileSync(join(ctx.outDir, 'z.txt'), readFileSync(join(ctx.input('data'), 'partial.bin'), 'utf8') + '!'); } };
`,
  });
}

async function waitFor(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function records(p: FixtureProject): string[] {
  const dir = p.path('cache', 'nodes');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((shard) => readdirSync(join(dir, shard)).filter((f) => f.endsWith('.json')));
}

function objectsContaining(p: FixtureProject, text: string): string[] {
  const dir = p.path('cache', 'objects');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((shard) =>
    readdirSync(join(dir, shard)).filter((f) => readFileSync(join(dir, shard, f), 'utf8') === text),
  );
}

describe('interruption, crashes, concurrency', () => {
  test('kill -9 mid-node: nothing partial is cached, the rerun takes over the lock and is correct', async () => {
    const p = slowProject();
    try {
      const child = p.spawn([]);
      await waitFor(() => existsSync(p.path('started.flag')), 'the slow node to start');
      const workerPid = Number(p.read('started.flag'));
      child.kill('SIGKILL');
      await child;
      await waitFor(() => !alive(workerPid), 'the orphaned worker to exit');
      assert.equal(records(p).length, 1, 'only `first` committed');
      assert.deepEqual(objectsContaining(p, 'half-written'), [], 'the partial output is not in the object store');
      assert.ok(existsSync(p.path('cache', 'run.lock')), 'the killed run left its lock behind');
      assert.ok(!existsSync(p.path('pipeline.lock')));

      writeFileSync(p.path('fast.flag'), '');
      const rerun = await p.json([]);
      assert.equal(rerun.result.exitCode, 0, rerun.result.stderr);
      assert.match(rerun.result.stderr, /took over the cache lock of pid \d+, which no longer runs/);
      assert.deepEqual(byStatus(rerun.nodes, 'cached'), ['first']);
      assert.deepEqual(byStatus(rerun.nodes, 'ran'), ['last', 'slow']);
      assert.equal(p.read('artifacts/last/last/z.txt'), 'complete:first!');
      assert.ok(!existsSync(p.path('cache', 'tmp')) || readdirSync(p.path('cache', 'tmp')).length === 0, 'tmp leftovers are cleaned');
    } finally {
      p.remove();
    }
  });

  test('Ctrl-C (SIGINT) stops running nodes, exits 130, keeps pipeline.lock valid and releases the cache', async () => {
    const p = slowProject();
    try {
      writeFileSync(p.path('fast.flag'), '');
      assert.equal((await p.cli([])).exitCode, 0);
      const lockBefore = p.read('pipeline.lock');
      rmSync(p.path('fast.flag'));
      rmSync(p.path('started.flag'));
      p.write('stages/first.mjs', p.read('stages/first.mjs').replace("'first'", "'second'"));

      const child = p.spawn([]);
      await waitFor(() => existsSync(p.path('started.flag')), 'the slow node to start');
      const workerPid = Number(p.read('started.flag'));
      child.kill('SIGINT');
      const r = await child;
      assert.equal(r.exitCode, 130, String(r.stderr));
      assert.match(String(r.stderr), /interrupted/);
      await waitFor(() => !alive(workerPid), 'the worker to be killed');
      assert.equal(p.read('pipeline.lock'), lockBefore, 'an interrupted run does not touch pipeline.lock');
      JSON.parse(p.read('pipeline.lock'));
      assert.ok(!existsSync(p.path('cache', 'run.lock')), 'the cache lock is released');
      assert.deepEqual(objectsContaining(p, 'half-written'), []);
      const plan = await p.json(['--dry-run']);
      assert.deepEqual(byStatus(plan.nodes, 'run'), ['last', 'slow']);
    } finally {
      p.remove();
    }
  });

  test('a second run on the same cache is refused with who holds it; a dry run still works', async () => {
    const p = slowProject();
    try {
      const child = p.spawn([]);
      await waitFor(() => existsSync(p.path('started.flag')), 'the slow node to start');
      const second = await p.cli([]);
      assert.equal(second.exitCode, 2);
      assert.match(second.stderr, /cache\/run\.lock: another run holds the cache: pid \d+ on \S+ \(`iwdl[^`]*`, started [^)]+\)\. Wait for it to finish/);
      const dry = await p.cli(['--dry-run']);
      assert.equal(dry.exitCode, 0, dry.stderr);
      writeFileSync(p.path('fast.flag'), '');
      const first = await child;
      assert.equal(first.exitCode, 0, String(first.stderr));
    } finally {
      p.remove();
    }
  });
});

describe('corruption and failures', () => {
  test('a corrupted cache object is detected, reported, and the node rerun', async () => {
    const p = gridProject();
    try {
      assert.equal((await p.cli([])).exitCode, 0);
      const good = p.read('artifacts/train/w0.5-s1/metrics/result.json');
      // Same size, different bytes: only the digest check can tell.
      writeFileSync(p.path('artifacts/train/w0.5-s1/metrics/result.json'), good.replace(/\d/, (d) => String((Number(d) + 1) % 10)));
      p.clearRuns();
      const r = await p.json([]);
      assert.equal(r.result.exitCode, 0, r.result.stderr);
      assert.match(r.result.stderr, /train@w0\.5-s1: cached output metrics\/result\.json is corrupted \(content hashes to [0-9a-f]+…, expected [0-9a-f]+…\); evicted, the node will rerun/);
      assert.deepEqual(p.runs(), ['train@w0.5-s1'], 'only the damaged node reruns; its output is identical, so nothing downstream does');
      assert.equal(p.read('artifacts/train/w0.5-s1/metrics/result.json'), good);

      // A missing object is also repaired.
      const lock = JSON.parse(p.read('pipeline.lock'));
      const digest: string = lock.nodes.source.outputs.files['data.json'].digest;
      rmSync(p.path('cache', 'objects', digest.slice(0, 2), digest.slice(2)));
      const plan = await p.json(['--dry-run']);
      assert.match(plan.nodes.find((n) => n.node === 'source')!.reasons.join(), /cached output missing: data\.json/);
      p.clearRuns();
      assert.equal((await p.cli([])).exitCode, 0);
      assert.deepEqual(p.runs(), ['source']);
    } finally {
      p.remove();
    }
  });

  test('a failing node stops the run with its log path and last lines; --keep-going runs what does not depend on it', async () => {
    const p = gridProject();
    try {
      p.write('stages/train.mjs', p.read('stages/train.mjs').replace('recordRun(ctx.node);', `recordRun(ctx.node); if (ctx.params.weight === 0.5 && ctx.params.seed === 2) { console.log('about to fail'); throw new Error('boom: diverged'); }`));
      const r = await p.json(['-j', '1']);
      assert.equal(r.result.exitCode, 1);
      assert.match(r.result.stderr, /✗ train@w0\.5-s2 failed: boom: diverged/);
      assert.match(r.result.stderr, /log: \S*cache\/logs\/[0-9a-f]{64}\.log/);
      assert.match(r.result.stderr, /\| about to fail/);
      assert.match(r.result.stderr, /\| # FAILED: Error: boom: diverged/);
      const failed = r.nodes.find((n) => n.node === 'train@w0.5-s2')!;
      assert.equal(failed.status, 'failed');
      assert.equal(r.nodes.find((n) => n.node === 'aggregate')!.status, 'skipped');
      assert.ok(!existsSync(p.path('pipeline.lock')), 'a failed run does not write the lock');

      p.clearRuns();
      const k = await p.json(['-j', '1', '--keep-going']);
      assert.equal(k.result.exitCode, 1);
      assert.deepEqual(byStatus(k.nodes, 'failed'), ['train@w0.5-s2']);
      assert.equal(byStatus(k.nodes, 'cached').length + byStatus(k.nodes, 'ran').length, 6);
      assert.match(k.result.stderr, /- aggregate skipped \(upstream train@w0\.5-s2 failed\)/);
    } finally {
      p.remove();
    }
  });

  test('a worker that dies is reported with its signal and replaced', async () => {
    const p = gridProject();
    try {
      p.write('stages/train.mjs', p.read('stages/train.mjs').replace('recordRun(ctx.node);', `recordRun(ctx.node); if (ctx.params.weight === 1 && ctx.params.seed === 1) process.kill(process.pid, 'SIGKILL');`));
      const r = await p.json(['-j', '1', '--keep-going']);
      assert.equal(r.result.exitCode, 1);
      assert.match(r.result.stderr, /✗ train@w1-s1 failed: worker process died \(signal SIGKILL\)/);
      assert.equal(byStatus(r.nodes, 'ran').filter((n) => n.startsWith('train')).length, 5, 'the other nodes ran on a new worker');
    } finally {
      p.remove();
    }
  });
});

describe('single-node entry point, gc and environment facts', () => {
  test('iwdl exec <key> re-runs one node from its recorded spec to the same outputs', async () => {
    const p = gridProject();
    try {
      assert.equal((await p.cli([])).exitCode, 0);
      const lock = JSON.parse(p.read('pipeline.lock'));
      const key: string = lock.nodes['train@w1-s2'].key;
      const recordPath = p.path('cache', 'nodes', key.slice(0, 2), `${key}.json`);
      rmSync(recordPath);
      p.clearRuns();
      const r = await p.cli(['exec', key]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.deepEqual(p.runs(), ['train@w1-s2']);
      const record = JSON.parse(readFileSync(recordPath, 'utf8'));
      assert.equal(record.outputs.digest, lock.nodes['train@w1-s2'].outputs.digest);
      const bad = await p.cli(['exec', 'f'.repeat(64)]);
      assert.equal(bad.exitCode, 2);
      assert.match(bad.stderr, /no spec at \S+specs\/f{64}\.json/);
    } finally {
      p.remove();
    }
  });

  test('gc deletes what neither the lock nor the current plan uses', async () => {
    const p = gridProject();
    try {
      assert.equal((await p.cli([])).exitCode, 0);
      assert.equal((await p.cli(['--set', 'n=5'])).exitCode, 0);
      const before = records(p).length;
      assert.equal(before, 8 + 8, 'two versions of every node');
      const keepBoth = await p.cli(['gc', '--dry-run']);
      assert.match(keepBoth.stdout, /kept 16 node\(s\); would delete 0 node record\(s\)/, 'the default profile\'s results are the current plan');
      const dry = await p.cli(['gc', '--dry-run', '--set', 'n=5']);
      assert.match(dry.stdout, /would delete 8 node record\(s\)/);
      assert.equal(records(p).length, before);
      const gc = await p.cli(['gc', '--set', 'n=5']);
      assert.equal(gc.exitCode, 0, gc.stderr);
      assert.match(gc.stdout, /deleted 8 node record\(s\) and \d+ object\(s\)/);
      const plan = await p.json(['--dry-run', '--set', 'n=5']);
      assert.equal(byStatus(plan.nodes, 'cached').length, 8, 'the current results survive gc');
    } finally {
      p.remove();
    }
  });

  test('environment facts declared by a stage enter the key and the reasons', async () => {
    const p = new FixtureProject({
      'pipeline.yaml': `stages:\n  fit:\n    module: stages/fit.mjs\n`,
      'stages/fit.mjs': `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
export default {
  environment() { return { backend: process.env.FAKE_BACKEND ?? 'wasm', version: '4.22.0' }; },
  async run(ctx) { writeFileSync(join(ctx.outDir, 'm.txt'), process.env.FAKE_BACKEND ?? 'wasm'); },
};
`,
    });
    try {
      assert.equal((await p.cli([])).exitCode, 0);
      assert.deepEqual(JSON.parse(p.read('pipeline.lock')).nodes.fit.env, { backend: 'wasm', version: '4.22.0' });
      const plan = await p.json(['--dry-run'], { FAKE_BACKEND: 'node' });
      assert.deepEqual(plan.nodes[0]!.reasons, ['environment changed: backend "wasm" -> "node"']);
      const same = await p.json(['--dry-run']);
      assert.equal(same.nodes[0]!.status, 'cached');
    } finally {
      p.remove();
    }
  });
});
