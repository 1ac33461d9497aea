import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { byStatus, gridProject, type FixtureProject } from './helpers/fixture-project.js';

const ALL = [
  'aggregate',
  'source',
  'train@w0.25-s1',
  'train@w0.25-s2',
  'train@w0.5-s1',
  'train@w0.5-s2',
  'train@w1-s1',
  'train@w1-s2',
];

describe('caching and invalidation', () => {
  let p: FixtureProject;
  before(async () => {
    p = gridProject();
    const first = await p.cli([]);
    assert.equal(first.exitCode, 0, first.stderr);
  });
  after(() => p.remove());

  test('a first run executes every node once and writes outputs, artifacts and pipeline.lock', () => {
    assert.deepEqual(p.runs().sort(), ALL);
    // 1+2+3 = 6 weighted by w plus seed, summed over the grid.
    const expected = [1, 0.5, 0.25].flatMap((w) => [1, 2].map((s) => 6 * w + s)).reduce((a, b) => a + b, 0);
    assert.equal(Number(p.read('artifacts/aggregate/aggregate/total.txt')), expected);
    assert.match(readlinkSync(p.path('artifacts/train/w0.5-s2')), /cache\/views\/[0-9a-f]{64}$/);
    const lock = JSON.parse(p.read('pipeline.lock'));
    assert.deepEqual(Object.keys(lock.nodes), ALL);
    assert.equal(lock.profile, 'quick');
    assert.deepEqual(Object.keys(lock.nodes['train@w1-s1'].outputs.files), ['metrics/result.json']);
    assert.deepEqual(lock.nodes['train@w1-s1'].params, { seed: 1, weight: 1 });
    assert.ok(lock.nodes['train@w1-s1'].code['stages/lib/math.mjs'], 'transitive imports are fingerprinted');
    const rss = lock.nodes['train@w1-s1'].peak_rss_mb;
    assert.ok(Number.isInteger(rss) && rss > 10 && rss < 4096, `peak memory recorded in MiB: ${rss}`);
    assert.match(p.read(`cache/logs/${lock.nodes['train@w1-s1'].key}.log`), /training train@w1-s1/);
  });

  test('a second run executes nothing and leaves pipeline.lock untouched', async () => {
    p.clearRuns();
    const before = statSync(p.path('pipeline.lock')).mtimeMs;
    const lockText = p.read('pipeline.lock');
    const { result, nodes } = await p.json([]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(p.runs(), []);
    assert.deepEqual(byStatus(nodes, 'cached'), ALL);
    assert.equal(p.read('pipeline.lock'), lockText);
    assert.equal(statSync(p.path('pipeline.lock')).mtimeMs, before);
  });

  test('changing one matrix value reruns exactly that node and its descendants, with reasons', async () => {
    p.write('pipeline.yaml', p.read('pipeline.yaml').replace('weights: [1, 0.5, 0.25]', 'weights: [1, 0.5, 0.125]'));
    const plan = await p.json(['--dry-run']);
    assert.equal(plan.result.exitCode, 0, plan.result.stderr);
    assert.deepEqual(byStatus(plan.nodes, 'run'), ['aggregate', 'train@w0.125-s1', 'train@w0.125-s2']);
    const agg = plan.nodes.find((n) => n.node === 'aggregate')!;
    assert.match(agg.reasons.join(';'), /upstream will run: train@w0.125-s1, train@w0.125-s2/);
    assert.match(plan.nodes.find((n) => n.node === 'train@w0.125-s1')!.reasons[0]!, /^new/);
    assert.deepEqual(p.runs(), [], 'a dry run executes nothing');

    p.clearRuns();
    const run = await p.json([]);
    assert.equal(run.result.exitCode, 0, run.result.stderr);
    assert.deepEqual(p.runs().sort(), ['aggregate', 'train@w0.125-s1', 'train@w0.125-s2']);
    assert.deepEqual(byStatus(run.nodes, 'ran'), ['aggregate', 'train@w0.125-s1', 'train@w0.125-s2']);
    assert.match(run.nodes.find((n) => n.node === 'aggregate')!.reasons.join(';'), /input changed: runs \(train@w0.125-s1, train@w0.125-s2/);
    // The removed nodes leave the lock and the artifacts view.
    const lock = JSON.parse(p.read('pipeline.lock'));
    assert.ok(!('train@w0.25-s1' in lock.nodes));
    assert.throws(() => statSync(p.path('artifacts/train/w0.25-s1')));
  });

  test('changing a param through --set names the param in the reasons', async () => {
    const plan = await p.json(['--dry-run', '--set', 'n=4']);
    assert.deepEqual(byStatus(plan.nodes, 'run'), ['aggregate', 'source', ...ALL.filter((n) => n.startsWith('train')).map((n) => n.replace('0.25', '0.125'))].sort());
    assert.deepEqual(plan.nodes.find((n) => n.node === 'source')!.reasons, ['params changed: n 3 -> 4']);
  });

  test('editing a module imported by one stage reruns only that stage and what its outputs change', async () => {
    p.clearRuns();
    // Same behaviour, different code: train reruns, its outputs are identical, so aggregate is reused.
    p.write('stages/lib/math.mjs', p.read('stages/lib/math.mjs') + '\n// refactored\n');
    const plan = await p.json(['--dry-run']);
    const trains = plan.nodes.filter((n) => n.stage === 'train');
    assert.ok(trains.every((n) => n.status === 'run' && n.reasons.join() === 'code changed: stages/lib/math.mjs'), JSON.stringify(trains));
    assert.equal(plan.nodes.find((n) => n.node === 'source')!.status, 'cached');
    const run = await p.json([]);
    assert.equal(run.result.exitCode, 0, run.result.stderr);
    assert.deepEqual(p.runs().filter((r) => !r.startsWith('train')), [], 'identical train outputs: aggregate is not rerun');
    assert.equal(run.nodes.find((n) => n.node === 'aggregate')!.status, 'cached');
    assert.match(run.result.stderr, /= aggregate \(inputs unchanged after upstream rerun: cached\)/);
  });

  test('a code change that changes outputs propagates downstream', async () => {
    p.clearRuns();
    p.write('stages/lib/math.mjs', 'export function weightedSum(xs, w) { return 2 * xs.reduce((a, b) => a + b * w, 0); }\n');
    const run = await p.json([]);
    assert.equal(run.result.exitCode, 0, run.result.stderr);
    assert.deepEqual(byStatus(run.nodes, 'ran'), ['aggregate', ...byStatus(run.nodes, 'ran').filter((n) => n.startsWith('train'))].sort());
    assert.equal(byStatus(run.nodes, 'ran').length, 7);
  });

  test('--stage runs only that stage and what it needs', async () => {
    p.write('pipeline.yaml', p.read('pipeline.yaml').replace('seeds: [1, 2]', 'seeds: [1, 2, 3]'));
    p.clearRuns();
    const run = await p.json(['--stage', 'train']);
    assert.equal(run.result.exitCode, 0, run.result.stderr);
    assert.ok(!run.nodes.some((n) => n.node === 'aggregate'), 'aggregate is not selected');
    assert.deepEqual(p.runs().sort(), ['train@w0.125-s3', 'train@w0.5-s3', 'train@w1-s3']);
    const lock = JSON.parse(p.read('pipeline.lock'));
    assert.ok('train@w1-s3' in lock.nodes, 'a partial run records what it ran');
  });

  test('--force and --force-stage rerun cached nodes', async () => {
    p.clearRuns();
    const forced = await p.json(['--force-stage', 'source']);
    assert.equal(forced.result.exitCode, 0, forced.result.stderr);
    assert.deepEqual(p.runs().sort(), ['aggregate', 'source'], 'source is forced; aggregate was stale from the --stage run');
    assert.deepEqual(forced.nodes.find((n) => n.node === 'source')!.reasons, ['forced']);
    assert.equal(forced.nodes.find((n) => n.node === 'aggregate')!.status, 'ran', 'aggregate was stale from the --stage run');
    p.clearRuns();
    const all = await p.json(['--force', '--stage', 'aggregate']);
    assert.equal(all.result.exitCode, 0, all.result.stderr);
    assert.deepEqual(p.runs(), ['aggregate'], '--force with --stage forces only that stage');
  });

  test('profiles select values and a profile switch is explained', async () => {
    const plan = await p.json(['--dry-run', '--profile', 'smoke']);
    assert.deepEqual(plan.nodes.find((n) => n.node === 'source')!.reasons, ['params changed: n 3 -> 2']);
    assert.equal(plan.nodes.filter((n) => n.stage === 'train').length, 3);
  });

  test('status lists only stale nodes; dag prints Mermaid and DOT', async () => {
    const status = await p.cli(['status']);
    assert.equal(status.exitCode, 0);
    assert.match(status.stdout, /0 node\(s\) to run, 11 cached/);
    p.write('stages/aggregate.mjs', p.read('stages/aggregate.mjs') + '\n');
    const stale = await p.cli(['status']);
    assert.match(stale.stdout, /run +aggregate +code changed: stages\/aggregate.mjs/);
    const mermaid = await p.cli(['dag']);
    assert.match(mermaid.stdout, /^flowchart LR/);
    assert.match(mermaid.stdout, /\["train@w1-s3"\]/);
    const dot = await p.cli(['dag', '--format', 'dot', '--collapse']);
    assert.match(dot.stdout, /"source" -> "train";/);
    assert.match(dot.stdout, /label="train ×9"/);
  });

  test('the lock lists nodes in a stable order with no volatile fields', () => {
    const text = p.read('pipeline.lock');
    const lock = JSON.parse(text);
    const names = Object.keys(lock.nodes);
    assert.deepEqual(names, [...names].sort());
    assert.ok(!/startedAt|host/.test(text), 'no timestamps or hostnames in the lock');
    assert.equal(readFileSync(p.path('pipeline.lock'), 'utf8').endsWith('\n'), true);
  });

  test('the parsed-pipeline memo never hides an error position or leaks a --set', async () => {
    assert.ok(p.read('cache/pipeline-memo.json').length > 0, 'a run memoizes the parsed pipeline.yaml');
    const good = p.read('pipeline.yaml');
    p.write('pipeline.yaml', good.replace('      n: ${n}', '      n: ${nn}'));
    const bad = await p.cli(['--dry-run']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /pipeline\.yaml:\d+:\d+: stages\.source\.params\.n: \$\{nn\}: undefined variable 'nn'/);
    p.write('pipeline.yaml', good);
    const withSet = await p.json(['--set', 'n=7', '--stage', 'source']);
    assert.equal(withSet.result.exitCode, 0, withSet.result.stderr);
    const plain = await p.json(['--dry-run', '--stage', 'source']);
    assert.equal(plain.nodes[0]!.status, 'cached', 'n=3 again: the override did not leak into the memo');
    assert.notEqual(plain.nodes[0]!.key, withSet.nodes[0]!.key);
  });

  test('a deleted artifacts link is restored by a no-op run', async () => {
    const lock = JSON.parse(p.read('pipeline.lock'));
    const first = Object.keys(lock.nodes).find((n) => n.startsWith('train@'))!;
    const path = p.path('artifacts', 'train', first.slice('train@'.length));
    const target = readlinkSync(path);
    rmSync(path);
    const r = await p.json([]);
    assert.equal(r.nodes.find((n) => n.node === first)!.status, 'cached');
    assert.equal(readlinkSync(path), target);
  });
});
