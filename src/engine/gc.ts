import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeRecord } from './cache/cache.js';
import type { LocalCache } from './cache/local-cache.js';
import type { NodeKey } from './types.js';

export interface GcResult {
  records: number;
  objects: number;
  bytes: number;
}

/**
 * Deletes every node record not in `keep`, with its view, log, spec and
 * checkpoint, then every object no kept record references. Callers pass the
 * keys of pipeline.lock and of the current plan's cached nodes, so results
 * of other profiles or older code are what goes.
 */
export function collectGarbage(cache: LocalCache, keep: Set<NodeKey>, dryRun: boolean): GcResult {
  const { layout } = cache;
  const result: GcResult = { records: 0, objects: 0, bytes: 0 };
  const referenced = new Set<string>();
  const nodesDir = join(layout.root, 'nodes');
  for (const shard of list(nodesDir)) {
    for (const file of list(join(nodesDir, shard))) {
      if (!file.endsWith('.json')) continue;
      const key = file.slice(0, -5) as NodeKey;
      if (keep.has(key)) {
        try {
          const record = JSON.parse(readFileSync(join(nodesDir, shard, file), 'utf8')) as NodeRecord;
          for (const f of Object.values(record.outputs.files)) referenced.add(f.digest);
        } catch {
          /* an unreadable record keeps nothing alive */
        }
        continue;
      }
      result.records++;
      if (!dryRun) {
        rmSync(join(nodesDir, shard, file), { force: true });
        rmSync(layout.view(key), { recursive: true, force: true });
        rmSync(layout.log(key), { force: true });
        rmSync(layout.spec(key), { force: true });
        rmSync(layout.checkpoint(key), { recursive: true, force: true });
      }
    }
  }
  const objectsDir = join(layout.root, 'objects');
  for (const shard of list(objectsDir)) {
    for (const rest of list(join(objectsDir, shard))) {
      if (referenced.has(shard + rest)) continue;
      const path = join(objectsDir, shard, rest);
      result.objects++;
      result.bytes += statSync(path, { throwIfNoEntry: false })?.size ?? 0;
      if (!dryRun) rmSync(path, { force: true });
    }
  }
  if (!dryRun) {
    // Memos may name deleted records and objects; they rebuild themselves.
    rmSync(layout.index, { force: true });
    // Views of records that no longer exist (left by an interrupted commit).
    for (const entry of list(join(layout.root, 'views'))) {
      const key = entry.split('.')[0] as NodeKey;
      if (entry.includes('.tmp-') || !keep.has(key)) rmSync(join(layout.root, 'views', entry), { recursive: true, force: true });
    }
  }
  return result;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
