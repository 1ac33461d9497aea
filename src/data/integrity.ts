import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * Checksums of downloaded files: what a source promises (`Expected`) and
 * what a file is. Pinned digests come in the form their publisher uses: a
 * hex MD5 for the CIFAR-10 tarball, an SRI string (`sha512-<base64>`) for an
 * npm package, hex SHA-256 for the MRPC files.
 */

export type HashAlgorithm = 'md5' | 'sha1' | 'sha256' | 'sha512';

export interface Expected {
  algorithm: HashAlgorithm;
  /** Lower-case hex. */
  hex: string;
}

export function expectedHex(algorithm: HashAlgorithm, hex: string): Expected {
  const clean = hex.trim().toLowerCase();
  const length = { md5: 32, sha1: 40, sha256: 64, sha512: 128 }[algorithm];
  if (!new RegExp(`^[0-9a-f]{${length}}$`).test(clean)) throw new Error(`'${hex}' is not a hex ${algorithm} digest`);
  return { algorithm, hex: clean };
}

/** `sha512-<base64>` (Subresource Integrity, as npm writes it) -> Expected. */
export function expectedSri(integrity: string): Expected {
  const m = /^(sha1|sha256|sha512)-([A-Za-z0-9+/]+={0,2})$/.exec(integrity.trim());
  if (!m) throw new Error(`'${integrity}' is not an integrity string like sha512-<base64>`);
  return expectedHex(m[1] as HashAlgorithm, Buffer.from(m[2]!, 'base64').toString('hex'));
}

export function formatExpected(e: Expected): string {
  return e.algorithm === 'md5' || e.algorithm === 'sha1'
    ? `${e.algorithm}:${e.hex}`
    : `${e.algorithm}-${Buffer.from(e.hex, 'hex').toString('base64')}`;
}

export interface FileDigests {
  size: number;
  digests: Partial<Record<HashAlgorithm, string>>;
}

/** One pass over a file, computing every requested digest. */
export async function hashFile(path: string, algorithms: readonly HashAlgorithm[]): Promise<FileDigests> {
  const hashes = [...new Set(algorithms)].map((a) => [a, createHash(a)] as const);
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    size += buf.length;
    for (const [, h] of hashes) h.update(buf);
  }
  const digests: Partial<Record<HashAlgorithm, string>> = {};
  for (const [a, h] of hashes) digests[a] = h.digest('hex');
  return { size, digests };
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Throws a one-line reason when the file does not match. Returns its SHA-256 and size for provenance. */
export async function verifyFile(path: string, expected: Expected, label = path): Promise<{ size: number; sha256: string }> {
  const { size, digests } = await hashFile(path, [expected.algorithm, 'sha256']);
  const actual = digests[expected.algorithm]!;
  if (actual !== expected.hex) {
    throw new Error(
      `checksum mismatch for ${label} (${size} bytes): ${expected.algorithm} ${abbreviate(actual)}, expected ${abbreviate(expected.hex)}`,
    );
  }
  return { size, sha256: digests.sha256! };
}

function abbreviate(hex: string): string {
  return hex.length > 20 ? `${hex.slice(0, 16)}…` : hex;
}
