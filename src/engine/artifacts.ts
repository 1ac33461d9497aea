import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { writeFileAtomic } from './cache/local-cache.js';
import { sha256 } from './hash.js';
import type { NodeName } from './types.js';

/**
 * `artifacts/<stage>/<node>/`: a readable view of the current outputs, as
 * symbolic links into the cache's views. Never the only copy of anything,
 * so it can be deleted at any time and is rebuilt by the next run.
 */
export class ArtifactsView {
  /** Relative path from artifacts/<stage>/ to a target's parent, per stage: path.relative is too slow to call per node. */
  private readonly relPrefix = new Map<string, string>();
  private readonly madeDirs = new Set<string>();

  constructor(readonly root: string) {}

  pathFor(node: NodeName): string {
    const at = node.indexOf('@');
    const stage = at < 0 ? node : node.slice(0, at);
    const leaf = at < 0 ? node : node.slice(at + 1);
    return join(this.root, stage, leaf);
  }

  /** Points the node's entry at `target` (a directory), replacing whatever link was there. */
  link(node: NodeName, target: string): void {
    const path = this.pathFor(node);
    const parent = dirname(path);
    const targetParent = dirname(target);
    const memoKey = `${parent}\u0000${targetParent}`;
    let prefix = this.relPrefix.get(memoKey);
    if (prefix === undefined) {
      prefix = relative(parent, targetParent);
      this.relPrefix.set(memoKey, prefix);
    }
    const rel = prefix ? `${prefix}/${basename(target)}` : basename(target);
    let existing: string | undefined;
    try {
      existing = readlinkSync(path);
      if (existing === rel) return;
    } catch {
      /* missing or not a link */
    }
    if (!this.madeDirs.has(parent)) {
      mkdirSync(parent, { recursive: true });
      this.madeDirs.add(parent);
    }
    if (existing === undefined) {
      // Nothing there yet (the common case in a cold run): link in place.
      try {
        symlinkSync(rel, path, 'dir');
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      unlinkSync(tmp);
    } catch {
      /* not there */
    }
    symlinkSync(rel, tmp, 'dir');
    try {
      renameSync(tmp, path);
    } catch (err) {
      unlinkSync(tmp);
      throw new Error(`cannot update ${path}: ${(err as Error).message} (is it a real directory? artifacts/ holds only links; move it away)`);
    }
  }

  /**
   * Links many nodes, unless a memo shows that this exact (node -> target)
   * set was linked before and no stage directory changed since (replacing or
   * deleting a link always changes its directory's mtime): a no-op run then
   * costs one stat per stage instead of one readlink per node.
   */
  syncMany(links: Array<[NodeName, string]>, memoPath: string): void {
    const digest = sha256(links.map(([n, t]) => `${n}\u0000${t}`).join('\n'));
    const stageDirs = [...new Set(links.map(([n]) => dirname(this.pathFor(n))))].sort();
    try {
      const memo = JSON.parse(readFileSync(memoPath, 'utf8')) as { digest: string; dirs: Record<string, number> };
      if (
        memo.digest === digest &&
        Object.keys(memo.dirs).length === stageDirs.length &&
        stageDirs.every((d) => statSync(d, { throwIfNoEntry: false })?.mtimeMs === memo.dirs[d])
      ) {
        return;
      }
    } catch {
      /* no memo */
    }
    for (const [node, target] of links) this.link(node, target);
    const dirs: Record<string, number> = {};
    for (const d of stageDirs) dirs[d] = statSync(d).mtimeMs;
    writeFileAtomic(memoPath, JSON.stringify({ digest, dirs }));
  }

  /** Removes links of nodes that are no longer in the pipeline. Real files a user put here are left alone. */
  prune(keep: Set<NodeName>): number {
    const keepPaths = new Set([...keep].map((n) => this.pathFor(n)));
    let removed = 0;
    let stages: string[];
    try {
      stages = readdirSync(this.root);
    } catch {
      return 0;
    }
    for (const stage of stages) {
      const dir = join(this.root, stage);
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        continue;
      }
      for (const entry of entries) {
        const path = join(dir, entry);
        if (keepPaths.has(path)) continue;
        if (lstatSync(path).isSymbolicLink()) {
          unlinkSync(path);
          removed++;
        }
      }
      try {
        rmdirSync(dir);
      } catch {
        /* not empty */
      }
    }
    return removed;
  }
}
