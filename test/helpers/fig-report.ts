import { join, resolve } from 'node:path';
import type { InputRef, StageDefinition } from '../../src/engine/stage.js';
import type { JsonObject, NodeName } from '../../src/engine/types.js';
import { FIGURE_IDS } from '../../src/figures/ids.js';
import report from '../../stages/report.js';
import { runStageWith, tmp } from './fig-fixtures.js';
import { buildWorld } from './fig-world.js';

const dist = resolve(import.meta.dirname, '..', '..');

/** The fixture world, every figure's plot node, and the report stage's output directory. */
export async function buildReportFixture(profile = 'smoke'): Promise<{ root: string; outDir: string; plots: InputRef[]; aggregates: InputRef[] }> {
  const world = await buildWorld(tmp('iwdl-report-'));
  const plots: InputRef[] = [];
  for (const id of FIGURE_IDS) {
    const mod = (await import(join(dist, 'stages', 'plot', `${id}.js`))) as { default: StageDefinition<unknown> };
    const { outDir } = await runStageWith(mod.default, { figure: id, profile }, { tables: world.aggregates }, join(world.root, 'plot', id));
    plots.push({ node: `plot@${id}` as NodeName, dir: outDir, item: id as unknown as JsonObject, params: { figure: id, profile } });
  }
  const { outDir } = await runStageWith(report, { profile }, { figures: plots, tables: world.aggregates }, join(world.root, 'report'));
  return { root: world.root, outDir, plots, aggregates: world.aggregates };
}
