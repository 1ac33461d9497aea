import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { hashFile, hashJson } from '../hash.js';
import type { Digest, NodeKey, OutputManifest } from '../types.js';
import type { Cache, NodeRecord, NodeSummary, Verification } from './cache.js';
import { CacheLayout } from './layout.js';

/** A `Cache` in a local (or shared) directory. Safe against kill -9 at any instant: the record is renamed into place last. */
export class LocalCache implements Cache {
  readonly layout: CacheLayout;
  private memo: Record<string, string> | undefined;
  private memoDirty = false;
  private index: Record<string, IndexEntry> | undefined;
  private indexDirty = false;
  /** Stat signatures learned by commits since the last takeLearned(). */
  private learned: Record<string, string> = {};

  constructor(readonly root: string) {
    this.layout = new CacheLayout(root);
  }

  readRecord(key: NodeKey): NodeRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.layout.record(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const record = JSON.parse(text) as NodeRecord;
      if (record.key !== key || !record.outputs?.files) return undefined;
      return record;
    } catch {
      return undefined;
    }
  }

  summary(key: NodeKey): NodeSummary | undefined {
    const st = statSync(this.layout.record(key), { throwIfNoEntry: false });
    if (!st) return undefined;
    const sig = `${st.size}:${st.mtimeMs}:${st.ino}`;
    const index = this.loadIndex();
    const known = index[key];
    if (known && known.sig === sig) return { key, outputs: { digest: known.digest, files: known.files }, durationMs: known.ms };
    const record = this.readRecord(key);
    if (!record) return undefined;
    index[key] = { sig, digest: record.outputs.digest, files: record.outputs.files, ms: record.durationMs };
    this.indexDirty = true;
    return record;
  }

  verify(record: NodeSummary, options: { repair: boolean }): Verification {
    const memo = this.loadMemo();
    const view = this.layout.view(record.key);
    for (const [rel, file] of Object.entries(record.outputs.files)) {
      const objectPath = this.layout.object(file.digest);
      const st = statSync(objectPath, { throwIfNoEntry: false });
      if (!st) return { ok: false, reason: 'missing', file: rel, detail: `object ${objectPath} is missing` };
      if (st.size !== file.size) {
        return { ok: false, reason: 'corrupted', file: rel, detail: `size is ${st.size} bytes, expected ${file.size}` };
      }
      const signature = `${st.size}:${st.mtimeMs}:${st.ino}`;
      if (memo[file.digest] !== signature) {
        const actual = hashFileSync(objectPath);
        if (actual !== file.digest) {
          return { ok: false, reason: 'corrupted', file: rel, detail: `content hashes to ${actual.slice(0, 12)}…, expected ${file.digest.slice(0, 12)}…` };
        }
        if (options.repair) {
          memo[file.digest] = signature;
          this.memoDirty = true;
        }
      }
      if (!options.repair) continue;
      // The view is derived data: repair it quietly if it drifted from the object.
      const viewPath = join(view, rel);
      const vst = statSync(viewPath, { throwIfNoEntry: false });
      if (!vst || vst.ino !== st.ino) {
        mkdirSync(dirname(viewPath), { recursive: true });
        rmSync(viewPath, { force: true });
        linkOrCopy(objectPath, viewPath);
      }
    }
    return { ok: true };
  }

  /** Removes a node's record and view. Objects stay: other nodes may share them, and `gc` reclaims the rest. */
  evict(key: NodeKey): void {
    const index = this.loadIndex();
    if (index[key]) {
      delete index[key];
      this.indexDirty = true;
    }
    rmSync(this.layout.record(key), { force: true });
    rmSync(this.layout.view(key), { recursive: true, force: true });
  }

  /** Deletes one object whose bytes are known to be wrong, so no node can be served from it. */
  dropObject(digest: Digest): void {
    rmSync(this.layout.object(digest), { force: true });
    const memo = this.loadMemo();
    if (memo[digest]) {
      delete memo[digest];
      this.memoDirty = true;
    }
  }

  viewDir(key: NodeKey): string {
    return this.layout.view(key);
  }

  async commit(outDir: string, partial: Omit<NodeRecord, 'outputs'>): Promise<NodeRecord> {
    const files = listFiles(outDir);
    const manifest: OutputManifest = {};
    const memo = this.loadMemo();
    for (const rel of files) {
      const src = join(outDir, rel);
      const { digest, size } = await hashFile(src, statSync(src).size);
      manifest[rel] = { digest, size };
      const objectPath = this.layout.object(digest);
      const existing = statSync(objectPath, { throwIfNoEntry: false });
      if (existing && existing.size === size) {
        unlinkSync(src);
        continue;
      }
      ensureDir(dirname(objectPath));
      chmodSync(src, 0o444);
      renameSync(src, objectPath);
      const st = statSync(objectPath);
      memo[digest] = `${st.size}:${st.mtimeMs}:${st.ino}`;
      this.learned[digest] = memo[digest]!;
      this.memoDirty = true;
    }
    const sortedManifest: OutputManifest = {};
    for (const rel of Object.keys(manifest).sort()) sortedManifest[rel] = manifest[rel]!;

    const view = this.layout.view(partial.key);
    const viewTmp = `${view}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    mkdirSync(viewTmp, { recursive: true });
    const made = new Set<string>([viewTmp]);
    for (const [rel, file] of Object.entries(sortedManifest)) {
      const target = join(viewTmp, rel);
      const parent = dirname(target);
      if (!made.has(parent)) {
        mkdirSync(parent, { recursive: true });
        made.add(parent);
      }
      linkOrCopy(this.layout.object(file.digest), target);
    }
    if (existsSync(view)) rmSync(view, { recursive: true, force: true });
    renameSync(viewTmp, view);

    const record: NodeRecord = {
      ...partial,
      outputs: { digest: hashJson(sortedManifest), files: sortedManifest },
    };
    writeFileAtomic(this.layout.record(partial.key), JSON.stringify(record) + '\n');
    return record;
  }

  /**
   * Makes `record` (committed in `from`) available here by linking its
   * objects: how an audit's scratch cache trusts upstream results without
   * touching the cache they come from.
   */
  importRecord(from: LocalCache, record: NodeRecord): void {
    for (const file of Object.values(record.outputs.files)) {
      const target = this.layout.object(file.digest);
      if (existsSync(target)) continue;
      mkdirSync(dirname(target), { recursive: true });
      linkOrCopy(from.layout.object(file.digest), target);
    }
    const view = this.layout.view(record.key);
    rmSync(view, { recursive: true, force: true });
    for (const [rel, file] of Object.entries(record.outputs.files)) {
      const target = join(view, rel);
      mkdirSync(dirname(target), { recursive: true });
      linkOrCopy(this.layout.object(file.digest), target);
    }
    mkdirSync(view, { recursive: true });
    writeFileAtomic(this.layout.record(record.key), JSON.stringify(record) + '\n');
  }

  /** Full check of one object, ignoring the stat memo (audits). */
  objectMatches(digest: Digest): 'ok' | 'missing' | 'corrupted' {
    const path = this.layout.object(digest);
    if (!existsSync(path)) return 'missing';
    return hashFileSync(path) === digest ? 'ok' : 'corrupted';
  }

  /** What commits in this process verified, for the process that owns the memo file. */
  takeLearned(): Record<string, string> {
    const out = this.learned;
    this.learned = {};
    return out;
  }

  remember(entries: Record<string, string> | undefined): void {
    if (!entries) return;
    const memo = this.loadMemo();
    for (const [digest, sig] of Object.entries(entries)) memo[digest] = sig;
    this.memoDirty = true;
  }

  flush(): void {
    if (this.memo && this.memoDirty) {
      writeFileAtomic(this.layout.memo, JSON.stringify(this.memo));
      this.memoDirty = false;
    }
    if (this.index && this.indexDirty) {
      writeFileAtomic(this.layout.index, JSON.stringify(this.index));
      this.indexDirty = false;
    }
  }

  private loadIndex(): Record<string, IndexEntry> {
    if (!this.index) {
      try {
        this.index = JSON.parse(readFileSync(this.layout.index, 'utf8')) as Record<string, IndexEntry>;
      } catch {
        this.index = {};
      }
    }
    return this.index;
  }

  private loadMemo(): Record<string, string> {
    if (!this.memo) {
      try {
        this.memo = JSON.parse(readFileSync(this.layout.memo, 'utf8')) as Record<string, string>;
      } catch {
        this.memo = {};
      }
    }
    return this.memo;
  }
}

/** A record's summary as memoized in index.json, with the record file's stat signature that vouches for it. */
interface IndexEntry {
  sig: string;
  digest: Digest;
  files: OutputManifest;
  ms: number;
}

/** Files under `dir`, relative, POSIX separators, sorted. A symlink is an error: outputs must be real bytes. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const full = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    const rel = relative(dir, full).split(sep).join('/');
    if (entry.isSymbolicLink()) {
      throw new Error(`output ${rel} is a symbolic link; stages must write regular files`);
    }
    if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

const madeDirs = new Set<string>();

/** mkdir -p, remembered per process: directories under cache/ are never removed while a run holds it. */
export function ensureDir(dir: string): void {
  if (madeDirs.has(dir)) return;
  mkdirSync(dir, { recursive: true });
  madeDirs.add(dir);
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  ensureDir(dirname(path));
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK' || code === 'ENOTSUP') copyFileSync(from, to);
    else throw err;
  }
}

function hashFileSync(path: string): Digest {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n: number;
    while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex') as Digest;
}
