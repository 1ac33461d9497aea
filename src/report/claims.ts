import type { FigureData, Row } from '../figures/figure.js';

/**
 * The paper's findings, each next to what this run measured and a verdict
 * computed from the aggregated tables by an explicit rule. Nothing is
 * hard-coded: a claim whose experiment is absent is "not measured".
 */

export type Verdict = 'reproduced' | 'not reproduced' | 'inconclusive' | 'not measured' | 'not comparable';

export interface Claim {
  id: string;
  claim: string;
  figures: string[];
  measured: string;
  verdict: Verdict;
  rule: string;
}

/** Minimum difference in a fraction that counts as an effect. */
export const EFFECT = 0.05;

const f3 = (v: number) => v.toFixed(3);
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

function testRows(rows: Row[], metric = 'frac_second'): Row[] {
  return rows.filter((r) => r.eval_set === 'test' && typeof r[`${metric}_mean`] === 'number');
}

/** max - min over series (weights or rho) of a metric's mean at one epoch. */
function spreadAt(rows: Row[], epoch: number, metric: string, series = 'weight', only?: Set<number>): number | null {
  const v = rows.filter((r) => r.epoch === epoch && (!only || only.has(r[series]))).map((r) => r[`${metric}_mean`] as number);
  return v.length >= 2 ? Math.max(...v) - Math.min(...v) : null;
}

function vanishes(data: FigureData, experiment: string, label: string, figures: string[], metric = 'frac_second', series = 'weight'): Claim {
  const rows = testRows(data.rows(experiment, 'curves'), metric);
  const epochs = [...new Set(rows.map((r) => r.epoch as number))].filter((e) => e >= 1).sort((a, b) => a - b);
  const rule = `spread (max - min over ${series === 'rho' ? 'ρ' : 'weights'}) of the mean test ${metric} at the first evaluated epoch ≥ 1 vs at the last; "reproduced" if last < 0.5 × first; "inconclusive" if the first spread is < ${EFFECT}`;
  const base = { id: `vanish-${experiment}`, claim: `The effect of importance weighting vanishes with training epochs (${label})`, figures, rule };
  if (epochs.length < 2) return { ...base, measured: `experiment '${experiment}' absent or fewer than two evaluated epochs`, verdict: 'not measured' };
  const first = spreadAt(rows, epochs[0]!, metric, series);
  const last = spreadAt(rows, epochs[epochs.length - 1]!, metric, series);
  if (first === null || last === null) return { ...base, measured: 'fewer than two weights', verdict: 'not measured' };
  const measured = `spread ${f3(first)} at epoch ${epochs[0]} → ${f3(last)} at epoch ${epochs[epochs.length - 1]}`;
  if (first < EFFECT) return { ...base, measured, verdict: 'inconclusive' };
  return { ...base, measured, verdict: last < 0.5 * first ? 'reproduced' : 'not reproduced' };
}

/** Final-epoch spread over the weights both experiments share. */
function finalSpreads(data: FigureData, a: string, b: string): { sa: number; sb: number; weights: number[] } | null {
  const ra = testRows(data.rows(a, 'final'));
  const rb = testRows(data.rows(b, 'final'));
  const wb = new Set(rb.map((r) => r.weight as number));
  const common = new Set(ra.map((r) => r.weight as number).filter((w) => wb.has(w)));
  if (common.size < 2) return null;
  const sa = spreadAt(ra, ra[0]!.epoch, 'frac_second', 'weight', common);
  const sb = spreadAt(rb, rb[0]!.epoch, 'frac_second', 'weight', common);
  return sa === null || sb === null ? null : { sa, sb, weights: [...common].sort((x, y) => x - y) };
}

function restores(data: FigureData, id: string, claim: string, figures: string[], reg: string, plain: string, expectEffect: boolean): Claim {
  const rule = expectEffect
    ? `final-epoch spread of the test fraction over the shared weights: "reproduced" if spread(${reg}) ≥ spread(${plain}) + ${EFFECT}`
    : `final-epoch spread of the test fraction over the shared weights: "reproduced" if spread(${reg}) ≤ spread(${plain}) + ${EFFECT}`;
  const s = finalSpreads(data, reg, plain);
  if (!s) return { id, claim, figures, rule, measured: `needs '${reg}' and '${plain}' with ≥ 2 shared weights`, verdict: 'not measured' };
  const measured = `spread ${f3(s.sa)} (${reg}) vs ${f3(s.sb)} (${plain}) over ${s.weights.length} weights`;
  const ok = expectEffect ? s.sa >= s.sb + EFFECT : s.sa <= s.sb + EFFECT;
  return { id, claim, figures, rule, measured, verdict: ok ? 'reproduced' : 'not reproduced' };
}

function imbalance(data: FigureData): Claim[] {
  const rows = (e: string) => testRows(data.rows(e, 'final')).filter((r) => typeof r.ratio === 'number');
  const plain = rows('imbalance');
  const reb = rows('imbalance-rebalanced');
  const spreadOverRatios = (rs: Row[]) => {
    let best: number | null = null;
    for (const cls of new Set(rs.map((r) => String(r.subsampled)))) {
      const v = rs.filter((r) => String(r.subsampled) === cls).map((r) => r.frac_second_mean as number);
      if (v.length >= 2) best = Math.max(best ?? 0, Math.max(...v) - Math.min(...v));
    }
    return best;
  };
  const dev = (rs: Row[]) => (rs.length ? rs.reduce((s, r) => s + Math.abs(r.frac_second_mean - 0.5), 0) / rs.length : null);
  const out: Claim[] = [];
  const s = spreadOverRatios(plain);
  out.push({
    id: 'subsampling-effect',
    claim: 'Sub-sampling one class changes the classification ratios',
    figures: ['figA6'],
    rule: `max over the sub-sampled class of the spread of the final test fraction (dog) over sub-sampling ratios; "reproduced" if ≥ ${EFFECT}`,
    ...(s === null ? { measured: "needs 'imbalance' with ≥ 2 ratios", verdict: 'not measured' as Verdict } : { measured: `spread ${f3(s)}`, verdict: (s >= EFFECT ? 'reproduced' : 'not reproduced') as Verdict }),
  });
  const d0 = dev(plain);
  const d1 = dev(reb);
  out.push({
    id: 'reweighting-no-correction',
    claim: 'Importance weighting does not undo the imbalance (classification ratios stay unbalanced)',
    figures: ['figA6'],
    rule: 'mean |final test fraction − 0.5| over ratios, with vs without rebalancing weights; "reproduced" if with ≥ 0.5 × without (and without ≥ ' + EFFECT + ')',
    ...(d0 === null || d1 === null
      ? { measured: "needs 'imbalance' and 'imbalance-rebalanced'", verdict: 'not measured' as Verdict }
      : { measured: `imbalance ${f3(d1)} with weights vs ${f3(d0)} without`, verdict: (d0 < EFFECT ? 'inconclusive' : d1 >= 0.5 * d0 ? 'reproduced' : 'not reproduced') as Verdict }),
  });
  return out;
}

function agreement(data: FigureData): Claim[] {
  const rows = data.rows('catdog', 'agreement');
  const paper: Record<string, [number, number]> = { test: [0.82, 0.78], other: [0.74, 0.71] };
  const out: Claim[] = [];
  for (const set of ['test', 'other'] as const) {
    const r = rows.find((x) => x.eval_set === set);
    const [pw, ps] = paper[set]!;
    const base = {
      id: `agreement-${set}`,
      claim: `Differently weighted models agree on ${set === 'test' ? 'test' : 'out-of-domain'} labels about as often as differently seeded ones (paper: ${pct(pw)} vs ${pct(ps)})`,
      figures: ['agreement'],
      rule: `"reproduced" if weights agreement ≥ seeds agreement − ${EFFECT} (needs ≥ 2 weights and ≥ 2 seeds)`,
    };
    if (!r) out.push({ ...base, measured: 'no predictions', verdict: 'not measured' });
    else if (!(r.n_weights > 1 && r.n_seeds_max > 1)) out.push({ ...base, measured: `${r.n_weights} weight(s) × ${r.n_seeds_max} seed(s)`, verdict: 'not measured' });
    else out.push({ ...base, measured: `weights ${pct(r.weights_agreement)} vs seeds ${pct(r.seeds_agreement)}`, verdict: r.weights_agreement >= r.seeds_agreement - EFFECT ? 'reproduced' : 'not reproduced' });
  }
  const noise = rows.find((x) => x.eval_set === 'noise');
  out.push({
    id: 'agreement-noise',
    claim: 'All models agree on random noise images, nearly always one class (cat in the paper)',
    figures: ['agreement'],
    rule: '"reproduced" if ≥ 90% of all predictions on noise are the same class',
    ...(noise ? { measured: `${pct(noise.majority_share)} classified as ${noise.majority_class}`, verdict: (noise.majority_share >= 0.9 ? 'reproduced' : 'not reproduced') as Verdict } : { measured: 'no noise predictions', verdict: 'not measured' as Verdict }),
  });
  return out;
}

function accuracy(data: FigureData, profile: string): Claim {
  const rows = testRows(data.rows('catdog', 'final'), 'accuracy');
  const rule = 'mean over weights and seeds of the final test accuracy of the unregularized CNN; judged only at the paper profile: "reproduced" if within [80%, 85%]';
  const base = { id: 'accuracy', claim: 'Unregularized CNNs reach 80–85% test accuracy (cat/dog, paper scale)', figures: ['fig4'], rule };
  if (!rows.length) return { ...base, measured: "experiment 'catdog' absent", verdict: 'not measured' };
  const m = rows.reduce((s, r) => s + r.accuracy_mean, 0) / rows.length;
  const measured = `${pct(m)} (profile ${profile})`;
  if (profile !== 'paper') return { ...base, measured, verdict: 'not comparable' };
  return { ...base, measured, verdict: m >= 0.8 && m <= 0.85 ? 'reproduced' : 'not reproduced' };
}

export function computeClaims(data: FigureData, profile: string): Claim[] {
  return [
    vanishes(data, 'catdog', 'CIFAR-10 cat/dog CNN', ['fig4']),
    vanishes(data, 'mrpc', 'MRPC', ['fig6']),
    vanishes(data, 'multiclass', 'multiclass CIFAR-10, weighted test accuracy over ρ', ['fig5'], 'weighted_accuracy', 'rho'),
    vanishes(data, 'labelnoise', 'cat/dog with 5% label noise', ['figA7']),
    vanishes(data, 'autotruck', 'automobile/truck', ['figA8']),
    vanishes(data, 'adam', 'Adam optimizer', ['figA9']),
    vanishes(data, 'resnet-nobn', 'ResNet without batch norm', ['figA5']),
    restores(data, 'l2-restores', 'L2 regularization restores some effect of the weights', ['fig4', 'figA3'], 'catdog-l2', 'catdog', true),
    restores(data, 'bn-restores', 'Batch normalization restores some effect of the weights (ResNet)', ['figA5'], 'resnet-bn', 'resnet-nobn', true),
    restores(data, 'dropout-no-effect', 'Dropout does not restore an effect of the weights', ['fig4', 'figA4'], 'catdog-dropout', 'catdog', false),
    restores(data, 'l2-over-dropout', 'L2 regularization keeps more of the effect of the weights than dropout', ['fig4'], 'catdog-l2', 'catdog-dropout', true),
    ...imbalance(data),
    ...agreement(data),
    accuracy(data, profile),
  ];
}
