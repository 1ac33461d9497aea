import { z } from 'zod';
import { defineStage, type StageDefinition } from '../engine/stage.js';
import type { Figure } from './figure.js';
import { packageVersions } from './versions.js';

/**
 * The plot stage of one figure. Each figure has its own tiny stage module,
 * stages/plot/<id>.ts:
 *
 *   export default plotStage('fig4', () => import(<literal path of src/figures/fig4.js>));
 *
 * (Never write a real import specifier in a comment here: the fingerprint
 * scans the text and would follow it.) The literal dynamic import is what the engine's code fingerprint
 * follows, so a plot node's key covers its own figure module (and the
 * helpers it imports) and nothing else: editing fig4.ts reruns only the
 * fig4 node. This module must never import a figure module itself (and
 * never by a computed specifier, which no fingerprint would see).
 *
 * Inputs: `tables` = the aggregate nodes the figure reads. Outputs:
 * <id>.vl.json (Vega-Lite, data inlined), <id>.vg.json (compiled Vega),
 * <id>.svg, <id>.png and <id>.json (title, caption, experiments, profile,
 * backend and provenance: the aggregate nodes and the SHA-256 of every
 * table, plus the train nodes and their files' digests behind them).
 */

export const plotParams = z
  .object({
    /** Must equal the module's figure id (a guard against a miswired pipeline.yaml). */
    figure: z.string(),
    /** The profile the run used (shown in the report; enters the key, as every param). */
    profile: z.string().default('unknown'),
    /** PNG scale relative to the SVG's size. */
    png_scale: z.number().positive().max(8).default(2),
  })
  .strict();
export type PlotParams = z.infer<typeof plotParams>;

export function plotStage(id: string, load: () => Promise<{ default: Figure }>): StageDefinition<PlotParams> {
  return defineStage({
    params: plotParams,
    environment() {
      return packageVersions(['vega', 'vega-lite', '@resvg/resvg-js']);
    },
    async run(ctx) {
      if (ctx.params.figure !== id) throw new Error(`stage module of figure '${id}' was given figure '${ctx.params.figure}'`);
      const figure = (await load()).default;
      const { writePlot } = await import('./plot-output.js');
      await writePlot(figure, ctx.inputs.tables ?? [], ctx.outDir, { profile: ctx.params.profile, pngScale: ctx.params.png_scale, log: (l) => ctx.log(l) });
    },
  });
}
