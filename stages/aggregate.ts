import { z } from 'zod';
import { defineStage } from '../src/engine/stage.js';

/**
 * aggregate: all train nodes of one experiment (`needs: { runs: train-x@* }`,
 * plus for 2D experiments `data:` the preprocess nodes with the training
 * points) -> tidy CSV tables (src/figures/aggregate.ts): runs, curves (mean
 * and sd over seeds per weight, epoch and eval set), final (last epoch),
 * agreement (Section 3), 2D points/surfaces/lines, inputs.json (provenance).
 */
export default defineStage({
  params: z
    .object({
      /** The experiment's name, how figures and the report find its tables. */
      experiment: z.string().min(1),
      /** 2D decision surfaces are downsampled to grid×grid cells for plotting. */
      grid: z.number().int().min(2).max(256).default(24),
      /** At most this many 2D training points per data set are plotted. */
      max_points: z.number().int().positive().default(400),
    })
    .strict(),
  async run(ctx) {
    const { aggregateExperiment } = await import('../src/figures/aggregate.js');
    aggregateExperiment(ctx.inputs.runs ?? [], ctx.inputs.data ?? [], ctx.outDir, {
      experiment: ctx.params.experiment,
      grid: ctx.params.grid,
      maxPoints: ctx.params.max_points,
      log: (l) => ctx.log(l),
    });
  },
});
