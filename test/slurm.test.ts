/**
 * The Slurm executor against a real one-node cluster on localhost
 * (scripts/slurm-cluster.mjs; Debian packages slurm-wlm and munge, which
 * .ci/run installs). Outside CI, a machine without Slurm skips these tests.
 */
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { byStatus, FixtureProject, gridProject } from './helpers/fixture-project.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/slurm-cluster.mjs', import.meta.url));
const haveSlurm = ['sbatch', 'slurmctld', 'slurmd', 'munged'].every((b) =>
  ['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((d) => existsSync(join(d, b))),
);
if (!haveSlurm && process.env.CI) throw new Error('Slurm is not installed: .ci/run must apt-get install slurm-wlm munge');

const PORTS = { IWDL_SLURMCTLD_PORT: '6917', IWDL_SLURMD_PORT: '6918' };

/** A lock without what measures the run rather than its results: wall time and peak memory. */
function withoutDurations(lockText: string): unknown {
  const lock = JSON.parse(lockText);
  for (const n of Object.values(lock.nodes) as Array<Record<string, unknown>>) {
    delete n.duration_s;
    delete n.peak_rss_mb;
  }
  return lock;
}

describe('Slurm executor', { skip: haveSlurm ? false : 'slurm-wlm and munge are not installed' }, () => {
  let state: string;
  let env: Record<string, string>;

  before(async () => {
    state = mkdtempSync(join(tmpdir(), 'iwdl-slurm-'));
    const r = await execa('node', [SCRIPT, 'start', state], { env: PORTS, reject: false });
    assert.equal(r.exitCode, 0, String(r.stderr));
    env = { SLURM_CONF: join(state, 'slurm.conf'), IWDL_SLURM_POLL_MS: '250' };
  });

  after(async () => {
    await execa('node', [SCRIPT, 'stop', state], { reject: false });
    rmSync(state, { recursive: true, force: true });
  });

  test('a grid runs as dependent jobs; lock and artifacts equal a local run; a rerun does nothing', { timeout: 180_000 }, async () => {
    const local = gridProject();
    const remote = gridProject();
    try {
      assert.equal((await local.cli([])).exitCode, 0);
      const r = await remote.json(['--executor', 'slurm'], env);
      assert.equal(r.result.exitCode, 0, r.result.stderr);
      assert.equal(byStatus(r.nodes, 'ran').length, 8);
      assert.match(r.result.stderr, /submitted 8 Slurm job\(s\) as run \S+: \d+(, \d+){7}/);
      assert.deepEqual(withoutDurations(remote.read('pipeline.lock')), withoutDurations(local.read('pipeline.lock')));
      assert.equal(remote.read('artifacts/aggregate/aggregate/total.txt'), local.read('artifacts/aggregate/aggregate/total.txt'));
      const again = await remote.json(['--executor', 'slurm'], env);
      assert.equal(again.result.exitCode, 0);
      assert.deepEqual(byStatus(again.nodes, 'cached').length, 8);
      assert.doesNotMatch(again.result.stderr, /submitted/);
    } finally {
      local.remove();
      remote.remove();
    }
  });

  test('a failed job is reported with its Slurm state and log; its dependents are not run', { timeout: 180_000 }, async () => {
    const p = gridProject();
    try {
      p.write('stages/train.mjs', p.read('stages/train.mjs').replace('recordRun(ctx.node);', `recordRun(ctx.node); if (ctx.params.weight === 0.5 && ctx.params.seed === 2) { console.log('diverging'); throw new Error('boom'); }`));
      const r = await p.json(['--executor', 'slurm'], env);
      assert.equal(r.result.exitCode, 1);
      assert.match(r.result.stderr, /✗ train@w0\.5-s2 failed: Slurm job \d+ FAILED \(NonZeroExitCode\)/);
      assert.match(r.result.stderr, /log: \S*cache\/logs\/slurm-train@w0\.5-s2-\d+\.out/);
      assert.match(r.result.stderr, /\| train@w0\.5-s2 failed: boom/);
      assert.equal(r.nodes.find((n) => n.node === 'aggregate')!.status, 'skipped');
      assert.ok(!existsSync(p.path('pipeline.lock')));
    } finally {
      p.remove();
    }
  });

  test('a job over its time limit is reported as TIMEOUT', { timeout: 240_000 }, async () => {
    const p = new FixtureProject({
      'pipeline.yaml': `stages:\n  slow:\n    module: stages/slow.mjs\n    resources: { time: "0:01" }\n`,
      'stages/slow.mjs': `export default { async run() { await new Promise((r) => setTimeout(r, 600_000)); } };\n`,
    });
    try {
      const r = await p.cli(['--executor', 'slurm'], env);
      assert.equal(r.exitCode, 1);
      assert.match(r.stderr, /✗ slow failed: Slurm job \d+ TIMEOUT/);
    } finally {
      p.remove();
    }
  });

  test('Ctrl-C cancels the submitted jobs; --detach returns at once and `iwdl status` collects later', { timeout: 180_000 }, async () => {
    const files = {
      'pipeline.yaml': `stages:\n  gate:\n    module: stages/gate.mjs\n  after:\n    module: stages/after.mjs\n    needs: { x: gate }\n`,
      'stages/gate.mjs': `
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
export default { async run(ctx) {
  writeFileSync(join(process.env.FIXTURE_DIR, 'started.flag'), '');
  while (!existsSync(join(process.env.FIXTURE_DIR, 'open.flag'))) await new Promise((r) => setTimeout(r, 100));
  writeFileSync(join(ctx.outDir, 'g.txt'), 'gate');
} };
`,
      'stages/after.mjs': `
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
export default { async run(ctx) { writeFileSync(join(ctx.outDir, 'a.txt'), readFileSync(join(ctx.input('x'), 'g.txt'), 'utf8') + '+after'); } };
`,
    };
    const p = new FixtureProject(files);
    try {
      const child = p.spawn(['--executor', 'slurm'], env);
      const end = Date.now() + 60_000;
      while (!existsSync(p.path('started.flag')) && Date.now() < end) await sleep(100);
      child.kill('SIGINT');
      const r = await child;
      assert.equal(r.exitCode, 130, String(r.stderr));
      assert.match(String(r.stderr), /interrupted: cancelling 2 Slurm job\(s\)/);
      const q = await execa('squeue', ['-h', '-o', '%j %T'], { env });
      assert.doesNotMatch(String(q.stdout), /iwdl:gate (RUNNING|PENDING)/);
      assert.ok(!existsSync(p.path('cache', 'run.lock')));

      rmSync(p.path('started.flag'), { force: true });
      const d = await p.cli(['--executor', 'slurm', '--detach'], env);
      assert.equal(d.exitCode, 0, d.stderr);
      assert.match(d.stderr, /detached: `iwdl status` shows progress/);
      const blocked = await p.cli([], env);
      assert.equal(blocked.exitCode, 2);
      assert.match(blocked.stderr, /a detached cluster run \(\S+, submitted [^)]+\) holds the cache/);
      const pending = await p.cli(['status'], env);
      assert.match(pending.stdout, /detached Slurm run \S+ \(submitted [^)]+\): /);
      writeFileSync(p.path('open.flag'), '');
      let collected = '';
      for (let i = 0; i < 120 && !existsSync(p.path('pipeline.lock')); i++) {
        await sleep(500);
        collected = (await p.cli(['status'], env)).stderr;
      }
      assert.ok(existsSync(p.path('pipeline.lock')), `status never collected the run: ${collected}`);
      assert.equal(p.read('artifacts/after/after/a.txt'), 'gate+after');
      assert.ok(!existsSync(p.path('cache', 'run.lock')), 'collecting releases the cache');
      const plan = await p.json(['--dry-run'], env);
      assert.equal(byStatus(plan.nodes, 'cached').length, 2);
    } finally {
      p.remove();
    }
  });
});

void readFileSync;
