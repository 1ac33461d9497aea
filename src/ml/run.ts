import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { npyArray, writeNpy } from '../data/npy.js';
import { loadTrainingData, sigmaMaxOf, vocabSize, type TrainingData } from './data.js';
import { metricsCsv } from './evaluate.js';
import type { Learner } from './learner.js';
import { parseInitScheme } from './params.js';
import { hardMarginSvm2d } from './svm.js';
import { evalEpochs, snapshotEpochs } from './schedule.js';
import { gridFor } from './surface.js';
import { createJs2dLearner, type Js2dModel } from './train-2d.js';
import { effectiveBackend, jsTrainerFacts, type TrainParams } from './train-params.js';
import { trainLoop, type LoopResult } from './train.js';
import { focusClassOf, resolveClassWeights } from './weights.js';

/**
 * One train node, from params and a preprocess node's directory to the
 * node's outputs (the contract the aggregate and figure stages read):
 *
 *   metrics.csv                epoch,eval_set,n,frac_second,accuracy,weighted_accuracy,loss
 *                              (evaluate.ts); eval sets train, then the data set's other
 *                              splits (test, other, noise for binary CIFAR sets)
 *   predictions/<set>.npy      final-epoch predicted labels per eval set: uint8 for
 *                              binary models, int32 for multiclass
 *   meta.json                  params, resolved class weights and learning rate, model,
 *                              backend and version, seconds, final train accuracy and
 *                              loss, number of parameters, epochs run
 *   2D binary data only:
 *   surface.npy                float32 [snapshots, G, G]: P(class 1) on the grid
 *                              (surface.ts: row = y index from the bottom, column = x)
 *   surface.json               grid bounds, G, snapshot epochs
 *   svm.json                   the hard-margin SVM of the training points (svm.ts)
 *   boundary.json              logistic regression: w, b at every snapshot and
 *                              evaluation epoch
 */

export interface RunTrainOptions {
  params: TrainParams;
  dataDir: string;
  outDir: string;
  checkpointDir?: string | null;
  threads?: number;
  progress?(done: number, total: number, info: Record<string, string | number>): void;
  log?(line: string): void;
  checkpointEveryEpochs?: number | null;
  checkpointEverySeconds?: number | null;
}

export interface TrainMeta {
  [key: string]: unknown;
}

function transformerOptions(p: TrainParams, data: TrainingData, pretrainedConfig: Record<string, unknown> | null): Record<string, unknown> {
  const details = data.meta.details as { special_tokens?: Record<string, number> };
  const special = details.special_tokens ?? {};
  const base: Record<string, unknown> = {
    vocab_size: vocabSize(data),
    ...(special['[PAD]'] !== undefined ? { pad_id: special['[PAD]'] } : {}),
    ...(special['[SEP]'] !== undefined ? { sep_id: special['[SEP]'] } : {}),
    ...p.model_options,
  };
  if (pretrainedConfig) Object.assign(base, pretrainedConfig, { exact: true });
  return base;
}

export async function runTrainNode(o: RunTrainOptions): Promise<TrainMeta> {
  const started = performance.now();
  const p = o.params;
  const log = o.log ?? (() => {});
  const data = loadTrainingData(o.dataDir, { trainLimit: p.train_limit });
  if (data.limited) log(`train_limit: ${data.limited.to} of ${data.limited.from} training examples`);
  const classWeights = resolveClassWeights(p, data.meta.classes, data.meta.details);
  const focusClass = focusClassOf(p);
  let sigmaMax: number | null = null;
  let lr: number;
  if (p.lr === 'inverse_sigma_max') {
    if (data.input !== 'points') throw new Error(`lr 'inverse_sigma_max' is for point data sets, not ${data.input}`);
    sigmaMax = sigmaMaxOf(data.train.x as Float32Array, data.exampleSize);
    lr = 1 / sigmaMax;
  } else {
    lr = p.lr;
  }
  if (p.lr_unweighted !== null && classWeights.every((w) => w === classWeights[0])) {
    lr = p.lr_unweighted;
    log(`no importance weighting: lr_unweighted ${lr} instead of lr`);
  }
  log(`data: ${data.meta.kind} (${data.meta.classes.join(', ')}), train ${data.train.n}; eval sets ${data.evals.map((s) => `${s.name} ${s.n}`).join(', ')}`);
  log(`class weights [${classWeights.join(', ')}]; lr ${lr}${sigmaMax !== null ? ` (1/σmax, σmax ${sigmaMax})` : ''}; optimizer ${p.optimizer.name}; l2 ${p.l2}; dropout ${p.dropout}`);

  const impl = effectiveBackend(p);
  let learner: Learner;
  let backend: Record<string, unknown>;
  if (impl === 'js') {
    learner = createJs2dLearner(data, {
      model: p.model as Js2dModel,
      width: p.width,
      dropout: p.dropout,
      seed: p.seed,
      batchSize: p.batch_size,
      lr,
      l2: p.l2,
      optimizer: p.optimizer,
      classWeights,
      reduction: p.reduction,
      init: parseInitScheme(p.model_options.init),
    });
    backend = { ...jsTrainerFacts(), threads: 1 };
  } else {
    const { initBackendRuntime } = await import('./backend.js');
    const rt = await initBackendRuntime(impl === 'auto' ? undefined : impl, o.threads);
    backend = { backend: rt.backend, version: rt.version, tfjs_backend: rt.tfjsBackend, threads: rt.threads, ...(rt.simd !== undefined ? { simd: rt.simd } : {}), notes: rt.notes };
    log(`backend ${rt.backend} ${rt.version}, ${rt.threads} thread(s)${rt.notes.length ? ` (${rt.notes.join('; ')})` : ''}`);
    const tf = await import('@tensorflow/tfjs');
    const { createTfjsLearner } = await import('./tfjs-learner.js');
    let initialValues = null;
    let pretrainedConfig: Record<string, unknown> | null = null;
    if (p.pretrained) {
      const { loadPretrained } = await import('./pretrained.js');
      const pre = loadPretrained(p.pretrained);
      if (pre.vocab) {
        const { readFileSync, existsSync } = await import('node:fs');
        const vf = join(o.dataDir, 'vocab.json');
        const ours = existsSync(vf) ? (JSON.parse(readFileSync(vf, 'utf8')) as string[]) : null;
        if (!ours || ours.length !== pre.vocab.length || ours.some((t, i) => t !== pre.vocab![i])) {
          throw new Error(`pretrained checkpoint ${p.pretrained}: its vocab.json differs from the data set's vocabulary`);
        }
      }
      initialValues = pre.values;
      pretrainedConfig = pre.config;
      log(`pretrained: ${Object.keys(pre.values).length} parameter arrays from ${p.pretrained}`);
    }
    const modelOptions = p.model === 'transformer' ? transformerOptions(p, data, pretrainedConfig) : { ...p.model_options, ...(pretrainedConfig ?? {}) };
    const l = createTfjsLearner(tf, data, {
      model: p.model,
      width: p.width,
      modelOptions,
      dropout: p.dropout,
      seed: p.seed,
      batchSize: p.batch_size,
      evalBatchSize: p.eval.batch_size,
      lr,
      l2: p.l2,
      optimizer: p.optimizer,
      classWeights,
      reduction: p.reduction,
      initialValues,
    });
    if (initialValues) {
      const missing = l.model.params.infos().filter((i) => i.trainable && !(i.name in initialValues!)).map((i) => i.name);
      if (missing.some((n) => !n.startsWith('out/'))) log(`pretrained: parameters initialized from the seed instead: ${missing.join(', ')}`);
    }
    learner = l;
  }
  log(`model: ${learner.describe()}; ${learner.numParams} parameters`);

  const is2d = data.input === 'points' && data.exampleSize === 2 && learner.outputs === 1;
  const epochsList = evalEpochs(p.epochs, p.eval);
  const snaps = is2d ? snapshotEpochs(p.epochs, p.eval.snapshots) : null;
  const grid = is2d ? gridFor(data.train.x as Float32Array, p.eval.grid) : null;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ params: p, backend: { backend: backend.backend, version: backend.version }, n: data.train.n }))
    .digest('hex');

  let result: LoopResult;
  try {
    result = await trainLoop(
      learner,
      data.train,
      data.evals,
      {
        epochs: p.epochs,
        seed: p.seed,
        evalEpochs: epochsList,
        snapshotEpochs: snaps,
        grid,
        recordLinear: p.model === 'logistic' && learner.outputs === 1,
        evalContext: { outputs: learner.outputs, classWeights, focusClass, reduction: p.reduction },
        fingerprint,
      },
      {
        progress: o.progress,
        log,
        checkpointDir: o.checkpointDir ?? null,
        checkpointEveryEpochs: o.checkpointEveryEpochs ?? null,
        checkpointEverySeconds: o.checkpointEverySeconds ?? null,
      },
    );
  } finally {
    learner.dispose();
  }

  // Outputs.
  writeFileSync(join(o.outDir, 'metrics.csv'), metricsCsv(result.rows));
  mkdirSync(join(o.outDir, 'predictions'), { recursive: true });
  for (const [name, pred] of result.predictions) {
    const arr = learner.outputs === 1 ? npyArray('|u1', [pred.length], Uint8Array.from(pred)) : npyArray('<i4', [pred.length], pred);
    writeNpy(join(o.outDir, 'predictions', `${name}.npy`), arr);
  }
  if (is2d && grid && snaps) {
    const G = grid.size;
    const all = new Float32Array(result.surfaces.length * G * G);
    result.surfaces.forEach((s, i) => all.set(s.probs, i * G * G));
    writeNpy(join(o.outDir, 'surface.npy'), npyArray('<f4', [result.surfaces.length, G, G], all));
    writeJson(join(o.outDir, 'surface.json'), {
      G,
      x: grid.x,
      y: grid.y,
      epochs: result.surfaces.map((s) => s.epoch),
      layout: 'surface.npy[k, r, c] = P(class 1) at epochs[k], x = x0 + c (x1 - x0)/(G - 1), y = y0 + r (y1 - y0)/(G - 1)',
    });
    writeJson(join(o.outDir, 'svm.json'), hardMarginSvm2d(data.train.x as Float32Array, data.train.y!));
    if (p.model === 'logistic') {
      writeJson(join(o.outDir, 'boundary.json'), {
        boundary: 'w[0] x + w[1] y + b = 0 (logit of class 1)',
        snapshots: result.boundaries.filter((b) => snaps.includes(b.epoch)),
        evals: result.boundaries.filter((b) => epochsList.includes(b.epoch)),
      });
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const meta: TrainMeta = {
    params: p,
    data: {
      kind: data.meta.kind,
      classes: data.meta.classes,
      train: data.train.n,
      ...(data.limited ? { train_limit: data.limited } : {}),
      eval_sets: Object.fromEntries(data.evals.map((s) => [s.name, s.n])),
      ...(data.normalization ? { normalization: data.normalization } : {}),
    },
    class_weights: classWeights,
    focus_class: learner.outputs === 1 ? 1 : focusClass,
    lr,
    ...(sigmaMax !== null ? { sigma_max: sigmaMax } : {}),
    model: { name: p.model, description: learner.describe(), num_params: learner.numParams, outputs: learner.outputs },
    backend,
    epochs_run: result.epochsRun,
    eval_epochs: epochsList,
    ...(snaps ? { snapshot_epochs: snaps } : {}),
    final: { train_loss: result.final.loss, train_accuracy: result.final.accuracy },
    seconds: Math.round(seconds * 1000) / 1000,
  };
  writeJson(join(o.outDir, 'meta.json'), meta);
  log(`done: ${result.epochsRun} epochs in ${seconds.toFixed(1)} s${result.resumedFrom !== null ? ` (resumed after epoch ${result.resumedFrom})` : ''}; final train accuracy ${result.final.accuracy}, loss ${result.final.loss}`);
  return meta;
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}
