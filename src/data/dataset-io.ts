import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy, writeNpy, type NpyArray } from './npy.js';
import { channelMeans, classCounts, columnMeans, round } from './stats.js';

/**
 * The one on-disk layout of a derived data set (a preprocess node's outputs):
 *
 *   meta.json          what is in it: kind, class names, splits with shapes,
 *                      per-class counts and channel means, kind-specific details
 *   <split>_x.npy      inputs: uint8 NHWC images [N, 32, 32, 3], float32 points
 *                      [N, 2], or int32 token ids [N, L]
 *   <split>_y.npy      int32 labels [N] (absent for unlabelled splits, e.g. noise)
 *   <split>_<extra>.npy  optional per-split arrays (e.g. train_y_clean)
 *
 * Everything in it is a pure function of the data, so equal data sets are
 * equal bytes, whichever source the raw files came from.
 */

export const DATASET_FORMAT = 'iwdl-dataset/1';
export const META_FILE = 'meta.json';

export interface SplitInput {
  x: NpyArray;
  y?: NpyArray<'<i4'>;
  /** Names the labels of this split index into (default: the data set's classes). */
  labelNames?: readonly string[];
  extra?: Record<string, NpyArray>;
  /** A sentence for readers of meta.json. */
  description?: string;
}

export interface SplitMeta {
  n: number;
  description?: string;
  x: { file: string; dtype: string; shape: number[] };
  y?: { file: string; dtype: string; shape: number[]; label_names: string[] };
  extra?: Record<string, { file: string; dtype: string; shape: number[] }>;
  counts?: Record<string, number>;
  /** uint8 images: mean of each channel, 0-255. */
  channel_mean?: number[];
  /** The same divided by 255. */
  channel_mean_unit?: number[];
  /** float inputs: mean of each column. */
  column_mean?: number[];
}

export interface DatasetMeta {
  format: typeof DATASET_FORMAT;
  kind: string;
  classes: string[];
  splits: Record<string, SplitMeta>;
  details: Record<string, unknown>;
}

export interface DatasetInput {
  kind: string;
  classes: readonly string[];
  splits: Record<string, SplitInput>;
  details?: Record<string, unknown>;
}

export function splitMeta(name: string, split: SplitInput, classes: readonly string[]): SplitMeta {
  const n = split.x.shape[0] ?? 0;
  const meta: SplitMeta = {
    n,
    ...(split.description ? { description: split.description } : {}),
    x: { file: `${name}_x.npy`, dtype: split.x.dtype, shape: split.x.shape },
  };
  if (split.y) {
    if (split.y.shape.length !== 1 || split.y.shape[0] !== n) {
      throw new Error(`split ${name}: ${split.y.shape[0]} labels for ${n} inputs`);
    }
    const names = [...(split.labelNames ?? classes)];
    meta.y = { file: `${name}_y.npy`, dtype: split.y.dtype, shape: split.y.shape, label_names: names };
    meta.counts = classCounts(split.y.data, names, `${name}_y`);
  }
  if (split.extra) {
    meta.extra = {};
    for (const [k, a] of Object.entries(split.extra)) meta.extra[k] = { file: `${name}_${k}.npy`, dtype: a.dtype, shape: a.shape };
  }
  const shape = split.x.shape;
  if (split.x.dtype === '|u1' && shape.length === 4) {
    const means = channelMeans(split.x.data as Uint8Array, shape[3]!);
    meta.channel_mean = means.map((m) => round(m, 4));
    meta.channel_mean_unit = means.map((m) => round(m / 255, 6));
  } else if ((split.x.dtype === '<f4' || split.x.dtype === '<f8') && shape.length === 2) {
    meta.column_mean = columnMeans(split.x.data as Float32Array, shape[1]!).map((m) => round(m, 6));
  }
  return meta;
}

/** The metadata of a data set (shapes, counts, channel means), without writing anything. */
export function datasetMeta(input: DatasetInput): DatasetMeta {
  const splits: Record<string, SplitMeta> = {};
  for (const [name, split] of Object.entries(input.splits)) {
    if (!/^[a-z][a-z0-9]*$/.test(name)) throw new Error(`split name '${name}' must be lower-case letters and digits`);
    splits[name] = splitMeta(name, split, input.classes);
  }
  return {
    format: DATASET_FORMAT,
    kind: input.kind,
    classes: [...input.classes],
    splits,
    details: input.details ?? {},
  };
}

/** Writes the arrays and meta.json into `outDir`; returns the metadata written (pass `meta` when already computed). */
export function writeDataset(outDir: string, input: DatasetInput, meta: DatasetMeta = datasetMeta(input)): DatasetMeta {
  for (const [name, split] of Object.entries(input.splits)) {
    const m = meta.splits[name]!;
    writeNpy(join(outDir, m.x.file), split.x);
    if (split.y && m.y) writeNpy(join(outDir, m.y.file), split.y);
    for (const [k, a] of Object.entries(split.extra ?? {})) writeNpy(join(outDir, `${name}_${k}.npy`), a);
  }
  writeFileSync(join(outDir, META_FILE), JSON.stringify(meta, null, 2) + '\n');
  return meta;
}

export function readDatasetMeta(dir: string): DatasetMeta {
  const path = join(dir, META_FILE);
  const meta = JSON.parse(readFileSync(path, 'utf8')) as DatasetMeta;
  if (meta.format !== DATASET_FORMAT) throw new Error(`${path}: not an ${DATASET_FORMAT} data set (format ${JSON.stringify(meta.format)})`);
  return meta;
}

/** Loads one split's arrays (for training and evaluation stages). */
export function readSplit(dir: string, split: string): { meta: SplitMeta; x: NpyArray; y?: NpyArray<'<i4'> } {
  const meta = readDatasetMeta(dir);
  const s = meta.splits[split];
  if (!s) throw new Error(`${join(dir, META_FILE)}: no split '${split}' (splits: ${Object.keys(meta.splits).join(', ')})`);
  const x = readNpy(join(dir, s.x.file));
  const y = s.y ? (readNpy(join(dir, s.y.file)) as NpyArray<'<i4'>) : undefined;
  return { meta: s, x, y };
}

/** Human-readable lines: counts per class and channel means, for the node's log. */
export function describeDataset(meta: DatasetMeta): string[] {
  const lines: string[] = [];
  for (const [name, s] of Object.entries(meta.splits)) {
    const parts = [`${name}: ${s.n} × ${s.x.shape.slice(1).join('×') || '1'} ${s.x.dtype}`];
    if (s.counts) parts.push(`per class ${Object.entries(s.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    if (s.channel_mean) {
      parts.push(
        `channel means ${s.channel_mean.map((m) => m.toFixed(3)).join(' ')} of 255 = ${s.channel_mean_unit!.map((m) => m.toFixed(4)).join(' ')}`,
      );
    }
    if (s.column_mean) parts.push(`column means ${s.column_mean.map((m) => m.toFixed(4)).join(' ')}`);
    lines.push(parts.join('; '));
  }
  return lines;
}
