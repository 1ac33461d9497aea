import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FixtureProject, gridProject } from './helpers/fixture-project.js';

function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .map((p) => `${p}:${statSync(p).mtimeMs}`)
    .sort();
}

describe('iwdl audit', () => {
  test('a deterministic pipeline audits identical, without touching the main cache', async () => {
    const p = gridProject();
    try {
      assert.equal((await p.cli([])).exitCode, 0);
      const before = listTree(p.path('cache')).filter((l) => !l.includes('run.lock'));
      const lockBefore = statSync(p.path('pipeline.lock')).mtimeMs;
      p.clearRuns();
      const r = await p.cli(['audit']);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /audit \(clean\): 8 identical, 0 within tolerance, 0 different, 0 failed/);
      assert.equal(p.runs().length, 8, 'a clean audit re-executes every node, upstream included');
      assert.deepEqual(listTree(p.path('cache')).filter((l) => !l.includes('run.lock')), before, 'the main cache is untouched');
      assert.equal(statSync(p.path('pipeline.lock')).mtimeMs, lockBefore);
      const report = JSON.parse(p.read('reports/audit.json'));
      assert.equal(report.nodes.length, 8);
      assert.ok(report.nodes.every((n: { verdict: string; mainCache: string }) => n.verdict === 'identical' && n.mainCache === 'ok'));
      assert.ok(report.machine.node.startsWith('v'));
      assert.ok(report.nodes[0].original.machine.cpu, 'the original run\'s machine comes from its record');
      assert.match(p.read('reports/audit.html'), /<h1>Reproducibility audit<\/h1>/);
    } finally {
      p.remove();
    }
  });

  test('--sample N --seed K re-executes a seeded subset; --trust-upstream reuses cached inputs', async () => {
    const p = gridProject();
    try {
      assert.equal((await p.cli([])).exitCode, 0);
      p.clearRuns();
      const a = await p.cli(['audit', '--stage', 'train', '--sample', '2', '--seed', '7', '--trust-upstream']);
      assert.equal(a.exitCode, 0, a.stdout + a.stderr);
      assert.match(a.stdout, /2 identical, 0 within tolerance, 0 different, 0 failed, 1 trusted upstream/);
      const first = p.runs().sort();
      assert.equal(first.length, 2);
      assert.ok(first.every((n) => n.startsWith('train@')));
      p.clearRuns();
      await p.cli(['audit', '--stage', 'train', '--sample', '2', '--seed', '7', '--trust-upstream']);
      assert.deepEqual(p.runs().sort(), first, 'the same seed picks the same nodes');
    } finally {
      p.remove();
    }
  });

  test('a nondeterministic stage is caught and reported with the node and file', async () => {
    const p = gridProject();
    try {
      p.write('stages/train.mjs', p.read('stages/train.mjs').replace('+ ctx.params.seed', '+ ctx.params.seed + (ctx.params.weight === 0.5 ? Math.random() : 0)'));
      assert.equal((await p.cli([])).exitCode, 0);
      const r = await p.cli(['audit', '--trust-upstream', '--stage', 'train']);
      assert.equal(r.exitCode, 1);
      assert.match(r.stdout, /4 identical, 0 within tolerance, 2 different/);
      assert.match(r.stdout, /train@w0\.5-s1: metrics\/result\.json different: sha256 [0-9a-f]{12}… re-executed, [0-9a-f]{12}… recorded/);
      const report = JSON.parse(p.read('reports/audit.json'));
      assert.equal(report.nodes.find((n: { node: string }) => n.node === 'train@w0.5-s2').verdict, 'different');
    } finally {
      p.remove();
    }
  });

  test('declared tolerances accept small numeric noise and report the deviation; too small a tolerance fails', async () => {
    const p = new FixtureProject({
      'pipeline.yaml': `
stages:
  fit:
    module: stages/fit.mjs
    audit:
      tolerances:
        - { files: "*.csv", format: csv, abs: 1.0e-6, columns: [loss] }
        - { files: "weights.json", format: json, abs: 1.0e-6 }
`,
      'stages/fit.mjs': `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
export default {
  async run(ctx) {
    const noise = () => (Math.random() - 0.5) * 1e-8;
    writeFileSync(join(ctx.outDir, 'metrics.csv'), 'epoch,split,loss\\n1,train,' + (0.5 + noise()) + '\\n2,train,' + (0.25 + noise()) + '\\n');
    writeFileSync(join(ctx.outDir, 'weights.json'), JSON.stringify({ w: [1 + noise(), 2], name: 'mlp' }));
    writeFileSync(join(ctx.outDir, 'same.txt'), 'fixed');
  },
};
`,
    });
    try {
      assert.equal((await p.cli([])).exitCode, 0);
      const ok = await p.cli(['audit']);
      assert.equal(ok.exitCode, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /0 identical, 1 within tolerance, 0 different/);
      const report = JSON.parse(p.read('reports/audit.json'));
      const node = report.nodes[0];
      assert.ok(node.maxDeviation > 0 && node.maxDeviation < 1e-7, String(node.maxDeviation));
      assert.deepEqual(node.files.map((f: { file: string; verdict: string }) => `${f.file}:${f.verdict}`).sort(), ['metrics.csv:within-tolerance', 'same.txt:identical', 'weights.json:within-tolerance']);

      p.write('pipeline.yaml', p.read('pipeline.yaml').replace('abs: 1.0e-6, columns', 'abs: 1.0e-12, columns'));
      assert.equal((await p.cli([])).exitCode, 0, 'the audit section does not change node keys');
      const strict = await p.cli(['audit']);
      assert.equal(strict.exitCode, 1);
      assert.match(strict.stdout, /fit: metrics\.csv different: row 2, column loss: 0\.\d+ vs 0\.\d+ \(\|difference\| [0-9.e-]+ > 1e-12\)/);
    } finally {
      p.remove();
    }
  });

  test('tampering with the cache or with pipeline.lock is reported', async () => {
    const p = gridProject();
    try {
      assert.equal((await p.cli([])).exitCode, 0);
      writeFileSync(p.path('artifacts/train/w1-s2/metrics/result.json'), '{"value":999}');
      const cache = await p.cli(['audit', '--stage', 'train', '--trust-upstream']);
      assert.equal(cache.exitCode, 1);
      assert.match(cache.stdout, /train@w1-s2: cache: cached bytes of metrics\/result\.json no longer match pipeline\.lock/);

      const lock = JSON.parse(p.read('pipeline.lock'));
      lock.nodes.source.outputs.files['data.json'].digest = 'f'.repeat(64);
      writeFileSync(p.path('pipeline.lock'), JSON.stringify(lock, null, 2));
      const r = await p.cli(['audit', '--stage', 'source']);
      assert.equal(r.exitCode, 1);
      assert.match(r.stdout, /source: data\.json different: sha256 [0-9a-f]{12}… re-executed, ffffffffffff… recorded/);
    } finally {
      p.remove();
    }
  });

  test('auditing without a lock, or with bad arguments, is a clear error', async () => {
    const p = gridProject();
    try {
      const r = await p.cli(['audit']);
      assert.equal(r.exitCode, 2);
      assert.match(r.stderr, /pipeline\.lock: no pipeline\.lock to audit against; run the pipeline first/);
      const bad = await p.cli(['audit', '--sample', 'x']);
      assert.equal(bad.exitCode, 2);
      assert.match(bad.stderr, /--sample: expected a whole number, got 'x'/);
      assert.equal(readdirSync(p.dir).includes('reports'), false);
    } finally {
      p.remove();
    }
  });
});

void readFileSync;
