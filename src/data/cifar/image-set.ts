import { IMAGE_BYTES } from './constants.js';

/**
 * CIFAR-10 in the pipeline's canonical in-memory form: uint8 images in NHWC
 * order (image, row, column, RGB), int32 labels 0..9, in the order of the
 * original batches. Both raw formats decode to exactly this.
 */

export interface ImageSet {
  n: number;
  /** n × 32 × 32 × 3 bytes, NHWC. */
  x: Uint8Array;
  y: Int32Array;
}

export interface Cifar10 {
  train: ImageSet;
  test: ImageSet;
}

export interface DecodeOptions {
  /** Images each batch file must hold: 10,000 for the real data set; tests use tiny fixtures. */
  imagesPerBatch: number;
  onProgress?: (done: number, total: number, file: string) => void;
}

export function concatSets(sets: ImageSet[]): ImageSet {
  const n = sets.reduce((a, s) => a + s.n, 0);
  const x = new Uint8Array(n * IMAGE_BYTES);
  const y = new Int32Array(n);
  let at = 0;
  for (const s of sets) {
    x.set(s.x, at * IMAGE_BYTES);
    y.set(s.y, at);
    at += s.n;
  }
  return { n, x, y };
}
