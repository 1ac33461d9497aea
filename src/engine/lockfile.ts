import { readFileSync, statSync } from 'node:fs';
import type { InputDigest, NodeRecord } from './cache/cache.js';
import { prettyStableJson, sha256 } from './hash.js';
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
  /** Peak memory of the process that ran it (see NodeRecord.peakRssMb); absent in older locks. */
  peak_rss_mb?: number;
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
  return parseLock(text);
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
    ...(record.peakRssMb !== undefined ? { peak_rss_mb: record.peakRssMb } : {}),
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

/**
 * pipeline.lock behind a small memo, so a no-op run neither parses nor
 * rewrites a megabyte of JSON: the memo remembers the file's stat signature
 * and a digest of its (profile, node -> key) pairs. Entries are derived from
 * immutable per-key records, so equal pairs mean equal content.
 */
export class LockStore {
  private loaded = false;
  private text: string | undefined;
  private lock: LockFile | undefined;

  constructor(
    readonly path: string,
    private readonly memoPath: string,
  ) {}

  get(): LockFile | undefined {
    if (!this.loaded) {
      this.loaded = true;
      try {
        this.text = readFileSync(this.path, 'utf8');
      } catch {
        this.text = undefined;
      }
      this.lock = this.text === undefined ? undefined : parseLock(this.text);
    }
    return this.lock;
  }

  /**
   * Records a successful run. `complete` means every node of the pipeline
   * was a target (so the new lock holds exactly `entries`), which is what
   * lets the memo vouch for an unchanged file without reading it.
   */
  update(profile: string, keep: (name: string) => boolean, entries: Map<string, () => LockEntry>, keys: Map<string, NodeKey>, complete: boolean): boolean {
    const keysDigest = (pairs: Array<[string, string]>): string =>
      sha256(profile + '\n' + pairs.map(([n, k]) => `${n}\u0000${k}`).sort().join('\n'));
    if (complete) {
      const digest = keysDigest([...keys].map(([n, k]) => [n, k]));
      const memo = this.readMemo();
      if (memo && memo.digest === digest && memo.stat === statSignature(this.path)) return false;
    }
    const previous = this.get();
    const next: LockFile = { version: 1, profile, nodes: {} };
    if (previous && previous.profile === profile) {
      for (const [name, entry] of Object.entries(previous.nodes)) if (keep(name)) next.nodes[name] = entry;
    }
    for (const [name, entry] of entries) next.nodes[name] = entry();
    const changed = writeLock(this.path, next, this.text);
    const digest = keysDigest(Object.entries(next.nodes).map(([n, e]) => [n, e.key]));
    writeFileAtomic(this.memoPath, JSON.stringify({ digest, stat: statSignature(this.path) }));
    return changed;
  }

  private readMemo(): { digest: string; stat: string } | undefined {
    try {
      return JSON.parse(readFileSync(this.memoPath, 'utf8')) as { digest: string; stat: string };
    } catch {
      return undefined;
    }
  }
}

function parseLock(text: string): LockFile | undefined {
  try {
    const lock = JSON.parse(text) as LockFile;
    if (lock && typeof lock === 'object' && lock.nodes && typeof lock.nodes === 'object') return lock;
  } catch {
    /* An unreadable lock is treated as absent: it only explains, it never decides. */
  }
  return undefined;
}

function statSignature(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? `${st.size}:${st.mtimeMs}:${st.ino}` : 'missing';
}
