import { crossEntropyHost, type Reduction } from './loss.js';

/**
 * Metrics of one evaluation set at one epoch, from the model's logits
 * (computed in float64 on the host, so they do not depend on reduction order
 * in a backend):
 *
 *   n                  examples
 *   frac_second        fraction predicted as class 1 (binary: the second class,
 *                      e.g. dog, truck, paraphrase); multiclass: as the focus class
 *   accuracy           fraction correct (labelled sets only)
 *   weighted_accuracy  Σ w_y·correct / Σ w_y with the class weights: accuracy on a
 *                      test distribution whose class proportions are re-weighted
 *                      like the training loss (Fig. 5's label-shift accuracy)
 *   loss               class-weighted mean cross-entropy (the training objective
 *                      without L2, with the node's reduction), labelled sets only
 *
 * Binary models predict class 1 when the logit is > 0; multiclass models take
 * the arg max (lowest index on ties).
 */

export interface MetricRow {
  epoch: number;
  eval_set: string;
  n: number;
  frac_second: number;
  accuracy: number | null;
  weighted_accuracy: number | null;
  loss: number | null;
}

export const METRIC_COLUMNS = ['epoch', 'eval_set', 'n', 'frac_second', 'accuracy', 'weighted_accuracy', 'loss'] as const;

export function predictionsFromLogits(logits: ArrayLike<number>, outputs: number, n: number): Int32Array {
  const pred = new Int32Array(n);
  if (outputs === 1) {
    for (let i = 0; i < n; i++) pred[i] = logits[i]! > 0 ? 1 : 0;
    return pred;
  }
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestV = logits[i * outputs]!;
    for (let k = 1; k < outputs; k++) {
      const v = logits[i * outputs + k]!;
      if (v > bestV) {
        bestV = v;
        best = k;
      }
    }
    pred[i] = best;
  }
  return pred;
}

export interface EvalContext {
  outputs: number;
  classWeights: readonly number[];
  focusClass: number;
  reduction: Reduction;
}

export function evaluateLogits(
  epoch: number,
  evalSet: string,
  logits: ArrayLike<number>,
  labels: Int32Array | null,
  ctx: EvalContext,
): { row: MetricRow; predictions: Int32Array } {
  const n = labels ? labels.length : logits.length / ctx.outputs;
  const pred = predictionsFromLogits(logits, ctx.outputs, n);
  const focus = ctx.outputs === 1 ? 1 : ctx.focusClass;
  let second = 0;
  for (let i = 0; i < n; i++) if (pred[i] === focus) second++;
  const row: MetricRow = {
    epoch,
    eval_set: evalSet,
    n,
    frac_second: n ? second / n : 0,
    accuracy: null,
    weighted_accuracy: null,
    loss: null,
  };
  if (labels && n > 0) {
    let correct = 0;
    let wCorrect = 0;
    let wSum = 0;
    let lossSum = 0;
    const l = crossEntropyHost(logits, ctx.outputs, labels);
    for (let i = 0; i < n; i++) {
      const w = ctx.classWeights[labels[i]!]!;
      const ok = pred[i] === labels[i] ? 1 : 0;
      correct += ok;
      wCorrect += w * ok;
      wSum += w;
      lossSum += w * l[i]!;
    }
    row.accuracy = correct / n;
    row.weighted_accuracy = wSum > 0 ? wCorrect / wSum : null;
    row.loss = ctx.reduction === 'weighted_mean' ? (wSum > 0 ? lossSum / wSum : null) : lossSum / n;
  }
  return { row, predictions: pred };
}

/** Shortest decimal that reads back as the same float64 (JS's own), empty for null. */
function cell(v: number | string | null): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  return String(v);
}

/** metrics.csv: header plus one row per (epoch, eval set), in the given order. */
export function metricsCsv(rows: readonly MetricRow[]): string {
  const lines = [METRIC_COLUMNS.join(',')];
  for (const r of rows) lines.push(METRIC_COLUMNS.map((c) => cell(r[c])).join(','));
  return lines.join('\n') + '\n';
}
