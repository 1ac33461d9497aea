import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { META_FILE, readDatasetMeta, readSplit } from '../dataset-io.js';
import { readProvenance, RAW_DIR } from '../provenance.js';
import { decodeBinaryDir } from './binary-source.js';
import { CANONICAL_KIND, CIFAR10_BINARY_FORMAT, CIFAR10_CLASSES, CIFAR10_PNG_FORMAT, IMAGES_PER_BATCH } from './constants.js';
import type { Cifar10, ImageSet } from './image-set.js';
import { decodePngDir } from './npm-source.js';

export type { Cifar10, ImageSet } from './image-set.js';

export interface LoadOptions {
  /** Images each batch file must hold (default 10,000, the real data set); tests use tiny fixtures. */
  imagesPerBatch?: number;
  onProgress?: (done: number, total: number, file: string) => void;
}

/**
 * Loads CIFAR-10 from either a download node's outputs (raw files + provenance.json,
 * in either format) or a canonical `cifar10` preprocess node's outputs.
 */
export async function loadCifar10(dir: string, options: LoadOptions = {}): Promise<Cifar10 & { from: string }> {
  if (existsSync(join(dir, META_FILE))) {
    const meta = readDatasetMeta(dir);
    if (meta.kind !== CANONICAL_KIND) throw new Error(`${dir}: a '${meta.kind}' data set, expected the canonical '${CANONICAL_KIND}' set or a CIFAR-10 download`);
    const load = (split: string): ImageSet => {
      const { x, y } = readSplit(dir, split);
      if (x.dtype !== '|u1' || !y) throw new Error(`${dir}: split ${split} is not uint8 images with labels`);
      return { n: x.shape[0]!, x: x.data as Uint8Array, y: y.data };
    };
    return { train: load('train'), test: load('test'), from: CANONICAL_KIND };
  }
  const provenance = readProvenance(dir);
  if (!provenance) throw new Error(`${dir}: neither a data set (${META_FILE}) nor a download (provenance.json)`);
  if (provenance.dataset !== 'cifar10') throw new Error(`${dir}: a download of '${provenance.dataset}', expected cifar10`);
  const raw = join(dir, RAW_DIR);
  const opts = { imagesPerBatch: options.imagesPerBatch ?? IMAGES_PER_BATCH, onProgress: options.onProgress };
  switch (provenance.format) {
    case CIFAR10_BINARY_FORMAT:
      return { ...decodeBinaryDir(raw, opts), from: provenance.format };
    case CIFAR10_PNG_FORMAT:
      return { ...decodePngDir(raw, opts), from: provenance.format };
    default:
      throw new Error(`${dir}: unknown CIFAR-10 raw format '${provenance.format}'`);
  }
}

export { CANONICAL_KIND, CIFAR10_CLASSES };
