import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npyArray, writeNpy } from '../../src/data/npy.js';
import type { InputRef, StageContext, StageDefinition } from '../../src/engine/stage.js';
import type { JsonObject, NodeName } from '../../src/engine/types.js';

/**
 * Synthetic train-node outputs that follow the train stage's output contract
 * (src/ml/run.ts): metrics.csv, predictions/<set>.npy, meta.json and, for 2D
 * runs, surface.npy/surface.json/svm.json/boundary.json. Values are given
 * explicitly so tests can check aggregates against hand-computed numbers.
 */

const made: string[] = [];

/** A fresh temporary directory, removed by cleanupTmp(). */
export function tmp(prefix = 'iwdl-fig-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanupTmp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface MetricFixtureRow {
  epoch: number;
  eval_set: string;
  n?: number;
  frac_second: number;
  accuracy?: number | null;
  weighted_accuracy?: number | null;
  loss?: number | null;
}

export interface RunFixture {
  node: string;
  item?: JsonObject;
  params: Record<string, unknown>;
  classes: string[];
  kind?: string;
  classWeights: number[];
  focusClass?: number;
  rows: MetricFixtureRow[];
  predictions?: Record<string, number[]>;
  backend?: { backend: string; version: string };
  seconds?: number;
  twoD?: { G: number; x: [number, number]; y: [number, number]; epochs: number[]; surface: (epochIndex: number, x: number, y: number) => number; boundary?: Array<{ epoch: number; w: number[]; b: number }>; svm?: { w: number[]; b: number } };
}

const cell = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));

export function writeRun(root: string, f: RunFixture): InputRef {
  const dir = join(root, f.node.replace(/[^\w.-]+/g, '_'));
  mkdirSync(join(dir, 'predictions'), { recursive: true });
  const lines = ['epoch,eval_set,n,frac_second,accuracy,weighted_accuracy,loss'];
  for (const r of f.rows) lines.push([r.epoch, r.eval_set, r.n ?? 10, r.frac_second, cell(r.accuracy), cell(r.weighted_accuracy), cell(r.loss)].join(','));
  writeFileSync(join(dir, 'metrics.csv'), lines.join('\n') + '\n');
  for (const [set, pred] of Object.entries(f.predictions ?? {})) {
    const multi = f.classes.length > 2;
    writeNpy(join(dir, 'predictions', `${set}.npy`), multi ? npyArray('<i4', [pred.length], Int32Array.from(pred)) : npyArray('|u1', [pred.length], Uint8Array.from(pred)));
  }
  const epochs = Math.max(...f.rows.map((r) => r.epoch));
  const last = f.rows.find((r) => r.epoch === epochs && r.eval_set === 'train');
  writeFileSync(
    join(dir, 'meta.json'),
    JSON.stringify({
      params: { l2: 0, dropout: 0, rebalance: false, rho: null, focus_class: null, ...f.params },
      data: { kind: f.kind ?? 'cifar-binary', classes: f.classes, train: 100 },
      class_weights: f.classWeights,
      focus_class: f.focusClass ?? 1,
      model: { name: f.params.model ?? 'cnn' },
      backend: f.backend ?? { backend: 'wasm', version: '4.22.0' },
      epochs_run: epochs,
      final: { train_loss: 0.01, train_accuracy: last?.accuracy ?? 1 },
      seconds: f.seconds ?? 1.5,
    }),
  );
  if (f.twoD) {
    const t = f.twoD;
    const G = t.G;
    const probs = new Float32Array(t.epochs.length * G * G);
    t.epochs.forEach((_, k) => {
      for (let r = 0; r < G; r++)
        for (let c = 0; c < G; c++) {
          const x = t.x[0] + (c * (t.x[1] - t.x[0])) / (G - 1);
          const y = t.y[0] + (r * (t.y[1] - t.y[0])) / (G - 1);
          probs[k * G * G + r * G + c] = t.surface(k, x, y);
        }
    });
    writeNpy(join(dir, 'surface.npy'), npyArray('<f4', [t.epochs.length, G, G], probs));
    writeFileSync(join(dir, 'surface.json'), JSON.stringify({ G, x: t.x, y: t.y, epochs: t.epochs }));
    writeFileSync(join(dir, 'svm.json'), JSON.stringify(t.svm ? { separable: true, ...t.svm, margin: 1 } : { separable: false, w: null, b: null }));
    if (t.boundary) writeFileSync(join(dir, 'boundary.json'), JSON.stringify({ snapshots: t.boundary, evals: t.boundary }));
  }
  return { node: f.node as NodeName, dir, item: f.item ?? {}, params: f.params as JsonObject };
}

/** A preprocess-like 2D data set directory (train_x.npy, train_y.npy, meta.json). */
export function write2dData(root: string, kind: string, xs: Array<[number, number]>, ys: number[]): InputRef {
  const dir = join(root, `data-${kind}`);
  mkdirSync(dir, { recursive: true });
  writeNpy(join(dir, 'train_x.npy'), npyArray('<f4', [xs.length, 2], Float32Array.from(xs.flat())));
  writeNpy(join(dir, 'train_y.npy'), npyArray('<i4', [ys.length], Int32Array.from(ys)));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ kind, classes: ['negative', 'positive'] }));
  return { node: `preprocess@${kind}` as NodeName, dir, item: {}, params: {} };
}

/** Runs a stage like the engine does, with full InputRefs (items and params). */
export async function runStageWith<P>(stage: StageDefinition<P>, rawParams: unknown, inputs: Record<string, InputRef[]>, root = tmp()): Promise<{ outDir: string; logs: string[] }> {
  const outDir = join(root, 'out');
  mkdirSync(outDir, { recursive: true });
  const params = (stage.params ? stage.params.parse(rawParams) : rawParams) as P;
  const logs: string[] = [];
  const ctx: StageContext<P> = {
    params,
    inputs,
    input(name) {
      const l = inputs[name];
      if (!l || l.length !== 1) throw new Error(`input '${name}' has ${l?.length ?? 0} nodes`);
      return l[0]!.dir;
    },
    outDir,
    checkpointDir: join(root, 'ckpt'),
    threads: 1,
    node: 'test' as NodeName,
    progress() {},
    log(m) {
      logs.push(m);
    },
  };
  await stage.run(ctx);
  return { outDir, logs };
}

const WEIGHTS = [1 / 4, 1, 4];

/**
 * A binary cat/dog experiment: weights 1/4, 1, 4 x seeds 1, 2, eval epochs
 * 1, 10, 100 on train/test/other/noise. frac_second on test at epoch e for
 * weight w and seed s is 0.5 + 0.1·log4(w)/e + 0.01·(s - 1.5) (so the effect
 * vanishes with epochs); predictions are given so agreement can be checked.
 */
export function catdogExperiment(root: string, stage = 'train-catdog', opts: { l2?: number; dropout?: number; seeds?: number[]; weights?: number[]; epochs?: number[] } = {}): InputRef[] {
  const refs: InputRef[] = [];
  const seeds = opts.seeds ?? [1, 2];
  const epochs = opts.epochs ?? [0, 1, 10, 100];
  for (const w of opts.weights ?? WEIGHTS) {
    for (const s of seeds) {
      const rows: MetricFixtureRow[] = [];
      for (const e of epochs) {
        for (const set of ['train', 'test', 'other', 'noise']) {
          const f = 0.5 + (0.1 * Math.log(w)) / Math.log(4) / Math.max(e, 1) + 0.01 * (s - 1.5);
          rows.push({ epoch: e, eval_set: set, frac_second: f, accuracy: set === 'train' || set === 'test' ? 0.8 + 0.01 * s : null, weighted_accuracy: set === 'test' ? 0.7 : null, loss: 0.5 });
        }
      }
      refs.push(
        writeRun(root, {
          node: `${stage}@w${w}-s${s}`,
          item: { weight: w, seed: s },
          params: { model: 'cnn', weight_ratio: w, seed: s, l2: opts.l2 ?? 0, dropout: opts.dropout ?? 0 },
          classes: ['cat', 'dog'],
          classWeights: w < 1 ? [1, w] : [1 / w, 1],
          rows,
          predictions: predictionsFor(w, s),
        }),
      );
    }
  }
  return refs;
}

/**
 * Predictions on 4 test, 2 other and 3 noise examples, chosen so agreement is
 * known by hand (see fig-aggregate.test.ts).
 */
export function predictionsFor(w: number, s: number): Record<string, number[]> {
  const key = `${w}|${s}`;
  const test: Record<string, number[]> = {
    '0.25|1': [0, 0, 1, 1],
    '0.25|2': [0, 1, 1, 1],
    '1|1': [0, 0, 1, 0],
    '1|2': [0, 0, 1, 0],
    '4|1': [1, 0, 1, 1],
    '4|2': [1, 1, 0, 1],
  };
  return { test: test[key] ?? [0, 0, 0, 0], other: s === 1 ? [1, 0] : [1, 1], noise: [0, 0, w === 4 && s === 2 ? 1 : 0] };
}
