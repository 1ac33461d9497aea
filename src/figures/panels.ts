import type { Row, Spec } from './figure.js';

/**
 * Panel builders shared by the figures. Every panel carries its own inline
 * data, so a figure's .vl.json is self-contained.
 *
 * Conventions (the paper's): training epochs on a log10 axis (epoch 0, the
 * initial model, is left out of log axes); importance weights on a log2 axis
 * (w = weight of the second class relative to the first); lines are means
 * over seeds and bands ±1 standard deviation.
 */

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const PANEL = { width: 230, height: 160 };

export const EVAL_SET_LABELS: Record<string, string> = {
  train: 'training set',
  test: 'test set',
  other: 'other-class test images',
  noise: 'random noise images',
};

/** "2^-3" for powers of two, else the number. */
export function weightLabel(w: number | null | undefined): string {
  if (w === null || w === undefined) return 'none';
  const k = Math.log2(w);
  if (Math.abs(k - Math.round(k)) < 1e-9) return Math.round(k) === 0 ? '1' : `2^${Math.round(k)}`;
  return String(Math.round(w * 1e4) / 1e4);
}

const r6 = (v: number) => Math.round(v * 1e6) / 1e6;

/** Sorted unique non-null values of a column. */
export function uniq(rows: Row[], field: string): number[] {
  return [...new Set(rows.map((r) => r[field]).filter((v) => v !== null && v !== undefined && v !== ''))].sort((a, b) => a - b);
}

/** Up to `max` values spread evenly (in order) over the sorted list, always keeping the ends. */
export function spread<T>(values: T[], max: number): T[] {
  if (values.length <= max) return values;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(values[Math.round((i * (values.length - 1)) / (max - 1))]!);
  return [...new Set(out)];
}

export function noData(title: string, message: string): Spec {
  return {
    title,
    data: { values: [{ text: message }] },
    mark: { type: 'text', fontSize: 12, color: '#777' },
    encoding: { text: { field: 'text' } },
    width: PANEL.width,
    height: PANEL.height,
  };
}

/**
 * A color scale over labelled series values, in numeric order: red below
 * the middle value, near-black at it, blue above. (Vega's diverging schemes
 * put a pale yellow or white in the middle, which made the unweighted model,
 * the reference every other line is read against, the hardest to see.)
 */
function seriesColor(values: number[], label: (v: number) => string, title: string): Spec {
  return { field: 'series', type: 'ordinal', title, scale: { domain: values.map(label), range: divergingColors(values.length) }, legend: { columns: values.length > 9 ? 2 : 1, symbolOpacity: 1 } };
}

const ANCHORS: Array<[number, number, number]> = [
  [178, 24, 43], // dark red
  [244, 109, 67], // orange
  [40, 40, 40], // near-black
  [116, 173, 209], // light blue
  [33, 102, 172], // dark blue
];

/** n colors from dark red through near-black to dark blue, evenly spaced. */
export function divergingColors(n: number): string[] {
  const hex = (v: number) => Math.round(v).toString(16).padStart(2, '0');
  return Array.from({ length: n }, (_, i) => {
    const t = n === 1 ? 0.5 : i / (n - 1);
    const x = t * (ANCHORS.length - 1);
    const k = Math.min(Math.floor(x), ANCHORS.length - 2);
    const f = x - k;
    const [a, b] = [ANCHORS[k]!, ANCHORS[k + 1]!];
    return `#${hex(a[0] + f * (b[0] - a[0]))}${hex(a[1] + f * (b[1] - a[1]))}${hex(a[2] + f * (b[2] - a[2]))}`;
  });
}

export interface EpochPanelOptions {
  title: string;
  evalSet: string;
  /** Which metric: frac_second (default), accuracy or weighted_accuracy. */
  metric?: 'frac_second' | 'accuracy' | 'weighted_accuracy';
  yTitle: string;
  /** The column that tells the lines apart (default weight). */
  series?: 'weight' | 'rho';
  seriesTitle?: string;
  /** Restrict to these rows (e.g. one model or regularizer). */
  filter?(r: Row): boolean;
  yDomain?: [number, number];
}

/** Metric vs training epoch (log axis), one line per weight, ±1 sd band. */
export function epochPanel(curves: Row[], o: EpochPanelOptions): Spec {
  const metric = o.metric ?? 'frac_second';
  const series = o.series ?? 'weight';
  const label = series === 'weight' ? weightLabel : (v: number) => `ρ=${v}`;
  const rows = curves.filter((r) => r.eval_set === o.evalSet && r.epoch >= 1 && r[`${metric}_mean`] !== null && r[`${metric}_mean`] !== undefined && (!o.filter || o.filter(r)));
  if (!rows.length) return noData(o.title, `not measured (${o.evalSet})`);
  const values = rows.map((r) => {
    const m = r[`${metric}_mean`] as number;
    const sd = (r[`${metric}_sd`] as number | null) ?? 0;
    return { epoch: r.epoch, series: label(r[series]), order: r[series], mean: r6(m), lo: r6(m - sd), hi: r6(m + sd), n: r.n_runs };
  });
  const color = seriesColor(uniq(rows, series), label, o.seriesTitle ?? (series === 'weight' ? 'importance weight' : 'ρ'));
  const x = { field: 'epoch', type: 'quantitative', title: 'training epoch', scale: { type: 'log', base: 10, nice: false }, axis: { tickCount: 5, format: '~s' } };
  const y = { type: 'quantitative', title: o.yTitle, scale: { domain: o.yDomain ?? [0, 1] } };
  return {
    title: o.title,
    width: PANEL.width,
    height: PANEL.height,
    data: { values },
    layer: [
      { mark: { type: 'area', opacity: 0.18, clip: true }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color, order: { field: 'order' } } },
      { mark: { type: 'line', strokeWidth: 1.5, clip: true }, encoding: { x, y: { ...y, field: 'mean' }, color, order: { field: 'epoch' }, tooltip: [{ field: 'series', title: 'weight' }, { field: 'epoch' }, { field: 'mean', format: '.3f' }, { field: 'n', title: 'runs' }] } },
    ],
  };
}

export interface FinalPanelOptions {
  title: string;
  yTitle: string;
  /** x column: the importance weight (default) or the sub-sampling ratio. */
  x?: 'weight' | 'ratio';
  xTitle?: string;
  evalSets?: string[];
  filter?(r: Row): boolean;
  /** A second series column drawn with dashes (e.g. the sub-sampled class). */
  dash?: string;
  dashTitle?: string;
}

/** Final-epoch metric vs importance weight (log2 axis), one line per eval set, ±1 sd band. */
export function finalPanel(final: Row[], o: FinalPanelOptions): Spec {
  const xf = o.x ?? 'weight';
  const sets = o.evalSets ?? ['test', 'other', 'noise'];
  const rows = final.filter((r) => sets.includes(r.eval_set) && r[xf] !== null && r[xf] !== undefined && r[xf] !== '' && r.frac_second_mean !== null && (!o.filter || o.filter(r)));
  if (!rows.length) return noData(o.title, 'not measured');
  const values = rows.map((r) => {
    const m = r.frac_second_mean as number;
    const sd = (r.frac_second_sd as number | null) ?? 0;
    return { x: r[xf], set: EVAL_SET_LABELS[r.eval_set] ?? r.eval_set, dash: o.dash ? String(r[o.dash] ?? '') : '', mean: r6(m), lo: r6(m - sd), hi: r6(m + sd), epoch: r.epoch, n: r.n_runs };
  });
  const x = {
    field: 'x',
    type: 'quantitative',
    title: o.xTitle ?? 'importance weight of the second class (log2)',
    scale: { type: 'log', base: 2, nice: false },
    axis: { labelExpr: "datum.value >= 1 ? format(datum.value, '~g') : '2^' + format(log(datum.value) / LN2, 'd')", tickCount: 6 },
  };
  const y = { type: 'quantitative', title: o.yTitle, scale: { domain: [0, 1] } };
  const color = { field: 'set', type: 'nominal', title: 'evaluated on', scale: { domain: sets.map((s) => EVAL_SET_LABELS[s] ?? s), range: ['#1f77b4', '#ff7f0e', '#7f7f7f'] }, legend: { symbolOpacity: 1 } };
  const detail = o.dash ? { strokeDash: { field: 'dash', type: 'nominal', title: o.dashTitle ?? o.dash, legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 400, encode: { symbols: { update: { stroke: { value: '#444444' } } } } } } } : {};
  return {
    title: o.title,
    width: PANEL.width,
    height: PANEL.height,
    data: { values },
    layer: [
      { mark: { type: 'area', opacity: 0.15 }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color, ...(o.dash ? { detail: { field: 'dash' } } : {}) } },
      { mark: { type: 'line', point: true }, encoding: { x, y: { ...y, field: 'mean' }, color, ...detail, tooltip: [{ field: 'x', title: xf }, { field: 'set' }, { field: 'mean', format: '.3f' }, { field: 'epoch' }, { field: 'n', title: 'runs' }] } },
    ],
  };
}

/** The class name of frac_second in an experiment (runs.csv), e.g. dog. */
export function secondClass(runs: Row[], fallback: string): string {
  const v = runs.find((r) => typeof r.second_class === 'string' && r.second_class)?.second_class;
  return v ?? fallback;
}

const INDEPENDENT = {
  scale: { color: 'independent', strokeDash: 'independent', x: 'independent', y: 'independent' },
  legend: { color: 'independent', strokeDash: 'independent' },
};

/** Panels side by side, each with its own scales and legends. */
export function hconcat(panels: Spec[]): Spec {
  return { hconcat: panels, resolve: INDEPENDENT };
}

/** Rows of panels, each with its own scales and legends. */
export function vconcat(rows: Spec[]): Spec {
  return { vconcat: rows, resolve: INDEPENDENT };
}

export function figureSpec(title: string, body: Spec): Spec {
  return {
    $schema: SCHEMA,
    title: { text: title, anchor: 'start', fontSize: 14 },
    ...body,
    config: { view: { stroke: '#ccc' }, font: 'sans-serif', axis: { labelFontSize: 10, titleFontSize: 11 }, title: { fontSize: 12 } },
  };
}

/** Fig. 4-style early-stopping panels (a-c: test, other, noise) of one experiment. */
export function earlyStoppingRow(curves: Row[], cls: string, letters = ['a', 'b', 'c'], titles?: string[]): Spec[] {
  const sets = ['test', 'other', 'noise'];
  const t = titles ?? ['test images of the two classes', 'test images from the other 8 classes', 'random images'];
  return sets.map((s, i) => epochPanel(curves, { title: `(${letters[i]}) ${t[i]}`, evalSet: s, yTitle: `fraction classified as ${cls}` }));
}
