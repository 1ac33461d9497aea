import type { Digest, JsonObject, NodeKey, NodeName, OutputManifest } from '../types.js';

/** The part of a record that planning needs: what a node produced, to key its dependents and verify its objects. */
export interface NodeSummary {
  key: NodeKey;
  outputs: { digest: Digest; files: OutputManifest };
  durationMs: number;
}

/** What the cache knows about one finished node: enough to explain, verify and reuse it. */
export interface NodeRecord extends NodeSummary {
  node: NodeName;
  stage: string;
  item: JsonObject;
  params: JsonObject;
  /** display path -> digest, from the code fingerprint */
  code: Record<string, Digest>;
  inputs: Record<string, InputDigest[]>;
  env: Record<string, string>;
  startedAt: string;
  host: string;
  /** Where it ran, to explain a difference found by an audit. Not part of the key. */
  machine?: MachineInfo;
  /**
   * Peak resident memory (MiB) of the process that ran the node, measured
   * when it finished. A pool worker is reused and its high-water mark never
   * falls (wasm memory only grows), so this is the worker's peak so far:
   * exactly what must fit in a machine or a Slurm `mem` request.
   */
  peakRssMb?: number;
}

export interface MachineInfo {
  node: string;
  os: string;
  arch: string;
  cpu: string;
  cores: number;
}

export interface InputDigest {
  node: NodeName;
  digest: Digest;
}

export type Verification =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'corrupted'; file: string; detail: string };

/**
 * The content-addressed store behind the engine. The local directory
 * implementation is the only one today; a shared-filesystem cluster uses the
 * same one, and a remote cache would be another implementation of this.
 */
export interface Cache {
  readonly root: string;
  readRecord(key: NodeKey): NodeRecord | undefined;
  /** The record's summary, from a stat-validated memo when the record file is unchanged (a no-op run reads no records). */
  summary(key: NodeKey): NodeSummary | undefined;
  /**
   * Checks every output object of `record` (size, then digest unless a stat
   * memo vouches for it). With `repair`, also relinks a drifted view; without,
   * it writes nothing (dry runs).
   */
  verify(record: NodeSummary, options: { repair: boolean }): Verification;
  /** Forget a node whose outputs are damaged so it runs again. */
  evict(key: NodeKey): void;
  /** Directory where `record`'s outputs can be read (hard links to the objects). */
  viewDir(key: NodeKey): string;
  /** Moves a finished node's output directory into the store and writes its record last. */
  commit(outDir: string, record: Omit<NodeRecord, 'outputs'>): Promise<NodeRecord>;
  /** Persist memos and similar bookkeeping. */
  flush(): void;
}
