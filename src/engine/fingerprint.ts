import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { hashJson, sha256 } from './hash.js';
import type { Digest } from './types.js';

/**
 * The identity of a stage's code: the module that runs it plus every local
 * module it imports, transitively. Package imports are not followed (their
 * versions belong in a stage's environment facts). We hash the JavaScript
 * that actually executes, so a type-only edit does not rerun a week of
 * training, and name each file by its TypeScript source so a user reads
 * "code changed: src/ml/train.ts".
 */
export interface CodeFingerprint {
  digest: Digest;
  /** display path -> SHA-256 of the executed file */
  files: Record<string, Digest>;
}

const IMPORT_PATTERNS = [
  /\bfrom\s*["'](\.{1,2}\/[^"'\n]+)["']/g,
  /\bimport\s*\(\s*["'](\.{1,2}\/[^"'\n]+)["']\s*\)/g,
  /\bimport\s*["'](\.{1,2}\/[^"'\n]+)["']/g,
];

export class Fingerprinter {
  private readonly fileDigests = new Map<string, { digest: Digest; imports: string[] }>();
  private readonly memo = new Map<string, CodeFingerprint>();

  constructor(
    private readonly projectRoot: string,
    private readonly buildDir: string,
  ) {}

  fingerprint(entryJsPath: string): CodeFingerprint {
    const cached = this.memo.get(entryJsPath);
    if (cached) return cached;
    const files: Record<string, Digest> = {};
    const seen = new Set<string>();
    const queue = [resolve(entryJsPath)];
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const info = this.scan(file);
      if (!info) continue;
      files[this.displayPath(file)] = info.digest;
      queue.push(...info.imports);
    }
    const sorted: Record<string, Digest> = {};
    for (const k of Object.keys(files).sort()) sorted[k] = files[k]!;
    const fp = { digest: hashJson(sorted), files: sorted };
    this.memo.set(entryJsPath, fp);
    return fp;
  }

  private scan(file: string): { digest: Digest; imports: string[] } | undefined {
    const known = this.fileDigests.get(file);
    if (known) return known;
    if (!existsSync(file)) return undefined;
    const text = readFileSync(file);
    // Comments are not code: an example import in a doc comment must not
    // become a dependency. Only comments that start a line are stripped, so
    // a string such as '*/' or 'dir/*.csv' can never swallow real code.
    const source = text
      .toString('utf8')
      .replace(/^[ \t]*\/\*[\s\S]*?\*\//gm, '')
      .replace(/^[ \t]*\/\/.*$/gm, '');
    const imports = new Set<string>();
    for (const pattern of IMPORT_PATTERNS) {
      for (const m of source.matchAll(pattern)) imports.add(resolve(dirname(file), m[1]!));
    }
    const info = { digest: sha256(text), imports: [...imports] };
    this.fileDigests.set(file, info);
    return info;
  }

  /** `dist/src/ml/train.js` -> `src/ml/train.ts` when that source exists. */
  displayPath(file: string): string {
    const rel = relative(this.projectRoot, file).split(sep).join('/');
    const buildRel = relative(this.projectRoot, this.buildDir).split(sep).join('/');
    if (buildRel && rel.startsWith(buildRel + '/')) {
      const inner = rel.slice(buildRel.length + 1);
      for (const [from, to] of [['.js', '.ts'], ['.mjs', '.mts'], ['.cjs', '.cts']] as const) {
        if (inner.endsWith(from)) {
          const candidate = inner.slice(0, -from.length) + to;
          if (existsSync(resolve(this.projectRoot, candidate))) return candidate;
        }
      }
    }
    return rel;
  }
}
