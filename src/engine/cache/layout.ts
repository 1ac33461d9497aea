import { join } from 'node:path';
import type { Digest, NodeKey } from '../types.js';

/**
 * Every path inside `cache/`, in one place, so the layout is documented by
 * code:
 *
 *   objects/ab/cdef…        output file contents by SHA-256 (read-only)
 *   nodes/ab/<key>.json     node records; written last, so a record means "complete"
 *   views/<key>/…           a node's output directory as hard links to objects
 *   logs/<key>.log          the latest attempt's log
 *   specs/<key>.json        what `iwdl exec <key>` runs
 *   checkpoints/<key>/      a stage's resumable state until the node commits
 *   tmp/                    outputs being written; never read as results
 *   verified.json           stat memo: objects already hashed and unchanged since
 *   index.json              stat memo: record summaries, so a no-op run reads no records
 *   lock-memo.json          what pipeline.lock holds, so a no-op run need not read it
 *   artifacts-memo.json     which links artifacts/ holds, so a no-op run need not readlink them
 *   pipeline-memo.json      the last valid pipeline.yaml, parsed (keyed by its SHA-256)
 *   run.lock                held by the one run that may write here
 */
export class CacheLayout {
  constructor(readonly root: string) {}
  object(digest: Digest): string {
    return join(this.root, 'objects', digest.slice(0, 2), digest.slice(2));
  }
  record(key: NodeKey): string {
    return join(this.root, 'nodes', key.slice(0, 2), `${key}.json`);
  }
  view(key: NodeKey): string {
    return join(this.root, 'views', key);
  }
  log(key: NodeKey): string {
    return join(this.root, 'logs', `${key}.log`);
  }
  spec(key: NodeKey): string {
    return join(this.root, 'specs', `${key}.json`);
  }
  checkpoint(key: NodeKey): string {
    return join(this.root, 'checkpoints', key);
  }
  get tmp(): string {
    return join(this.root, 'tmp');
  }
  get memo(): string {
    return join(this.root, 'verified.json');
  }
  get index(): string {
    return join(this.root, 'index.json');
  }
  get artifactsMemo(): string {
    return join(this.root, 'artifacts-memo.json');
  }
  get lockMemo(): string {
    return join(this.root, 'lock-memo.json');
  }
  get runLock(): string {
    return join(this.root, 'run.lock');
  }
}
