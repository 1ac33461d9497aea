import type { DatasetInput } from './dataset-io.js';
import { npyArray } from './npy.js';
import { Rng } from './rng.js';

/**
 * The paper's two-dimensional data sets, generated from seeds:
 *
 * - linearly separable (Figures 1-3): positives are `n` draws from a 2D
 *   truncated normal; negatives are the positives rotated about the origin
 *   and translated;
 * - two moons (Figure A.1), as scikit-learn's make_moons draws them;
 * - overlapping Gaussians (Figure A.2).
 *
 * Points are float32 [N, 2]; labels int32, 0 = negative / first class,
 * 1 = positive / second class, class 0 first. The metadata records the
 * largest singular value of the data matrix, which sets the paper's
 * learning rate for these sets.
 */

export interface LinearOptions {
  nPerClass: number;
  seed: number;
  /** Standard deviation along x and y of the (untruncated) normal. */
  std: readonly [number, number];
  /** Truncation at ±truncate standard deviations, per coordinate. */
  truncate: number;
  /** Rotation of the negatives about the origin, degrees counter-clockwise. */
  rotateDeg: number;
  /** Translation of the negatives after rotation. */
  translate: readonly [number, number];
}

export interface MoonsOptions {
  nPerClass: number;
  seed: number;
  /** Standard deviation of Gaussian noise added to every coordinate. */
  noise: number;
}

export interface GaussiansOptions {
  nPerClass: number;
  seed: number;
  means: readonly [readonly [number, number], readonly [number, number]];
  std: number;
}

function pack(kind: string, classes: [string, string], points0: number[][], points1: number[][], details: Record<string, unknown>): DatasetInput {
  const n = points0.length + points1.length;
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  [...points0, ...points1].forEach(([a, b], i) => {
    x[2 * i] = a!;
    x[2 * i + 1] = b!;
    y[i] = i < points0.length ? 0 : 1;
  });
  return {
    kind,
    classes,
    splits: { train: { x: npyArray('<f4', [n, 2], x), y: npyArray('<i4', [n], y) } },
    details: { ...details, sigma_max: sigmaMax(x) },
  };
}

/** Largest singular value of the [N, 2] data matrix (no bias column). */
export function sigmaMax(x: Float32Array): number {
  let a = 0;
  let b = 0;
  let d = 0;
  for (let i = 0; i < x.length; i += 2) {
    const u = x[i]!;
    const v = x[i + 1]!;
    a += u * u;
    b += u * v;
    d += v * v;
  }
  const tr = a + d;
  const det = a * d - b * b;
  const lambda = tr / 2 + Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
  return Math.round(Math.sqrt(lambda) * 1e6) / 1e6;
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`n_per_class must be a positive integer, got ${n}`);
}

export function linearlySeparable(o: LinearOptions): DatasetInput {
  checkCount(o.nPerClass);
  if (!(o.truncate > 0)) throw new Error(`truncate must be positive, got ${o.truncate}`);
  const rng = Rng.stream(o.seed, 'linear-2d');
  const positives: number[][] = [];
  for (let i = 0; i < o.nPerClass; i++) {
    positives.push([o.std[0] * rng.truncatedNormal(-o.truncate, o.truncate), o.std[1] * rng.truncatedNormal(-o.truncate, o.truncate)]);
  }
  const theta = (o.rotateDeg * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const negatives = positives.map(([px, py]) => [cos * px! - sin * py! + o.translate[0], sin * px! + cos * py! + o.translate[1]]);
  // Separable by construction when the clouds do not overlap along the translation direction.
  const norm = Math.hypot(o.translate[0], o.translate[1]);
  if (norm === 0) throw new Error('translate must be non-zero for the classes to be separable');
  const ux = o.translate[0] / norm;
  const uy = o.translate[1] / norm;
  const maxPos = Math.max(...positives.map(([a, b]) => a! * ux + b! * uy));
  const minNeg = Math.min(...negatives.map(([a, b]) => a! * ux + b! * uy));
  if (!(minNeg > maxPos)) {
    throw new Error(
      `linear-2d: the rotated and translated copy overlaps the positives along the translation (gap ${(minNeg - maxPos).toFixed(3)}); use a longer translate`,
    );
  }
  return pack('linear-2d', ['negative', 'positive'], negatives, positives, {
    n_per_class: o.nPerClass,
    seed: o.seed,
    std: o.std,
    truncate: o.truncate,
    rotate_deg: o.rotateDeg,
    translate: o.translate,
    gap_along_translation: Math.round((minNeg - maxPos) * 1e6) / 1e6,
  });
}

export function moons(o: MoonsOptions): DatasetInput {
  checkCount(o.nPerClass);
  const rng = Rng.stream(o.seed, 'moons-2d');
  const n = o.nPerClass;
  const step = n > 1 ? Math.PI / (n - 1) : 0;
  const outer: number[][] = [];
  const inner: number[][] = [];
  for (let i = 0; i < n; i++) outer.push([Math.cos(i * step), Math.sin(i * step)]);
  for (let i = 0; i < n; i++) inner.push([1 - Math.cos(i * step), 1 - Math.sin(i * step) - 0.5]);
  for (const p of [...outer, ...inner]) {
    p[0]! += o.noise * rng.normal();
    p[1]! += o.noise * rng.normal();
  }
  return pack('moons-2d', ['outer', 'inner'], outer, inner, { n_per_class: n, seed: o.seed, noise: o.noise });
}

export function overlappingGaussians(o: GaussiansOptions): DatasetInput {
  checkCount(o.nPerClass);
  const rng = Rng.stream(o.seed, 'gaussians-2d');
  const draw = (mean: readonly [number, number]): number[][] =>
    Array.from({ length: o.nPerClass }, () => [mean[0] + o.std * rng.normal(), mean[1] + o.std * rng.normal()]);
  const a = draw(o.means[0]);
  const b = draw(o.means[1]);
  return pack('gaussians-2d', ['negative', 'positive'], a, b, { n_per_class: o.nPerClass, seed: o.seed, means: o.means, std: o.std });
}
