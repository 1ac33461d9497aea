/**
 * When to evaluate. The paper plots classification ratios against training
 * epochs on a log axis (Figures 4-6, A.3-A.9) and decision surfaces at a few
 * epochs (Figures 1-3) without listing the epochs; our choice:
 *
 *   evaluation epochs  `points` log-spaced epochs from 1 to the last
 *                      (rounded, duplicates dropped), plus the last epoch,
 *                      plus epoch 0 (the initialization) when asked, plus any
 *                      listed explicitly;
 *   snapshot epochs    (2D decision surfaces) 'decades': 1, 10, 100, ... up
 *                      to the last epoch, plus the last; or an explicit list.
 */

export interface EvalScheduleSpec {
  /** Number of log-spaced points between epoch 1 and the last epoch. */
  points: number;
  /** Also evaluate the initial model (epoch 0). */
  include_initial: boolean;
  /** Extra epochs to evaluate. */
  epochs: number[];
}

export function logSpacedEpochs(total: number, points: number): number[] {
  if (!Number.isInteger(total) || total < 0) throw new Error(`epochs must be a non-negative integer, got ${total}`);
  if (total === 0) return [];
  const out = new Set<number>();
  const n = Math.max(1, Math.floor(points));
  const top = Math.log10(total);
  for (let k = 0; k < n; k++) {
    const e = n === 1 ? total : Math.round(Math.pow(10, (top * k) / (n - 1)));
    out.add(Math.min(total, Math.max(1, e)));
  }
  out.add(total);
  return [...out].sort((a, b) => a - b);
}

/** Sorted, unique evaluation epochs in [0, total]; always contains `total`. */
export function evalEpochs(total: number, spec: EvalScheduleSpec): number[] {
  const set = new Set(logSpacedEpochs(total, spec.points));
  if (spec.include_initial) set.add(0);
  for (const e of spec.epochs) {
    if (!Number.isInteger(e) || e < 0) throw new Error(`evaluation epoch must be a non-negative integer, got ${e}`);
    if (e <= total) set.add(e);
  }
  set.add(total);
  return [...set].sort((a, b) => a - b);
}

/** Snapshot epochs for decision surfaces. */
export function snapshotEpochs(total: number, spec: 'decades' | number[]): number[] {
  const set = new Set<number>();
  if (spec === 'decades') {
    for (let e = 1; e <= total; e *= 10) set.add(e);
  } else {
    for (const e of spec) {
      if (!Number.isInteger(e) || e < 0) throw new Error(`snapshot epoch must be a non-negative integer, got ${e}`);
      if (e <= total) set.add(e);
    }
  }
  set.add(total);
  return [...set].sort((a, b) => a - b);
}
