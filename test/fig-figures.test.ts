import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { compile } from 'vega-lite';
import { Fingerprinter } from '../src/engine/fingerprint.js';
import type { StageDefinition } from '../src/engine/stage.js';
import { FIGURE_IDS } from '../src/figures/ids.js';
import type { PlotMeta } from '../src/figures/plot-output.js';
import { runStageWith, tmp, cleanupTmp } from './helpers/fig-fixtures.js';
import { buildWorld } from './helpers/fig-world.js';

let world: Awaited<ReturnType<typeof buildWorld>>;
before(async () => {
  world = await buildWorld();
});

after(cleanupTmp);

const dist = resolve(import.meta.dirname, '..');

for (const id of FIGURE_IDS) {
  test(`figure ${id}: a Vega-Lite spec that compiles, rendered to a non-empty SVG and PNG`, async () => {
    const mod = (await import(join(dist, 'stages', 'plot', `${id}.js`))) as { default: StageDefinition<unknown> };
    const { outDir } = await runStageWith(mod.default, { figure: id, profile: 'smoke' }, { tables: world.aggregates }, tmp(`iwdl-plot-${id}-`));
    const spec = JSON.parse(readFileSync(join(outDir, `${id}.vl.json`), 'utf8'));
    assert.equal(typeof spec.$schema, 'string');
    const compiled = compile(spec).spec;
    assert.ok(compiled.marks && compiled.marks.length > 0);
    assert.doesNotMatch(JSON.stringify(spec), /not measured/, 'every experiment of the fixture world is present');
    const svg = readFileSync(join(outDir, `${id}.svg`), 'utf8');
    assert.match(svg, /^<svg/);
    assert.ok((svg.match(/<path|<rect|<text/g) ?? []).length > 20, 'the SVG draws something');
    const png = readFileSync(join(outDir, `${id}.png`));
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    assert.ok(png.length > 2000);
    const meta = JSON.parse(readFileSync(join(outDir, `${id}.json`), 'utf8')) as PlotMeta;
    assert.equal(meta.id, id);
    assert.deepEqual(meta.missing, []);
    assert.ok(meta.caption.length > 20);
    assert.ok(meta.provenance.length > 0);
  });
}

test('a figure with absent experiments says "not measured" instead of failing', async () => {
  const mod = (await import(join(dist, 'stages', 'plot', 'fig4.js'))) as { default: StageDefinition<unknown> };
  const { outDir } = await runStageWith(mod.default, { figure: 'fig4' }, { tables: world.aggregates.filter((a) => a.params.experiment === 'catdog') }, tmp());
  const meta = JSON.parse(readFileSync(join(outDir, 'fig4.json'), 'utf8')) as PlotMeta;
  assert.deepEqual(meta.missing, ['catdog-l2', 'catdog-dropout']);
  assert.match(readFileSync(join(outDir, 'fig4.svg'), 'utf8'), /not measured/);
});

test('per-figure invalidation: each plot stage module fingerprints its own figure module and no other', () => {
  const fp = new Fingerprinter(dist, dist);
  for (const id of FIGURE_IDS) {
    const files = Object.keys(fp.fingerprint(join(dist, 'stages', 'plot', `${id}.js`)).files);
    const figureFiles = files.filter((f) => /(^|\/)src\/figures\/(fig[A0-9]+|agreement)\.(js|ts)$/.test(f));
    assert.deepEqual(figureFiles.map((f) => f.replace(/^.*\//, '').replace(/\.(js|ts)$/, '')), [id], `${id}: ${files.join(', ')}`);
  }
});
