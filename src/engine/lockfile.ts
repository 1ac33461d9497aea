import { readFileSync } from 'node:fs';
import type { InputDigest, NodeRecord } from './cache/cache.js';
import { prettyStableJson } from './hash.js';
import { writeFileAtomic } from './cache/local-cache.js';
import type { Digest, JsonObject, NodeKey, NodeName, OutputManifest } from './types.js';

/**
 * pipeline.lock: what the last successful run produced, per node. It is the
 * audit trail a reviewer diffs, and the baseline `--dry-run` compares against
 * to say *why* a node is stale. Keys are sorted so a rerun that changes one
 * node changes one block of the file.
 */
export interface LockEntry {
  stage: string;
  key: NodeKey;
  params: JsonObject;
  code: Record<string, Digest>;
  inputs: Record<string, InputDigest[]>;
  env: Record<string, string>;
  outputs: { digest: Digest; files: OutputManifest };
  duration_s: number;
}

export interface LockFile {
  version: 1;
  profile: string;
  nodes: Record<string, LockEntry>;
}

export function readLock(path: string): LockFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const lock = JSON.parse(text) as LockFile;
    if (lock && typeof lock === 'object' && lock.nodes && typeof lock.nodes === 'object') return lock;
  } catch {
    /* An unreadable lock is treated as absent: it only explains, it never decides. */
  }
  return undefined;
}

export function lockEntry(record: NodeRecord): LockEntry {
  return {
    stage: record.stage,
    key: record.key,
    params: record.params,
    code: record.code,
    inputs: record.inputs,
    env: record.env,
    outputs: record.outputs,
    duration_s: Math.round(record.durationMs) / 1000,
  };
}

/** Writes only when the content changed, so a no-op run leaves the file (and its mtime) alone. */
export function writeLock(path: string, lock: LockFile, previousText?: string): boolean {
  const text = prettyStableJson(lock);
  if (previousText === text) return false;
  let current: string | undefined = previousText;
  if (current === undefined) {
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = undefined;
    }
  }
  if (current === text) return false;
  writeFileAtomic(path, text);
  return true;
}

export type { NodeName };
