import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDatasetMeta, readSplit, type DatasetMeta } from '../data/dataset-io.js';
import type { InputKind } from './models/types.js';

/**
 * A preprocess node's data set (src/data/dataset-io.ts) as training sees it:
 * the training split, the evaluation splits, and how to turn stored values
 * into model inputs.
 *
 * Inputs (choices the paper leaves open):
 *   images  uint8 NHWC -> (x/255 - mean_c) / std_c with the per-channel mean
 *           and standard deviation of the training split (no augmentation:
 *           the paper's argument needs a training set the model separates);
 *           the noise and other-class images are normalized the same way;
 *   points  float32 as stored (the 2D learning rate 1/σmax(X) refers to the
 *           raw data matrix);
 *   tokens  int32 ids as stored.
 *
 * Evaluation sets: `train`, then every other split in the order of
 * meta.json (test, other, noise for binary CIFAR sets). A split's labels
 * count for accuracy only when they index the data set's classes (the
 * `other` split's labels are CIFAR-10 class indices; `noise` has none).
 */

export type XArray = Uint8Array | Float32Array | Int32Array;

export interface SplitData {
  name: string;
  n: number;
  x: XArray;
  /** Labels in the data set's class space, or null (unlabelled, or labels of other classes). */
  y: Int32Array | null;
}

export interface TrainingData {
  meta: DatasetMeta;
  dir: string;
  input: InputKind;
  /** Shape of one example. */
  exampleShape: number[];
  /** Values per example. */
  exampleSize: number;
  numClasses: number;
  train: SplitData;
  /** Evaluation sets, `train` first. */
  evals: SplitData[];
  /** images: per-channel mean and std (of x/255) of the training split. */
  normalization: { mean: number[]; std: number[] } | null;
  /** The train-split selection when train_limit applies. */
  limited: { from: number; to: number } | null;
}

function inputKind(dtype: string, shape: number[]): InputKind {
  if (dtype === '|u1' && shape.length === 4) return 'images';
  if ((dtype === '<f4' || dtype === '<f8') && shape.length === 2) return 'points';
  if (dtype === '<i4' && shape.length === 2) return 'tokens';
  throw new Error(`unsupported input array: dtype ${dtype}, shape [${shape}]`);
}

function sameNames(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return !!a && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The first examples of each class, in stored order, so that the classes keep their proportions. */
export function stratifiedLimit(y: Int32Array, numClasses: number, limit: number): number[] {
  const n = y.length;
  if (limit >= n) return Array.from({ length: n }, (_, i) => i);
  const counts = new Array<number>(numClasses).fill(0);
  for (const c of y) counts[c]! += 1;
  const quota = counts.map((c) => Math.floor((c * limit) / n));
  // Distribute the remainder to the largest classes first (ties: lower index).
  let left = limit - quota.reduce((a, b) => a + b, 0);
  const order = counts.map((c, i) => [c, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % numClasses) {
    const i = order[k]![1];
    if (quota[i]! < counts[i]!) {
      quota[i]! += 1;
      left--;
    }
  }
  const taken = new Array<number>(numClasses).fill(0);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (taken[c]! < quota[c]!) {
      taken[c]! += 1;
      out.push(i);
    }
  }
  return out;
}

function select(x: XArray, size: number, idx: number[]): XArray {
  const out = new (x.constructor as new (n: number) => XArray)(idx.length * size);
  idx.forEach((i, k) => out.set(x.subarray(i * size, (i + 1) * size), k * size));
  return out;
}

export function loadTrainingData(dir: string, options: { trainLimit?: number | null } = {}): TrainingData {
  const meta = readDatasetMeta(dir);
  const classes = meta.classes;
  const numClasses = classes.length;
  if (!meta.splits.train) throw new Error(`${dir}: the data set has no train split`);
  const names = ['train', ...Object.keys(meta.splits).filter((s) => s !== 'train')];
  let input: InputKind | null = null;
  let exampleShape: number[] = [];
  const splits: SplitData[] = [];
  let limited: TrainingData['limited'] = null;
  for (const name of names) {
    const s = readSplit(dir, name);
    const kind = inputKind(s.x.dtype, s.x.shape);
    const shape = s.x.shape.slice(1);
    if (input === null) {
      input = kind;
      exampleShape = shape;
    } else if (kind !== input || shape.join(',') !== exampleShape.join(',')) {
      throw new Error(`${dir}: split '${name}' has inputs [${s.x.shape}] ${s.x.dtype}, unlike the training split`);
    }
    let x = (s.x.dtype === '<f8' ? Float32Array.from(s.x.data as Float64Array) : s.x.data) as XArray;
    const labelled = !!s.y && sameNames(s.meta.y?.label_names, classes);
    let y = labelled ? (s.y!.data as Int32Array) : null;
    let n = s.meta.n;
    if (name === 'train') {
      if (!y) throw new Error(`${dir}: the train split has no labels in the class space`);
      for (const c of y) if (!(c >= 0 && c < numClasses)) throw new Error(`${dir}: train label ${c} outside 0..${numClasses - 1}`);
      const limit = options.trainLimit;
      if (limit != null && limit < n) {
        const idx = stratifiedLimit(y, numClasses, limit);
        const size = shape.reduce((a, b) => a * b, 1);
        x = select(x, size, idx);
        y = Int32Array.from(idx, (i) => y![i]!);
        limited = { from: n, to: idx.length };
        n = idx.length;
      }
    }
    splits.push({ name, n, x, y });
  }
  const train = splits[0]!;
  const exampleSize = exampleShape.reduce((a, b) => a * b, 1);
  let normalization: TrainingData['normalization'] = null;
  if (input === 'images') normalization = channelStats(train.x as Uint8Array, exampleShape[2]!);
  return { meta, dir, input: input!, exampleShape, exampleSize, numClasses, train, evals: splits, normalization, limited };
}

/** Per-channel mean and standard deviation of x/255 (float64 accumulation). */
export function channelStats(x: Uint8Array, channels: number): { mean: number[]; std: number[] } {
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    const v = x[i]! / 255;
    sum[c]! += v;
    sq[c]! += v * v;
  }
  const count = x.length / channels;
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sq, (s, c) => Math.sqrt(Math.max(1e-12, s / count - mean[c]! ** 2)));
  return { mean, std };
}

/** Fills model inputs for the examples `idx` of a split (float32 for images/points, int32 for tokens). */
export class BatchMaker {
  private readonly lut: Float32Array | null;

  constructor(private readonly data: TrainingData) {
    const norm = data.normalization;
    if (norm) {
      const C = norm.mean.length;
      this.lut = new Float32Array(256 * C);
      for (let c = 0; c < C; c++) for (let v = 0; v < 256; v++) this.lut[c * 256 + v] = (v / 255 - norm.mean[c]!) / norm.std[c]!;
    } else {
      this.lut = null;
    }
  }

  inputs(split: SplitData, idx: ArrayLike<number>): Float32Array | Int32Array {
    const size = this.data.exampleSize;
    const n = idx.length;
    if (this.data.input === 'tokens') {
      const out = new Int32Array(n * size);
      const x = split.x as Int32Array;
      for (let k = 0; k < n; k++) out.set(x.subarray(idx[k]! * size, (idx[k]! + 1) * size), k * size);
      return out;
    }
    const out = new Float32Array(n * size);
    if (this.lut) {
      const x = split.x as Uint8Array;
      const C = this.data.normalization!.mean.length;
      const lut = this.lut;
      for (let k = 0; k < n; k++) {
        const src = idx[k]! * size;
        const dst = k * size;
        for (let j = 0; j < size; j++) out[dst + j] = lut[(j % C) * 256 + x[src + j]!]!;
      }
    } else {
      const x = split.x as Float32Array;
      for (let k = 0; k < n; k++) out.set(x.subarray(idx[k]! * size, (idx[k]! + 1) * size), k * size);
    }
    return out;
  }
}

/** Largest singular value of the [N, 2] (or [N, D]) data matrix, no bias column (power iteration on XᵀX for D > 2). */
export function sigmaMaxOf(x: ArrayLike<number>, d: number): number {
  const n = x.length / d;
  const g = new Float64Array(d * d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) g[a * d + b]! += x[i * d + a]! * x[i * d + b]!;
  if (d === 2) {
    const tr = g[0]! + g[3]!;
    const det = g[0]! * g[3]! - g[1]! * g[2]!;
    return Math.sqrt(tr / 2 + Math.sqrt(Math.max(0, (tr * tr) / 4 - det)));
  }
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let lambda = 0;
  for (let it = 0; it < 1000; it++) {
    const w = new Float64Array(d);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) w[a]! += g[a * d + b]! * v[b]!;
    const norm = Math.hypot(...w);
    if (norm === 0) return 0;
    const next = w.map((u) => u / norm);
    const diff = Math.abs(norm - lambda);
    lambda = norm;
    v = next;
    if (diff < 1e-12 * norm) break;
  }
  return Math.sqrt(lambda);
}

/** The MRPC vocabulary size (vocab.json next to the arrays, or meta details). */
export function vocabSize(data: TrainingData): number | null {
  const d = data.meta.details as { vocab_size?: number };
  if (typeof d.vocab_size === 'number') return d.vocab_size;
  const p = join(data.dir, 'vocab.json');
  if (existsSync(p)) return (JSON.parse(readFileSync(p, 'utf8')) as unknown[]).length;
  return null;
}
