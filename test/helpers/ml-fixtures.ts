import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeDataset, type DatasetInput } from '../../src/data/dataset-io.js';
import { npyArray } from '../../src/data/npy.js';
import { Rng } from '../../src/data/rng.js';
import { linearlySeparable } from '../../src/data/synthetic-2d.js';
import { tempDir } from './stage-context.js';

/**
 * Tiny data sets in the preprocess layout (src/data/dataset-io.ts) for the
 * training tests: small enough that a few epochs take well under a second
 * on the cpu backend.
 */

/** The linear-2d set of the paper (negatives rotated and translated positives), n per class. */
export function write2d(n = 16, seed = 3): string {
  const dir = tempDir('iwdl-ml-2d-');
  writeDataset(dir, linearlySeparable({ nPerClass: n, seed, std: [1, 0.5], truncate: 2, rotateDeg: 60, translate: [3.5, 3.5] }));
  return dir;
}

/**
 * A binary image set like the cat/dog ones: `size`x`size`x3 uint8 images
 * whose class is visible (class 1 is brighter in the red channel), with
 * `other` (labels are indices of 10 "CIFAR" classes) and `noise` splits.
 */
export function writeImages(o: { train: number; test: number; other: number; noise: number; size?: number; seed?: number }): string {
  const size = o.size ?? 8;
  const rng = Rng.stream(o.seed ?? 5, 'ml-images');
  const classes = ['cat', 'dog'];
  const make = (n: number, labels: (i: number) => number) => {
    const x = new Uint8Array(n * size * size * 3);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = labels(i);
      for (let p = 0; p < size * size; p++) {
        for (let c = 0; c < 3; c++) {
          const base = c === 0 && y[i] === 1 ? 150 : 60;
          x[(i * size * size + p) * 3 + c] = base + rng.int(0, 90);
        }
      }
    }
    return { x: npyArray('|u1', [n, size, size, 3], x), y: npyArray('<i4', [n], y) };
  };
  const train = make(o.train, (i) => i % 2);
  const test = make(o.test, (i) => i % 2);
  const other = make(o.other, (i) => [0, 1, 2, 4, 6, 7, 8, 9][i % 8]!);
  const noise = rng.bytes(new Uint8Array(o.noise * size * size * 3));
  const cifar = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
  const input: DatasetInput = {
    kind: 'cifar-binary',
    classes,
    splits: {
      train,
      test,
      other: { ...other, labelNames: cifar },
      noise: { x: npyArray('|u1', [o.noise, size, size, 3], noise) },
    },
    details: { fixture: true },
  };
  const dir = tempDir('iwdl-ml-img-');
  writeDataset(dir, input);
  return dir;
}

/** A K-class image set (class k has a brighter channel k % 3 and an offset by k). */
export function writeMulticlass(o: { perClass: number; test: number; classes?: number; size?: number }): string {
  const K = o.classes ?? 10;
  const size = o.size ?? 4;
  const rng = Rng.stream(11, 'ml-multiclass');
  const make = (n: number) => {
    const x = new Uint8Array(n * size * size * 3);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = i % K;
      y[i] = k;
      for (let p = 0; p < size * size; p++) {
        for (let c = 0; c < 3; c++) x[(i * size * size + p) * 3 + c] = (c === k % 3 ? 120 : 40) + 10 * k + rng.int(0, 20);
      }
    }
    return { x: npyArray('|u1', [n, size, size, 3], x), y: npyArray('<i4', [n], y) };
  };
  const dir = tempDir('iwdl-ml-multi-');
  writeDataset(dir, { kind: 'cifar-multiclass', classes: Array.from({ length: K }, (_, k) => `c${k}`), splits: { train: make(o.perClass * K), test: make(o.test) } });
  return dir;
}

/** Token pairs like the MRPC set: [CLS] a [SEP] b [SEP] [PAD]...; label 1 when a and b share their first word. */
export function writeTokens(o: { train: number; test: number; len?: number; vocab?: number }): string {
  const L = o.len ?? 12;
  const V = o.vocab ?? 30;
  const rng = Rng.stream(13, 'ml-tokens');
  const make = (n: number) => {
    const x = new Int32Array(n * L);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const la = 2 + rng.int(0, 2);
      const lb = 2 + rng.int(0, 2);
      const a = Array.from({ length: la }, () => 4 + rng.int(0, V - 5));
      const b = Array.from({ length: lb }, () => 4 + rng.int(0, V - 5));
      y[i] = i % 2;
      if (y[i] === 1) b[0] = a[0]!;
      else if (b[0] === a[0]) b[0] = 4 + ((a[0]! - 4 + 1) % (V - 4));
      const seq = [2, ...a, 3, ...b, 3];
      x.set(seq.slice(0, L), i * L);
    }
    return { x: npyArray('<i4', [n, L], x), y: npyArray('<i4', [n], y) };
  };
  const dir = tempDir('iwdl-ml-tok-');
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', ...Array.from({ length: V - 4 }, (_, i) => `w${i}`)];
  writeDataset(dir, {
    kind: 'mrpc',
    classes: ['not_paraphrase', 'paraphrase'],
    splits: { train: make(o.train), test: make(o.test) },
    details: { vocab_file: 'vocab.json', vocab_size: V, special_tokens: { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3 } },
  });
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  return dir;
}

/** Every file under `dir` (relative path -> bytes), for comparing two runs' outputs. */
export function readTree(dir: string, skip: (rel: string) => boolean = () => false): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const rel = relative(dir, p);
      if (statSync(p).isDirectory()) walk(p);
      else if (!skip(rel)) out.set(rel, readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** meta.json without the fields that differ between runs (wall-clock seconds). */
export function stableMeta(dir: string): unknown {
  const m = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
  delete m.seconds;
  return m;
}

export function freshDir(prefix: string): string {
  const d = tempDir(prefix);
  mkdirSync(d, { recursive: true });
  return d;
}
