import type { FigureData, Row, Spec } from './figure.js';
import { figureSpec, noData, spread, uniq, weightLabel } from './panels.js';

/**
 * Figures 1-3, A.1, A.2: decision surfaces of the 2D experiments. Rows =
 * importance weights (top to bottom, up to `maxWeights`, spread over the
 * grid), columns = snapshot epochs. Background shading: the MLP's P(class 1)
 * on the grid; points: training points colored by true label; red line: the
 * logistic regression boundary at that epoch; dotted black line: the
 * max-margin separator (hard-margin SVM, separable sets only).
 */
export interface SurfaceFigureOptions {
  experiment: string;
  dataset: string;
  /** Regularization of the models shown: none, l2 or dropout. */
  reg: string;
  /** Draw the logistic regression boundary (not in Fig. 3). */
  logistic: boolean;
  title: string;
  maxWeights?: number;
}

const CELL = 110;

export function surfaceFigure(data: FigureData, o: SurfaceFigureOptions): Spec {
  const surfaces = data.rows(o.experiment, 'surfaces').filter((r) => r.dataset === o.dataset && r.reg === o.reg);
  const lines = data.rows(o.experiment, 'lines').filter((r) => r.dataset === o.dataset);
  const points = data.rows(o.experiment, 'points').filter((r) => r.dataset === o.dataset);
  if (!surfaces.length) return figureSpec(o.title, noData(o.title, `not measured: no ${o.reg} MLP surfaces for ${o.dataset}`) as Spec);
  const weights = spread(uniq(surfaces, 'weight').sort((a, b) => b - a), o.maxWeights ?? 5);
  const epochs = uniq(surfaces, 'epoch');
  const values: Row[] = [];
  const cellKey = (w: number, e: number) => ({ wl: weightLabel(w), worder: -w, epoch: e });
  for (const r of surfaces) {
    if (!weights.includes(r.weight)) continue;
    values.push({ layer: 'surface', ...cellKey(r.weight, r.epoch), x0: r.x0, x1: r.x1, y0: r.y0, y1: r.y1, p: r.p });
  }
  for (const w of weights) {
    for (const e of epochs) {
      for (const p of points) values.push({ layer: 'point', ...cellKey(w, e), x: p.x, y: p.y, label: p.label === 1 ? 'positive (class 1)' : 'negative (class 0)' });
      for (const l of lines) {
        const isSvm = l.line === 'max-margin separator';
        const isLr = l.line === 'logistic regression' && o.logistic && l.reg === o.reg && l.weight === w && l.epoch === e;
        if (isSvm || isLr) values.push({ layer: 'line', ...cellKey(w, e), line: l.line, xa: l.xa, ya: l.ya, xb: l.xb, yb: l.yb });
      }
    }
  }
  const xs = surfaces.flatMap((r) => [r.x0, r.x1]);
  const ys = surfaces.flatMap((r) => [r.y0, r.y1]);
  const xDomain = [Math.min(...xs), Math.max(...xs)];
  const yDomain = [Math.min(...ys), Math.max(...ys)];
  const x = { type: 'quantitative', scale: { domain: xDomain, nice: false, zero: false }, axis: null, title: null };
  const y = { type: 'quantitative', scale: { domain: yDomain, nice: false, zero: false }, axis: null, title: null };
  const lineDomain = o.logistic ? ['logistic regression', 'max-margin separator'] : ['max-margin separator'];
  return figureSpec(o.title, {
    data: { values },
    facet: {
      row: { field: 'wl', type: 'ordinal', title: 'importance weight of class 1', sort: { field: 'worder' }, header: { labelAngle: 0 } },
      column: { field: 'epoch', type: 'ordinal', title: 'training epoch', sort: 'ascending' },
    },
    spec: {
      width: CELL,
      height: CELL,
      layer: [
        {
          transform: [{ filter: "datum.layer === 'surface'" }],
          mark: { type: 'rect', clip: true },
          encoding: {
            x: { ...x, field: 'x0' },
            x2: { field: 'x1' },
            y: { ...y, field: 'y0' },
            y2: { field: 'y1' },
            fill: { field: 'p', type: 'quantitative', title: 'MLP P(class 1)', scale: { domain: [0, 0.5, 1], range: ['#6baed6', '#f7f7f7', '#fd8d3c'] } },
          },
        },
        {
          transform: [{ filter: "datum.layer === 'point'" }],
          mark: { type: 'circle', size: 7, opacity: 0.85, clip: true },
          encoding: {
            x: { ...x, field: 'x' },
            y: { ...y, field: 'y' },
            color: { field: 'label', type: 'nominal', title: 'true label', scale: { domain: ['negative (class 0)', 'positive (class 1)'], range: ['#08519c', '#a63603'] } },
          },
        },
        {
          transform: [{ filter: "datum.layer === 'line'" }],
          mark: { type: 'rule', strokeWidth: 1.5, clip: true },
          encoding: {
            x: { ...x, field: 'xa' },
            y: { ...y, field: 'ya' },
            x2: { field: 'xb' },
            y2: { field: 'yb' },
            stroke: { field: 'line', type: 'nominal', title: 'separator', scale: { domain: lineDomain, range: o.logistic ? ['#d62728', '#000000'] : ['#000000'] } },
            strokeDash: { field: 'line', type: 'nominal', scale: { domain: lineDomain, range: o.logistic ? [[1, 0], [3, 3]] : [[3, 3]] }, legend: null },
          },
        },
      ],
    },
    resolve: { scale: { x: 'shared', y: 'shared' } },
  });
}
