import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from './cache/local-cache.js';
import type { NodeSummary } from './cache/cache.js';
import type { NodeName } from './types.js';

/**
 * `publish: <dir>` on a stage copies its nodes' outputs to a project
 * directory that people open directly (reports/index.html), which the
 * content-addressed cache and the artifacts/ links are not. Copies, not
 * links: a reader may edit or move them without touching the cache. A
 * manifest of what was published removes files a later run no longer
 * produces and lets a no-op run skip the copy.
 */
const MANIFEST = '.iwdl-published.json';

interface Manifest {
  files: Record<string, { digest: string; node: string }>;
}

export function publish(root: string, dir: string, nodes: Array<{ node: NodeName; summary: NodeSummary; viewDir: string }>): number {
  const target = join(root, dir);
  const wanted: Manifest['files'] = {};
  for (const { node, summary } of nodes) {
    for (const [rel, file] of Object.entries(summary.outputs.files)) {
      const other = wanted[rel];
      if (other && other.digest !== file.digest) {
        throw new Error(`publish ${dir}: ${node} and ${other.node} both produce ${rel}; give them different output paths`);
      }
      wanted[rel] = { digest: file.digest, node };
    }
  }
  let previous: Manifest = { files: {} };
  try {
    previous = JSON.parse(readFileSync(join(target, MANIFEST), 'utf8')) as Manifest;
  } catch {
    /* first publish */
  }
  let copied = 0;
  for (const { node, summary, viewDir } of nodes) {
    for (const [rel, file] of Object.entries(summary.outputs.files)) {
      if (wanted[rel]!.node !== node) continue;
      const dest = join(target, rel);
      const st = statSync(dest, { throwIfNoEntry: false });
      if (previous.files[rel]?.digest === file.digest && st && st.size === file.size) continue;
      mkdirSync(dirname(dest), { recursive: true });
      const tmp = `${dest}.tmp-${process.pid}`;
      copyFileSync(join(viewDir, rel), tmp);
      renameSync(tmp, dest);
      copied++;
    }
  }
  for (const rel of Object.keys(previous.files)) {
    if (!(rel in wanted)) rmSync(join(target, rel), { force: true });
  }
  mkdirSync(target, { recursive: true });
  writeFileAtomic(join(target, MANIFEST), JSON.stringify({ files: wanted } satisfies Manifest, null, 1) + '\n');
  return copied;
}
