import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractTar } from '../archive.js';
import { checksum, downloadFile, type DownloadProgress } from '../download.js';
import { expectedHex, formatExpected, verifyFile } from '../integrity.js';
import { describeFiles, type Provenance } from '../provenance.js';
import { binaryBatchNames, CIFAR10_BINARY, CIFAR10_BINARY_FORMAT, CIFAR10_CLASSES, IMAGE_BYTES, IMAGE_SIDE, TRAIN_BATCHES } from './constants.js';
import { concatSets, type Cifar10, type DecodeOptions, type ImageSet } from './image-set.js';

/**
 * The canonical CIFAR-10 binary distribution, `cifar-10-binary.tar.gz`:
 * `cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin`, each a sequence of
 * 3,073-byte records: one label byte (0..9), then 1,024 red, 1,024 green and
 * 1,024 blue bytes (planar; each plane row-major 32×32).
 */

const RECORD_BYTES = 1 + IMAGE_BYTES;
const PLANE = IMAGE_SIDE * IMAGE_SIDE;
const ARCHIVE_DIR = 'cifar-10-batches-bin';

export function binaryArchiveMembers(): Record<string, string> {
  const members: Record<string, string> = {};
  for (const name of [...binaryBatchNames(), 'batches.meta.txt']) members[`${ARCHIVE_DIR}/${name}`] = name;
  return members;
}

/** Decodes one batch file's bytes (planar records) into NHWC images and labels. */
export function decodeBinaryBatch(bytes: Uint8Array, file: string, expectedImages?: number): ImageSet {
  if (bytes.length % RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / RECORD_BYTES);
    throw new Error(
      `${file}: ${bytes.length} bytes is not a whole number of ${RECORD_BYTES}-byte records: record ${whole} (byte offset ${whole * RECORD_BYTES}) is cut short`,
    );
  }
  const n = bytes.length / RECORD_BYTES;
  if (expectedImages !== undefined && n !== expectedImages) {
    throw new Error(`${file}: holds ${n} images, expected ${expectedImages}`);
  }
  const x = new Uint8Array(n * IMAGE_BYTES);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * RECORD_BYTES;
    const label = bytes[base]!;
    if (label >= CIFAR10_CLASSES.length) {
      throw new Error(`${file}: record ${i} (byte offset ${base}): label ${label} out of range 0..${CIFAR10_CLASSES.length - 1}`);
    }
    y[i] = label;
    const out = i * IMAGE_BYTES;
    const r = base + 1;
    const g = r + PLANE;
    const b = g + PLANE;
    for (let p = 0; p < PLANE; p++) {
      const o = out + p * 3;
      x[o] = bytes[r + p]!;
      x[o + 1] = bytes[g + p]!;
      x[o + 2] = bytes[b + p]!;
    }
  }
  return { n, x, y };
}

/** Encodes NHWC images and labels as binary-format records (for test fixtures and round trips). */
export function encodeBinaryBatch(set: ImageSet): Uint8Array {
  const out = new Uint8Array(set.n * RECORD_BYTES);
  for (let i = 0; i < set.n; i++) {
    const base = i * RECORD_BYTES;
    out[base] = set.y[i]!;
    for (let p = 0; p < PLANE; p++) {
      for (let c = 0; c < 3; c++) out[base + 1 + c * PLANE + p] = set.x[i * IMAGE_BYTES + p * 3 + c]!;
    }
  }
  return out;
}

/** Decodes data_batch_1..5.bin and test_batch.bin from `dir`. */
export function decodeBinaryDir(dir: string, options: DecodeOptions): Cifar10 {
  const names = binaryBatchNames();
  const sets: ImageSet[] = [];
  names.forEach((name, i) => {
    options.onProgress?.(i, names.length, name);
    const path = join(dir, name);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new Error(`${path}: cannot read: ${(err as Error).message}`);
    }
    sets.push(decodeBinaryBatch(bytes, path, options.imagesPerBatch));
  });
  options.onProgress?.(names.length, names.length, '');
  return { train: concatSets(sets.slice(0, TRAIN_BATCHES)), test: sets[TRAIN_BATCHES]! };
}

export interface RawFetchResult {
  provenance: Omit<Provenance, 'source'>;
}

/**
 * Verifies a local `cifar-10-binary.tar.gz` against the pinned MD5 and
 * extracts its batches into `rawDir`. Returns the provenance of what was written.
 */
export async function extractBinaryArchive(archive: string, rawDir: string, md5: string): Promise<RawFetchResult> {
  const expected = expectedHex('md5', md5);
  const verified = await verifyFile(archive, expected, archive);
  const written = await extractTar(archive, rawDir, { members: binaryArchiveMembers() });
  const files = await describeFiles(rawDir, written);
  return {
    provenance: {
      dataset: 'cifar10',
      format: CIFAR10_BINARY_FORMAT,
      archive: { name: CIFAR10_BINARY.archive, size: verified.size, sha256: verified.sha256, verified: formatExpected(expected) },
      files,
    },
  };
}

/** Downloads the tarball (resumable, into `workDir`), verifies and extracts it. */
export async function fetchBinary(
  url: string,
  md5: string,
  workDir: string,
  rawDir: string,
  hooks: { onProgress?: (p: DownloadProgress) => void; log?: (line: string) => void } = {},
): Promise<RawFetchResult> {
  const archive = join(workDir, CIFAR10_BINARY.archive);
  await downloadFile(url, archive, { verify: checksum(expectedHex('md5', md5)), onProgress: hooks.onProgress, log: hooks.log });
  return extractBinaryArchive(archive, rawDir, md5);
}
