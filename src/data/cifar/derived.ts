import type { DatasetInput, SplitInput } from '../dataset-io.js';
import { npyArray } from '../npy.js';
import { Rng } from '../rng.js';
import { CANONICAL_KIND, CIFAR10_CLASSES, classIndex, IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_SIDE } from './constants.js';
import type { Cifar10, ImageSet } from './image-set.js';

/**
 * The CIFAR-10 data sets the paper trains and evaluates on, derived from the
 * canonical arrays. Selection is deterministic: "the first N of a class"
 * means in the original batch order (the batches are already shuffled), and
 * every random choice (sub-sampling, label flips, noise images) comes from a
 * seed in the params, one stream per purpose.
 */

function images(set: ImageSet, indices: readonly number[]): Uint8Array {
  const x = new Uint8Array(indices.length * IMAGE_BYTES);
  indices.forEach((src, i) => x.set(set.x.subarray(src * IMAGE_BYTES, (src + 1) * IMAGE_BYTES), i * IMAGE_BYTES));
  return x;
}

function imageArray(x: Uint8Array, n: number) {
  return npyArray('|u1', [n, IMAGE_SIDE, IMAGE_SIDE, IMAGE_CHANNELS], x);
}

function labelArray(y: Int32Array) {
  return npyArray('<i4', [y.length], y);
}

/** Indices (ascending) of the first `perClass` examples of each class in `classes`; null = all of them. */
export function firstPerClass(y: Int32Array, classes: readonly number[], perClass: number | null, where: string): number[] {
  const taken = new Map<number, number>(classes.map((c) => [c, 0]));
  const available = new Map<number, number>(classes.map((c) => [c, 0]));
  const out: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const c = y[i]!;
    if (!taken.has(c)) continue;
    available.set(c, available.get(c)! + 1);
    if (perClass === null || taken.get(c)! < perClass) {
      taken.set(c, taken.get(c)! + 1);
      out.push(i);
    }
  }
  if (perClass !== null) {
    for (const c of classes) {
      if (available.get(c)! < perClass) {
        throw new Error(`${where}: asked for ${perClass} '${CIFAR10_CLASSES[c]}' images but there are only ${available.get(c)}`);
      }
    }
  }
  return out;
}

/** The canonical full data set: every train and test image, labels 0..9. */
export function canonicalDataset(data: Cifar10): DatasetInput {
  return {
    kind: CANONICAL_KIND,
    classes: CIFAR10_CLASSES,
    splits: {
      train: { x: imageArray(data.train.x, data.train.n), y: labelArray(data.train.y), description: 'data_batch_1..5 in order' },
      test: { x: imageArray(data.test.x, data.test.n), y: labelArray(data.test.y), description: 'test_batch in order' },
    },
    details: { order: 'original batch order', layout: 'uint8 NHWC (image, row, column, RGB)' },
  };
}

/** Uniform random uint8 images (the paper's "random noise images"). */
export function noiseImages(n: number, seed: number): Uint8Array {
  return Rng.stream(seed, 'noise-images').bytes(new Uint8Array(n * IMAGE_BYTES));
}

export interface BinarySetOptions {
  /** [class labelled 0, class labelled 1], CIFAR-10 class names. */
  classes: readonly [string, string];
  trainPerClass: number | null;
  testPerClass: number | null;
  /** Test images of each of the other 8 classes (split `other`); 0 = no such split, null = all. */
  otherPerClass: number | null;
  /** Random noise images (split `noise`); null or n = 0 = none. */
  noise: { n: number; seed: number } | null;
  /** Flip the labels of this fraction of each class's training examples. */
  labelNoise: { fraction: number; seed: number } | null;
  /** Keep only `ratio` of one class's training examples (an imbalanced training set). */
  subsample: { class: string; ratio: number; seed: number } | null;
}

/** A two-class problem (cat vs dog, automobile vs truck) with its evaluation splits. */
export function binaryDataset(data: Cifar10, o: BinarySetOptions): DatasetInput {
  const pair = o.classes.map(classIndex) as [number, number];
  if (pair[0] === pair[1]) throw new Error(`binary data set needs two different classes, got ${o.classes.join(' and ')}`);
  const details: Record<string, unknown> = {
    classes: { [o.classes[0]]: 0, [o.classes[1]]: 1 },
    selection: 'first N per class in original batch order',
    train_per_class: o.trainPerClass,
    test_per_class: o.testPerClass,
  };

  let trainIdx = firstPerClass(data.train.y, pair, o.trainPerClass, 'train');
  if (o.subsample) {
    const s = o.subsample;
    const c = classIndex(s.class);
    if (!pair.includes(c)) throw new Error(`subsample class '${s.class}' is not one of ${o.classes.join(', ')}`);
    if (!(s.ratio > 0 && s.ratio <= 1)) throw new Error(`subsample ratio must be in (0, 1], got ${s.ratio}`);
    const ofClass = trainIdx.filter((i) => data.train.y[i] === c);
    const keep = Math.max(1, Math.round(ofClass.length * s.ratio));
    const kept = new Set(Rng.stream(s.seed, `subsample:${s.class}`).sample(ofClass, keep));
    trainIdx = trainIdx.filter((i) => data.train.y[i] !== c || kept.has(i));
    details.subsample = { class: s.class, ratio: s.ratio, seed: s.seed, kept: keep, of: ofClass.length };
  }
  const yTrainClean = new Int32Array(trainIdx.map((i) => (data.train.y[i] === pair[0] ? 0 : 1)));
  const trainSplit: SplitInput = { x: imageArray(images(data.train, trainIdx), trainIdx.length), y: labelArray(yTrainClean) };
  if (o.labelNoise) {
    const { fraction, seed } = o.labelNoise;
    if (!(fraction >= 0 && fraction < 1)) throw new Error(`label noise fraction must be in [0, 1), got ${fraction}`);
    const noisy = new Int32Array(yTrainClean);
    const flipped: Record<string, number> = {};
    for (const label of [0, 1]) {
      const positions: number[] = [];
      yTrainClean.forEach((v, i) => v === label && positions.push(i));
      const k = Math.round(positions.length * fraction);
      for (const p of Rng.stream(seed, `label-noise:${o.classes[label]}`).sample(positions, k)) noisy[p] = 1 - label;
      flipped[o.classes[label]!] = k;
    }
    trainSplit.y = labelArray(noisy);
    trainSplit.extra = { y_clean: labelArray(yTrainClean) };
    trainSplit.description = 'labels with per-class label noise; true labels in train_y_clean.npy';
    details.label_noise = { fraction, seed, flipped };
  }

  const testIdx = firstPerClass(data.test.y, pair, o.testPerClass, 'test');
  const splits: Record<string, SplitInput> = {
    train: trainSplit,
    test: {
      x: imageArray(images(data.test, testIdx), testIdx.length),
      y: labelArray(new Int32Array(testIdx.map((i) => (data.test.y[i] === pair[0] ? 0 : 1)))),
    },
  };
  if (o.otherPerClass !== 0) {
    const others = CIFAR10_CLASSES.map((_, i) => i).filter((c) => !pair.includes(c));
    const idx = firstPerClass(data.test.y, others, o.otherPerClass, 'test (other classes)');
    splits.other = {
      x: imageArray(images(data.test, idx), idx.length),
      y: labelArray(new Int32Array(idx.map((i) => data.test.y[i]!))),
      labelNames: CIFAR10_CLASSES,
      description: `test images of the ${others.length} other classes; labels are CIFAR-10 class indices`,
    };
    details.other_per_class = o.otherPerClass;
  }
  if (o.noise && o.noise.n > 0) {
    splits.noise = {
      x: imageArray(noiseImages(o.noise.n, o.noise.seed), o.noise.n),
      description: 'uniform random uint8 images, unlabelled',
    };
    details.noise = { n: o.noise.n, seed: o.noise.seed, distribution: 'uniform over 0..255 per channel' };
  }
  return { kind: 'cifar-binary', classes: [...o.classes], splits, details };
}

export interface MulticlassOptions {
  trainPerClass: number | null;
  testPerClass: number | null;
}

/** All ten classes (the multiclass label-shift experiment). */
export function multiclassDataset(data: Cifar10, o: MulticlassOptions): DatasetInput {
  const all = CIFAR10_CLASSES.map((_, i) => i);
  const trainIdx = firstPerClass(data.train.y, all, o.trainPerClass, 'train');
  const testIdx = firstPerClass(data.test.y, all, o.testPerClass, 'test');
  return {
    kind: 'cifar-multiclass',
    classes: CIFAR10_CLASSES,
    splits: {
      train: { x: imageArray(images(data.train, trainIdx), trainIdx.length), y: labelArray(new Int32Array(trainIdx.map((i) => data.train.y[i]!))) },
      test: { x: imageArray(images(data.test, testIdx), testIdx.length), y: labelArray(new Int32Array(testIdx.map((i) => data.test.y[i]!))) },
    },
    details: { selection: 'first N per class in original batch order', train_per_class: o.trainPerClass, test_per_class: o.testPerClass },
  };
}
