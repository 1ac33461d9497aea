import { Rng } from '../data/rng.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import type { SplitData } from './data.js';
import { evaluateLogits, type EvalContext, type MetricRow } from './evaluate.js';
import type { Learner } from './learner.js';
import type { TensorData } from './params.js';
import { gridPoints, sigmoidOf, type GridSpec } from './surface.js';

/**
 * The training loop, shared by every model and implementation (Learner):
 *
 *   - epoch e visits the training set in the order of a seeded shuffle,
 *     `Rng.stream(seed, 'shuffle:<e>')` (Fisher-Yates), and dropout draws
 *     from `Rng.stream(seed, 'dropout:<e>')`: every epoch's randomness is a
 *     function of (seed, epoch), so a run resumed at an epoch boundary
 *     draws exactly what an uninterrupted run draws;
 *   - evaluation at the scheduled epochs (schedule.ts) on every evaluation
 *     set; decision-surface snapshots for 2D models;
 *   - a checkpoint (checkpoint.ts) every `checkpointEveryEpochs` epochs and/or
 *     `checkpointEverySeconds` seconds; a rerun with the same checkpoint
 *     directory and configuration resumes from it and produces the same
 *     results as an uninterrupted run;
 *   - progress (epoch, training loss and accuracy, ETA) after every epoch.
 */

export interface LoopConfig {
  epochs: number;
  seed: number;
  /** Sorted evaluation epochs (must contain `epochs`). */
  evalEpochs: number[];
  /** Sorted snapshot epochs of the decision surface, or null (not a 2D model). */
  snapshotEpochs: number[] | null;
  grid: GridSpec | null;
  /** Record the affine boundary (logistic regression) at snapshot and evaluation epochs. */
  recordLinear: boolean;
  evalContext: EvalContext;
  /** Identifies the configuration; a checkpoint with another fingerprint is not resumed. */
  fingerprint: string;
}

export interface LoopHooks {
  progress?(done: number, total: number, info: Record<string, string | number>): void;
  log?(line: string): void;
  checkpointDir?: string | null;
  checkpointEveryEpochs?: number | null;
  checkpointEverySeconds?: number | null;
}

export interface Boundary {
  epoch: number;
  w: number[];
  b: number;
}

export interface LoopResult {
  rows: MetricRow[];
  /** Final-epoch predicted labels per evaluation set. */
  predictions: Map<string, Int32Array>;
  surfaces: Array<{ epoch: number; probs: Float32Array }>;
  boundaries: Boundary[];
  epochsRun: number;
  resumedFrom: number | null;
  final: { loss: number | null; accuracy: number | null };
}

interface CheckpointInfo {
  fingerprint: string;
  epoch: number;
  step: number;
  rows: MetricRow[];
  boundaries: Boundary[];
  surfaceEpochs: number[];
}

const LEARNER_PREFIX = 'learner/';
const SURFACE_PREFIX = 'surface/';

/** The visiting order of epoch `epoch`. */
export function epochOrder(seed: number, epoch: number, n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return Rng.stream(seed, `shuffle:${epoch}`).shuffle(order);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

export async function trainLoop(learner: Learner, train: SplitData, evals: SplitData[], cfg: LoopConfig, hooks: LoopHooks = {}): Promise<LoopResult> {
  const log = hooks.log ?? (() => {});
  const evalSet = new Set(cfg.evalEpochs);
  const snapSet = new Set(cfg.snapshotEpochs ?? []);
  if (!evalSet.has(cfg.epochs)) throw new Error('the evaluation schedule must include the last epoch');
  const grid = cfg.grid ? gridPoints(cfg.grid) : null;

  let rows: MetricRow[] = [];
  let boundaries: Boundary[] = [];
  let surfaces: Array<{ epoch: number; probs: Float32Array }> = [];
  let start = 0;
  let resumedFrom: number | null = null;

  if (hooks.checkpointDir) {
    const ckpt = readCheckpoint<CheckpointInfo>(hooks.checkpointDir);
    if (ckpt && ckpt.info.fingerprint === cfg.fingerprint && ckpt.info.epoch <= cfg.epochs) {
      const tensors: Record<string, TensorData> = {};
      for (const [k, v] of Object.entries(ckpt.tensors)) if (k.startsWith(LEARNER_PREFIX)) tensors[k.slice(LEARNER_PREFIX.length)] = v;
      learner.restore({ step: ckpt.info.step, tensors });
      rows = ckpt.info.rows;
      boundaries = ckpt.info.boundaries;
      surfaces = ckpt.info.surfaceEpochs.map((epoch) => ({ epoch, probs: Float32Array.from(ckpt.tensors[`${SURFACE_PREFIX}${epoch}`]!.data) }));
      start = ckpt.info.epoch;
      resumedFrom = start;
      log(`resumed from the checkpoint after epoch ${start} of ${cfg.epochs}`);
    } else if (ckpt) {
      log('ignoring a checkpoint of a different configuration');
    }
  }

  let predictions = new Map<string, Int32Array>();
  const evaluate = async (epoch: number) => {
    const last = epoch === cfg.epochs;
    if (last) predictions = new Map();
    for (const split of evals) {
      const logits = await learner.logits(split);
      const r = evaluateLogits(epoch, split.name, logits, split.y, cfg.evalContext);
      rows.push(r.row);
      if (last) predictions.set(split.name, r.predictions);
    }
  };
  const snapshot = async (epoch: number) => {
    if (grid && snapSet.has(epoch)) surfaces.push({ epoch, probs: sigmoidOf(await learner.pointLogits(grid)) });
    if (cfg.recordLinear && (snapSet.has(epoch) || evalSet.has(epoch))) {
      const lin = await learner.linear();
      if (lin) boundaries.push({ epoch, ...lin });
    }
  };

  const saveCheckpoint = async (epoch: number) => {
    if (!hooks.checkpointDir) return;
    const st = await learner.state();
    const tensors: Record<string, TensorData> = {};
    for (const [k, v] of Object.entries(st.tensors)) tensors[`${LEARNER_PREFIX}${k}`] = v;
    for (const s of surfaces) tensors[`${SURFACE_PREFIX}${s.epoch}`] = { shape: [s.probs.length], data: s.probs };
    writeCheckpoint<CheckpointInfo>(hooks.checkpointDir, {
      info: { fingerprint: cfg.fingerprint, epoch, step: st.step, rows, boundaries, surfaceEpochs: surfaces.map((s) => s.epoch) },
      tensors,
    });
  };

  if (start === 0) {
    if (evalSet.has(0)) await evaluate(0);
    await snapshot(0);
  }

  const t0 = performance.now();
  let lastCheckpoint = t0;
  const n = train.n;
  for (let epoch = start + 1; epoch <= cfg.epochs; epoch++) {
    const { loss, accuracy } = await learner.trainEpoch(epoch, epochOrder(cfg.seed, epoch, n));
    if (!Number.isFinite(loss)) log(`epoch ${epoch}: the training loss is ${loss} (diverged)`);
    if (evalSet.has(epoch)) await evaluate(epoch);
    await snapshot(epoch);
    const now = performance.now();
    if (epoch < cfg.epochs) {
      const byEpochs = hooks.checkpointEveryEpochs ? epoch % hooks.checkpointEveryEpochs === 0 : false;
      const bySeconds = hooks.checkpointEverySeconds != null ? now - lastCheckpoint >= hooks.checkpointEverySeconds * 1000 : false;
      if (byEpochs || bySeconds) {
        await saveCheckpoint(epoch);
        lastCheckpoint = performance.now();
      }
    }
    const rate = (now - t0) / 1000 / (epoch - start);
    hooks.progress?.(epoch, cfg.epochs, {
      epoch,
      loss: Number(loss.toPrecision(4)),
      acc: Number(accuracy.toFixed(4)),
      eta: formatDuration(rate * (cfg.epochs - epoch)),
    });
  }
  if (cfg.epochs === 0) hooks.progress?.(0, 0, { epoch: 0 });

  const finalTrain = rows.filter((r) => r.epoch === cfg.epochs && r.eval_set === train.name).pop();
  return {
    rows,
    predictions,
    surfaces,
    boundaries,
    epochsRun: cfg.epochs,
    resumedFrom,
    final: { loss: finalTrain?.loss ?? null, accuracy: finalTrain?.accuracy ?? null },
  };
}
