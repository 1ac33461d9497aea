import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { FixtureProject } from './helpers/fixture-project.js';

const REPORT = (extra: string) => `
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
export default { async run(ctx) {
  mkdirSync(join(ctx.outDir, 'figures'), { recursive: true });
  writeFileSync(join(ctx.outDir, 'index.html'), '<h1>report</h1>');
  ${extra}
} };
`;

test('publish: copies a stage\'s outputs to a project directory, prunes what it no longer makes, restores what was deleted', async () => {
  const p = new FixtureProject({
    'pipeline.yaml': `stages:\n  report:\n    module: stages/report.mjs\n    publish: reports\n`,
    'stages/report.mjs': REPORT(`writeFileSync(join(ctx.outDir, 'figures', 'fig1.svg'), '<svg/>');`),
  });
  try {
    const r = await p.cli([]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /published 2 file\(s\) of report to reports\//);
    assert.equal(p.read('reports/index.html'), '<h1>report</h1>');
    assert.equal(p.read('reports/figures/fig1.svg'), '<svg/>');

    p.write('stages/report.mjs', REPORT(`writeFileSync(join(ctx.outDir, 'figures', 'fig2.svg'), '<svg id="2"/>');`));
    assert.equal((await p.cli([])).exitCode, 0);
    assert.ok(!existsSync(p.path('reports/figures/fig1.svg')), 'a figure the stage no longer makes is removed');
    assert.equal(p.read('reports/figures/fig2.svg'), '<svg id="2"/>');

    rmSync(p.path('reports'), { recursive: true });
    const again = await p.json([]);
    assert.equal(again.nodes[0]!.status, 'cached');
    assert.equal(p.read('reports/index.html'), '<h1>report</h1>', 'a no-op run restores the published copy');

    p.write('pipeline.yaml', `stages:\n  report:\n    module: stages/report.mjs\n    publish: ../outside\n`);
    const bad = await p.cli([]);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /stages\.report\.publish: publish must be a directory inside the project/);
  } finally {
    p.remove();
  }
});
