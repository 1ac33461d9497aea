import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as aq from 'arquero';
import { readNpy } from '../data/npy.js';
import type { InputRef } from '../engine/stage.js';
import { GROUP_COLUMNS } from './columns.js';

const { op } = aq;
type Table = ReturnType<typeof aq.table>;

/**
 * The aggregate stage's work: every train node of one experiment (a train
 * stage's nodes, bound to input `runs`) -> tidy CSV tables the figure
 * modules and the report read. All grouping is done with arquero verbs.
 *
 *   runs.csv       one row per train node: its coordinates (GROUP_COLUMNS, seed,
 *                  focus_class), backend, epochs, seconds, final train accuracy
 *   curves.csv     per (GROUP_COLUMNS, epoch, eval_set): mean and sample standard
 *                  deviation over replicates (seeds; for multiclass also the focus
 *                  classes) of frac_second, accuracy and weighted_accuracy; n_runs
 *   final.csv      the same at each run's last epoch (the classification ratios
 *                  at the end of training, per weight)
 *   agreement.csv  binary data sets with predictions: Section 3's agreement
 *                  statistics per eval set (see agreementTable)
 *   points.csv, surfaces.csv, lines.csv   2D data sets (Figures 1-3, A.1, A.2)
 *   inputs.json    provenance: every input node and the SHA-256 of its files
 *
 * A run's coordinates come from its meta.json (the train stage's resolved
 * params and class weights) and its matrix item:
 *   weight      w(class 1) / w(class 0) for binary data sets (the paper's
 *               importance weight of the second class; 1 = unweighted)
 *   rho         multiclass: the focus class's weight (Fig. 5)
 *   ratio, subsampled   item.ratio / item.class of imbalanced sets (Fig. A.6)
 *   reg         'l2' (l2 > 0), 'dropout' (dropout > 0) or 'none'
 *   dataset, model, rebalance, seed, focus_class
 */

export interface RunInfo {
  node: string;
  dir: string;
  dataset: string;
  model: string;
  reg: string;
  rebalance: boolean;
  subsampled: string | null;
  ratio: number | null;
  rho: number | null;
  weight: number | null;
  seed: number;
  focus_class: number | null;
  second_class: string | null;
  backend: string;
  backend_version: string;
  epochs: number;
  seconds: number | null;
  final_train_accuracy: number | null;
}

type Json = Record<string, unknown>;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function describeRun(ref: InputRef): RunInfo {
  const metaPath = join(ref.dir, 'meta.json');
  if (!existsSync(metaPath)) throw new Error(`${ref.node}: no meta.json in its outputs (is it a train node?)`);
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Json;
  const params = { ...(ref.params as Json), ...((meta.params as Json) ?? {}) };
  const item = (ref.item ?? {}) as Json;
  const data = (meta.data as Json) ?? {};
  const classes = (data.classes as string[]) ?? [];
  const cw = (meta.class_weights as number[] | undefined) ?? (params.class_weights as number[] | null) ?? null;
  const binary = classes.length === 2 || (cw !== null && cw.length === 2);
  let weight: number | null = null;
  if (binary) {
    if (cw && cw.length === 2 && cw[0]! > 0) weight = cw[1]! / cw[0]!;
    else if (num(params.weight_ratio) !== null) weight = num(params.weight_ratio);
    else weight = num(item.weight) ?? 1;
  }
  const l2 = num(params.l2) ?? 0;
  const dropout = num(params.dropout) ?? 0;
  const backend = (meta.backend as Json) ?? {};
  const final = (meta.final as Json) ?? {};
  const focus = num(meta.focus_class) ?? num(params.focus_class);
  return {
    node: ref.node,
    dir: ref.dir,
    dataset: String(data.kind ?? item.dataset ?? 'unknown'),
    model: String(params.model ?? 'unknown'),
    reg: l2 > 0 ? 'l2' : dropout > 0 ? 'dropout' : 'none',
    rebalance: params.rebalance === true,
    subsampled: typeof item.class === 'string' ? item.class : null,
    ratio: num(item.ratio),
    rho: num(params.rho) ?? num(item.rho),
    weight,
    seed: num(params.seed) ?? num(item.seed) ?? 0,
    focus_class: classes.length > 2 ? focus : null,
    second_class: binary ? (classes[1] ?? null) : focus !== null ? (classes[focus] ?? null) : null,
    backend: String(backend.backend ?? 'unknown'),
    backend_version: String(backend.version ?? ''),
    epochs: num(meta.epochs_run) ?? num(params.epochs) ?? 0,
    seconds: num(meta.seconds),
    final_train_accuracy: num(final.train_accuracy),
  };
}

function runsTable(runs: RunInfo[]): Table {
  const cols: Record<string, unknown[]> = {};
  const keys = Object.keys(runs[0]!).filter((k) => k !== 'dir') as Array<keyof RunInfo>;
  for (const k of keys) cols[k] = runs.map((r) => r[k]);
  return aq.table(cols);
}

/** Every run's metrics.csv, with a `node` column, joined with the run coordinates. */
function metricsLong(runs: RunInfo[], runsT: Table): Table {
  const parts = runs.map((r) => {
    const t = aq.fromCSV(readFileSync(join(r.dir, 'metrics.csv'), 'utf8'), { parse: { eval_set: String } });
    return t.derive({ node: aq.escape(() => r.node) });
  });
  const all = parts.length === 1 ? parts[0]! : parts[0]!.concat(...parts.slice(1));
  return all.join(runsT.select('node', ...GROUP_COLUMNS, 'seed', 'focus_class'), 'node');
}

const METRICS = ['frac_second', 'accuracy', 'weighted_accuracy'] as const;

function rollupStats(t: Table, keys: string[]): Table {
  const spec: Record<string, unknown> = { n_runs: op.count() };
  for (const m of METRICS) {
    spec[`${m}_mean`] = `d => op.mean(d.${m})`;
    spec[`${m}_sd`] = `d => op.valid(d.${m}) > 1 ? op.stdev(d.${m}) : (op.valid(d.${m}) === 1 ? 0 : null)`;
  }
  return t
    .groupby(...keys)
    .rollup(spec as never)
    .orderby(...keys);
}

export function curvesTable(long: Table): Table {
  return rollupStats(long, [...GROUP_COLUMNS, 'eval_set', 'epoch']);
}

export function finalTable(long: Table): Table {
  const last = long
    .groupby('node')
    .derive({ last_epoch: (d: { epoch: number }) => op.max(d.epoch) })
    .filter((d: { epoch: number; last_epoch: number }) => d.epoch === d.last_epoch)
    .ungroup();
  return rollupStats(last, [...GROUP_COLUMNS, 'eval_set', 'epoch']);
}

/**
 * Section 3's agreement statistics of a binary experiment, per eval set:
 *   weights_agreement  per weight, the majority vote over seeds (ties -> class 0);
 *                      then per example, the fraction of the differently weighted
 *                      (voted) models that give its most common label; mean over
 *                      examples (the paper: 82% on test, 74% on other-8)
 *   seeds_agreement    per weight and example, the fraction of seeds that give the
 *                      most common label; mean over examples and weights (78%, 71%)
 *   frac_second        fraction of all predictions (all weights and seeds) that
 *                      are the second class; majority_class is the more common
 *                      class and majority_share its share (noise: "nearly always cats")
 * Only runs without regularization differences are mixed: the experiment is
 * one train stage. Grouping keys other than weight/seed are kept apart.
 */
export function agreementTable(runs: RunInfo[], runsT: Table): Table | null {
  const parts: Table[] = [];
  for (const r of runs) {
    const dir = join(r.dir, 'predictions');
    if (!existsSync(dir) || r.weight === null) continue;
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.npy')) continue;
      const arr = readNpy(join(dir, f));
      const pred = Array.from(arr.data as ArrayLike<number>);
      parts.push(
        aq.table({
          node: new Array(pred.length).fill(r.node),
          eval_set: new Array(pred.length).fill(f.slice(0, -4)),
          example: pred.map((_, i) => i),
          pred,
        }),
      );
    }
  }
  if (!parts.length) return null;
  if (parts.some((p) => p.array('pred').some((v: unknown) => v !== 0 && v !== 1))) return null;
  const long = (parts.length === 1 ? parts[0]! : parts[0]!.concat(...parts.slice(1))).join(runsT.select('node', 'weight', 'second_class'), 'node');
  const keys = ['eval_set', 'weight'];
  const votes = long
    .groupby(...keys, 'example')
    .rollup({ ones: (d: { pred: number }) => op.sum(d.pred), n: op.count() })
    .derive({
      maj: (d: { ones: number; n: number }) => (d.ones * 2 > d.n ? 1 : 0),
      seed_agree: (d: { ones: number; n: number }) => op.greatest(d.ones, d.n - d.ones) / d.n,
    });
  const byWeights = votes
    .groupby('eval_set', 'example')
    .rollup({ ones: (d: { maj: number }) => op.sum(d.maj), n: op.count() })
    .derive({ agree: (d: { ones: number; n: number }) => op.greatest(d.ones, d.n - d.ones) / d.n })
    .groupby('eval_set')
    .rollup({ weights_agreement: (d: { agree: number }) => op.mean(d.agree), n_weights: (d: { n: number }) => op.max(d.n), n_examples: op.count() });
  const bySeeds = votes
    .groupby('eval_set')
    .rollup({ seeds_agreement: (d: { seed_agree: number }) => op.mean(d.seed_agree), n_seeds_max: (d: { n: number }) => op.max(d.n), n_seeds_min: (d: { n: number }) => op.min(d.n) });
  const classes = long
    .groupby('eval_set')
    .rollup({ frac_second: (d: { pred: number }) => op.mean(d.pred), second_class: (d: { second_class: string }) => op.any(d.second_class), n_predictions: op.count() });
  return byWeights
    .join(bySeeds, 'eval_set')
    .join(classes, 'eval_set')
    .derive({
      majority_class: (d: { frac_second: number; second_class: string }) => (d.frac_second > 0.5 ? d.second_class : 'first'),
      majority_share: (d: { frac_second: number }) => op.greatest(d.frac_second, 1 - d.frac_second),
    })
    .orderby('eval_set');
}

function firstClassName(runs: RunInfo[]): string {
  for (const r of runs) {
    try {
      const meta = JSON.parse(readFileSync(join(r.dir, 'meta.json'), 'utf8')) as Json;
      const classes = ((meta.data as Json)?.classes as string[]) ?? [];
      if (classes.length === 2) return classes[0]!;
    } catch {
      /* described already */
    }
  }
  return 'first';
}

/** Nearest-index downsampling of a G×G surface to g×g cells (row = y from the bottom). */
function cellsOf(probs: Float32Array, offset: number, G: number, g: number, x: [number, number], y: [number, number]) {
  const n = Math.min(g, G);
  const dx = (x[1] - x[0]) / n;
  const dy = (y[1] - y[0]) / n;
  const out: Array<{ x0: number; x1: number; y0: number; y1: number; p: number }> = [];
  for (let r = 0; r < n; r++) {
    const R = Math.round(((r + 0.5) / n) * (G - 1));
    for (let c = 0; c < n; c++) {
      const C = Math.round(((c + 0.5) / n) * (G - 1));
      out.push({ x0: x[0] + c * dx, x1: x[0] + (c + 1) * dx, y0: y[0] + r * dy, y1: y[0] + (r + 1) * dy, p: probs[offset + R * G + C]! });
    }
  }
  return out;
}

/** The segment of the line w0 x + w1 y + b = 0 inside the box, or null. */
export function clipLine(w: number[], b: number, x: [number, number], y: [number, number]): [number, number, number, number] | null {
  const pts: Array<[number, number]> = [];
  const [w0, w1] = [w[0]!, w[1]!];
  if (Math.abs(w1) > 1e-12) {
    for (const xx of x) {
      const yy = -(w0 * xx + b) / w1;
      if (yy >= y[0] - 1e-9 && yy <= y[1] + 1e-9) pts.push([xx, yy]);
    }
  }
  if (Math.abs(w0) > 1e-12) {
    for (const yy of y) {
      const xx = -(w1 * yy + b) / w0;
      if (xx >= x[0] - 1e-9 && xx <= x[1] + 1e-9) pts.push([xx, yy]);
    }
  }
  if (pts.length < 2) return null;
  pts.sort((a, c) => a[0] - c[0] || a[1] - c[1]);
  const a = pts[0]!;
  const c = pts[pts.length - 1]!;
  if (a[0] === c[0] && a[1] === c[1]) return null;
  return [a[0], a[1], c[0], c[1]];
}

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** 2D experiments: training points (from the `data` inputs), decision surfaces and lines. */
function twoD(runs: RunInfo[], data: InputRef[], opts: { grid: number; maxPoints: number }) {
  const points: Json[] = [];
  for (const ref of data) {
    const metaPath = join(ref.dir, 'meta.json');
    if (!existsSync(join(ref.dir, 'train_x.npy')) || !existsSync(metaPath)) continue;
    const kind = String((JSON.parse(readFileSync(metaPath, 'utf8')) as Json).kind);
    const x = readNpy(join(ref.dir, 'train_x.npy')).data as Float32Array;
    const yl = readNpy(join(ref.dir, 'train_y.npy')).data as Int32Array;
    const n = yl.length;
    const stride = Math.max(1, Math.ceil(n / opts.maxPoints));
    for (let i = 0; i < n; i += stride) points.push({ dataset: kind, x: r4(x[2 * i]!), y: r4(x[2 * i + 1]!), label: yl[i]! });
  }
  const surfaces: Json[] = [];
  const lines: Json[] = [];
  const svmSeen = new Set<string>();
  // One seed per configuration: the smallest.
  const firstSeed = new Map<string, number>();
  for (const r of runs) {
    const k = [r.dataset, r.model, r.reg, r.weight].join('|');
    firstSeed.set(k, Math.min(firstSeed.get(k) ?? Infinity, r.seed));
  }
  for (const r of runs) {
    if (firstSeed.get([r.dataset, r.model, r.reg, r.weight].join('|')) !== r.seed) continue;
    const sj = join(r.dir, 'surface.json');
    if (!existsSync(sj)) continue;
    const s = JSON.parse(readFileSync(sj, 'utf8')) as { G: number; x: [number, number]; y: [number, number]; epochs: number[] };
    const base = { dataset: r.dataset, model: r.model, reg: r.reg, weight: r.weight };
    if (existsSync(join(r.dir, 'surface.npy')) && r.model !== 'logistic') {
      const probs = readNpy(join(r.dir, 'surface.npy')).data as Float32Array;
      s.epochs.forEach((epoch, k) => {
        for (const c of cellsOf(probs, k * s.G * s.G, s.G, opts.grid, s.x, s.y)) {
          surfaces.push({ ...base, epoch, x0: r4(c.x0), x1: r4(c.x1), y0: r4(c.y0), y1: r4(c.y1), p: Math.round(c.p * 1000) / 1000 });
        }
      });
    }
    const bj = join(r.dir, 'boundary.json');
    if (existsSync(bj)) {
      const b = JSON.parse(readFileSync(bj, 'utf8')) as { snapshots: Array<{ epoch: number; w: number[]; b: number }> };
      for (const snap of b.snapshots) {
        const seg = clipLine(snap.w, snap.b, s.x, s.y);
        if (seg) lines.push({ ...base, line: 'logistic regression', epoch: snap.epoch, xa: r4(seg[0]), ya: r4(seg[1]), xb: r4(seg[2]), yb: r4(seg[3]) });
      }
    }
    const vj = join(r.dir, 'svm.json');
    if (existsSync(vj) && !svmSeen.has(r.dataset)) {
      const v = JSON.parse(readFileSync(vj, 'utf8')) as { separable: boolean; w: number[] | null; b: number | null };
      if (v.separable && v.w && v.b !== null) {
        const seg = clipLine(v.w, v.b, s.x, s.y);
        if (seg) {
          svmSeen.add(r.dataset);
          lines.push({ dataset: r.dataset, model: 'svm', reg: null, weight: null, line: 'max-margin separator', epoch: null, xa: r4(seg[0]), ya: r4(seg[1]), xb: r4(seg[2]), yb: r4(seg[3]) });
        }
      }
    }
  }
  return { points, surfaces, lines };
}

function filesDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p).split(sep).join('/')] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

export function provenanceOf(refs: InputRef[]): Array<{ node: string; files: Record<string, string> }> {
  return refs.map((r) => ({ node: r.node, files: filesDigest(r.dir) }));
}

function objectsCsv(rows: Json[], columns: string[]): string {
  return aq.from(rows.length ? rows : [Object.fromEntries(columns.map((c) => [c, null]))]).select(...columns).slice(0, rows.length).toCSV();
}

export interface AggregateOptions {
  experiment: string;
  grid: number;
  maxPoints: number;
  log?(line: string): void;
}

/** Writes every table of one experiment into outDir. Returns the file names written. */
export function aggregateExperiment(runsIn: InputRef[], dataIn: InputRef[], outDir: string, o: AggregateOptions): string[] {
  if (!runsIn.length) throw new Error(`aggregate ${o.experiment}: no train nodes bound to input 'runs'`);
  const written: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(outDir, name), text.endsWith('\n') ? text : text + '\n');
    written.push(name);
  };
  const runs = runsIn.map(describeRun).sort((a, b) => a.node.localeCompare(b.node));
  const runsT = runsTable(runs);
  write('runs.csv', runsT.toCSV());
  const long = metricsLong(runs, runsT);
  write('curves.csv', curvesTable(long).toCSV());
  write('final.csv', finalTable(long).toCSV());
  const agreement = agreementTable(runs, runsT);
  if (agreement) {
    const first = firstClassName(runs);
    write('agreement.csv', agreement.derive({ majority_class: aq.escape((d: { majority_class: string }) => (d.majority_class === 'first' ? first : d.majority_class)) }).toCSV());
  }
  if (runs.some((r) => existsSync(join(r.dir, 'surface.json')))) {
    const t = twoD(runs, dataIn, { grid: o.grid, maxPoints: o.maxPoints });
    write('points.csv', objectsCsv(t.points, ['dataset', 'x', 'y', 'label']));
    write('surfaces.csv', objectsCsv(t.surfaces, ['dataset', 'model', 'reg', 'weight', 'epoch', 'x0', 'x1', 'y0', 'y1', 'p']));
    write('lines.csv', objectsCsv(t.lines, ['dataset', 'model', 'reg', 'weight', 'line', 'epoch', 'xa', 'ya', 'xb', 'yb']));
  }
  const provenance = { experiment: o.experiment, inputs: provenanceOf([...runsIn, ...dataIn].sort((a, b) => a.node.localeCompare(b.node))) };
  write('inputs.json', JSON.stringify(provenance, null, 1));
  o.log?.(`aggregate ${o.experiment}: ${runs.length} runs; wrote ${written.join(', ')}`);
  return written;
}
