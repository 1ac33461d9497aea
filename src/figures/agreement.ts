import { defineFigure, type Row } from './figure.js';
import { EVAL_SET_LABELS, figureSpec, noData } from './panels.js';

/** The paper's agreement numbers (Section 3). */
export const PAPER_AGREEMENT: Record<string, { weights: number; seeds: number } | undefined> = {
  test: { weights: 0.82, seeds: 0.78 },
  other: { weights: 0.74, seeds: 0.71 },
};

const pct = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '—' : `${(100 * v).toFixed(1)}%`);

export default defineFigure({
  id: 'agreement',
  title: 'Agreement statistics (Section 3)',
  caption:
    'Agreement between models. Weights: per importance weight, a majority vote over seeds; then the mean over examples of the fraction of the differently weighted models that agree on the label (the paper: 82% on test, 74% on out-of-domain images). Seeds: the mean over examples and weights of the fraction of random initializations that agree (78%, 71%). Majority class: where all predictions on that set go (the paper: random noise nearly always classified as cats).',
  experiments: ['catdog'],
  spec(data) {
    const rows = data.rows('catdog', 'agreement');
    if (!rows.length) return figureSpec('Agreement statistics (Section 3)', noData('agreement', 'not measured: no predictions'));
    const columns = ['weights agree (measured)', 'weights agree (paper)', 'seeds agree (measured)', 'seeds agree (paper)', 'majority class', 'models compared'];
    const order = ['test', 'other', 'noise'];
    const values: Row[] = [];
    for (const r of [...rows].sort((a, b) => order.indexOf(a.eval_set) - order.indexOf(b.eval_set))) {
      if (!order.includes(r.eval_set)) continue;
      const paper = PAPER_AGREEMENT[r.eval_set];
      const cells = [
        pct(r.weights_agreement),
        paper ? pct(paper.weights) : r.eval_set === 'noise' ? 'near-perfect' : '—',
        r.n_seeds_max > 1 ? pct(r.seeds_agreement) : 'one seed',
        paper ? pct(paper.seeds) : r.eval_set === 'noise' ? 'near-perfect' : '—',
        `${r.majority_class} (${pct(r.majority_share)})`,
        `${r.n_weights} weights × ${r.n_seeds_max} seeds`,
      ];
      cells.forEach((text, i) => values.push({ set: EVAL_SET_LABELS[r.eval_set] ?? r.eval_set, column: columns[i], text }));
    }
    return figureSpec('Agreement statistics (Section 3)', {
      data: { values },
      width: { step: 150 },
      height: { step: 28 },
      mark: { type: 'text', fontSize: 12 },
      encoding: {
        x: { field: 'column', type: 'nominal', sort: columns, axis: { orient: 'top', labelAngle: 0, title: null, labelLimit: 150, domain: false, ticks: false } },
        y: { field: 'set', type: 'nominal', sort: order.map((s) => EVAL_SET_LABELS[s]), axis: { title: null, domain: false, ticks: false } },
        text: { field: 'text' },
      },
    });
  },
});
