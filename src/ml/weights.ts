/**
 * Importance weights per class, from one of the train node's ways to say them:
 *
 *   class_weights: [w0, w1, ...]   explicit, one per class
 *   weight_ratio: r                binary: weight of class 1 relative to class 0,
 *                                  the larger weight being 1: r < 1 -> [1, r],
 *                                  r >= 1 -> [1/r, 1]. The paper's grids: r in
 *                                  2^-8..2^8 (unregularized CIFAR and 2D),
 *                                  4^-k..4^k (regularized, MRPC); "inverse powers
 *                                  ... for each class" = down-weighting either class.
 *   rho + focus_class              multiclass (Fig. 5): the focus class ρ, each of
 *                                  the other K-1 classes (1-ρ)/(K-1)
 *   rebalance: true                imbalanced binary sets (Fig. A.6b): the class
 *                                  that was not sub-sampled is down-weighted by the
 *                                  sub-sampling ratio (read from the data set's
 *                                  meta.json: details.subsample = {class, ratio})
 *   none of these                  all 1 (no importance weighting)
 */

export interface WeightParams {
  class_weights: number[] | null;
  weight_ratio: number | null;
  rho: number | null;
  focus_class: number | null;
  rebalance: boolean;
}

export function weightSourceCount(p: WeightParams): number {
  return [p.class_weights !== null, p.weight_ratio !== null, p.rho !== null, p.rebalance].filter(Boolean).length;
}

export function resolveClassWeights(p: WeightParams, classes: readonly string[], details: Record<string, unknown>): number[] {
  const K = classes.length;
  if (weightSourceCount(p) > 1) throw new Error('give at most one of class_weights, weight_ratio, rho, rebalance');
  if (p.class_weights) {
    if (p.class_weights.length !== K) throw new Error(`class_weights has ${p.class_weights.length} entries for ${K} classes (${classes.join(', ')})`);
    if (p.class_weights.every((w) => w === 0)) throw new Error('class_weights are all zero');
    return [...p.class_weights];
  }
  if (p.weight_ratio !== null) {
    if (K !== 2) throw new Error(`weight_ratio is for binary data sets; this one has ${K} classes`);
    const r = p.weight_ratio;
    return r < 1 ? [1, r] : [1 / r, 1];
  }
  if (p.rho !== null) {
    if (K < 3) throw new Error(`rho is for multiclass data sets; this one has ${K} classes`);
    if (p.focus_class === null) throw new Error('rho needs focus_class (the class weighted by rho)');
    const f = p.focus_class;
    if (!(f >= 0 && f < K)) throw new Error(`focus_class ${f} outside 0..${K - 1}`);
    return Array.from({ length: K }, (_, c) => (c === f ? p.rho! : (1 - p.rho!) / (K - 1)));
  }
  if (p.rebalance) {
    const s = details.subsample as { class?: string; ratio?: number } | undefined;
    if (!s || typeof s.class !== 'string' || typeof s.ratio !== 'number') {
      throw new Error('rebalance: the data set was not sub-sampled (meta.json details.subsample is missing)');
    }
    const idx = classes.indexOf(s.class);
    if (idx < 0 || K !== 2) throw new Error(`rebalance: sub-sampled class '${s.class}' is not one of ${classes.join(', ')}`);
    return classes.map((_, c) => (c === idx ? 1 : s.ratio!));
  }
  return new Array<number>(K).fill(1);
}

/** The class whose predicted fraction is `frac_second`: focus_class for multiclass, else class 1. */
export function focusClassOf(p: WeightParams): number {
  return p.focus_class ?? 1;
}
