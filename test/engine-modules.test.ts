import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byStatus, FixtureProject } from './helpers/fixture-project.js';

const FIGURE = (id: string) => `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
/** Example in a comment, not a dependency: import('./other.mjs') */
export default { async run(ctx) { const { draw } = await import('./lib/${id}.mjs'); writeFileSync(join(ctx.outDir, '${id}.svg'), draw()); } };
`;

test('a templated module gives each node its own code fingerprint: editing one figure reruns that node only', async () => {
  const p = new FixtureProject({
    'pipeline.yaml': `stages:\n  plot:\n    module: "stages/plot/\${key}.mjs"\n    foreach: { fig1: 1, fig2: 2 }\n    params: { n: "\${item}" }\n`,
    'stages/plot/fig1.mjs': FIGURE('fig1'),
    'stages/plot/fig2.mjs': FIGURE('fig2'),
    'stages/plot/lib/fig1.mjs': `export const draw = () => '<svg id="1"/>';\n`,
    'stages/plot/lib/fig2.mjs': `export const draw = () => '<svg id="2"/>';\n`,
    'stages/plot/other.mjs': `export const x = 1;\n`,
  });
  try {
    const first = await p.json([]);
    assert.equal(first.result.exitCode, 0, first.result.stderr);
    const lock = JSON.parse(p.read('pipeline.lock'));
    assert.deepEqual(Object.keys(lock.nodes['plot@fig1'].code), ['stages/plot/fig1.mjs', 'stages/plot/lib/fig1.mjs']);
    p.write('stages/plot/lib/fig2.mjs', `export const draw = () => '<svg id="two"/>';\n`);
    p.write('stages/plot/other.mjs', `export const x = 2;\n`);
    const again = await p.json([]);
    assert.deepEqual(byStatus(again.nodes, 'ran'), ['plot@fig2']);
    assert.deepEqual(again.nodes.find((n) => n.node === 'plot@fig2')!.reasons, ['code changed: stages/plot/lib/fig2.mjs']);
    assert.equal(p.read('artifacts/plot/fig2/fig2.svg'), '<svg id="two"/>');
  } finally {
    p.remove();
  }
});
