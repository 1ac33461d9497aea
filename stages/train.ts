import { defineStage } from '../src/engine/stage.js';
import { backendFacts } from '../src/ml/backend.js';
import { effectiveBackend, jsTrainerFacts, trainParamsSchema } from '../src/ml/train-params.js';

/**
 * train: one model trained on one preprocess node's data set (`needs: { data:
 * preprocess@... }`), with importance weights per class; writes metrics.csv,
 * predictions/<set>.npy, meta.json and, for 2D models, surface.npy,
 * surface.json, svm.json and boundary.json (see src/ml/run.ts for the
 * contract and src/ml/train-params.ts for the params).
 *
 * Environment facts (part of the node key): the compute backend and its
 * version, or the float64 JavaScript trainer's revision for the 2D models;
 * the SHA-256 of a pretrained checkpoint when one is given.
 *
 * Checkpoints go to the node's checkpoint directory every
 * IWDL_CHECKPOINT_SECONDS seconds (default 60) and, if set, every
 * IWDL_CHECKPOINT_EPOCHS epochs; they do not change results.
 */

function envNumber(name: string): number | null {
  const v = process.env[name];
  if (v === undefined || v === '') return null;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got '${v}'`);
  return n;
}

export default defineStage({
  params: trainParamsSchema,
  async environment(params) {
    const impl = effectiveBackend(params);
    let facts: Record<string, string>;
    if (impl === 'js') {
      facts = { ...jsTrainerFacts() };
    } else {
      facts = { ...backendFacts(impl === 'auto' ? undefined : impl) };
    }
    if (params.pretrained) {
      const { pretrainedDigest } = await import('../src/ml/pretrained.js');
      facts.pretrained_sha256 = pretrainedDigest(params.pretrained);
    }
    return facts;
  },
  async run(ctx) {
    const { runTrainNode } = await import('../src/ml/run.js');
    await runTrainNode({
      params: ctx.params,
      dataDir: ctx.input('data'),
      outDir: ctx.outDir,
      checkpointDir: ctx.checkpointDir,
      threads: ctx.threads,
      progress: (done, total, info) => ctx.progress(done, total, info),
      log: (line) => ctx.log(line),
      checkpointEveryEpochs: envNumber('IWDL_CHECKPOINT_EPOCHS'),
      checkpointEverySeconds: envNumber('IWDL_CHECKPOINT_SECONDS') ?? 60,
    });
  },
});
