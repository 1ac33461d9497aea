import { z } from 'zod';
import { defineStage } from '../src/engine/stage.js';
import { packageVersions } from '../src/figures/versions.js';

/**
 * report: every figure (`needs: { figures: plot, tables: aggregate }`) ->
 * the whole reports/ tree in outDir: index.html (figures embedded with a
 * locally bundled vega-embed, captions, profile, backend, provenance; the
 * claims table with computed verdicts; the DAG and training time per stage),
 * figures/<id>.{vl.json,svg,png,json}, assets/, claims.json. Published to
 * reports/ by the engine (`publish: reports/` in pipeline.yaml).
 */
export default defineStage({
  params: z
    .object({
      profile: z.string().default('unknown'),
      title: z.string().default('What is the Effect of Importance Weighting in Deep Learning? — reproduction'),
    })
    .strict(),
  environment() {
    return packageVersions(['vega', 'vega-lite', 'vega-embed']);
  },
  async run(ctx) {
    const { buildReport } = await import('../src/report/build.js');
    await buildReport({ figures: ctx.inputs.figures ?? [], tables: ctx.inputs.tables ?? [], outDir: ctx.outDir, profile: ctx.params.profile, title: ctx.params.title, log: (l) => ctx.log(l) });
  },
});
