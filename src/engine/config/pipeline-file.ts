import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Document, LineCounter } from 'yaml';
import { sha256 } from '../hash.js';
import { writeFileAtomic } from '../cache/local-cache.js';
import { ConfigError } from './config-error.js';

export type KeyPath = ReadonlyArray<string | number>;

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;

/** `yaml` loads on demand: a no-op run whose pipeline.yaml is unchanged never needs it. */
export function yaml(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}

interface ParseMemo {
  digest: string;
  value: unknown;
}

/**
 * pipeline.yaml kept as a YAML document with source positions, so that any
 * later check (schema, interpolation, params, cycles) can point at the line
 * and column of the offending key.
 *
 * Parsing YAML is a large share of a no-op run, so the parsed value of the
 * last valid file is memoized (as JSON, keyed by the file's SHA-256); the
 * document with positions is then built only if an error must be located.
 */
export class PipelineFile {
  private doc: Document | undefined;
  private lines: LineCounter | undefined;
  private value: unknown;
  private fromMemo: boolean;

  private constructor(
    readonly path: string,
    readonly displayPath: string,
    readonly text: string,
    readonly digest: string,
    value: unknown,
    private readonly memoPath: string | undefined,
    fromMemo: boolean,
  ) {
    this.value = value;
    this.fromMemo = fromMemo;
  }

  static load(path: string, displayPath = path, memoPath?: string): PipelineFile {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(
        code === 'ENOENT'
          ? `no pipeline file here; create ${displayPath} or pass --file <path>`
          : `cannot read the pipeline file: ${(err as Error).message}`,
        displayPath,
      );
    }
    return new PipelineFile(path, displayPath, text, sha256(text), undefined, memoPath, false);
  }

  static parse(text: string, path: string, displayPath = path): PipelineFile {
    const file = new PipelineFile(path, displayPath, text, sha256(text), undefined, undefined, false);
    file.document();
    return file;
  }

  private document(): Document {
    if (this.doc) return this.doc;
    const { LineCounter, parseDocument } = yaml();
    const lines = new LineCounter();
    const doc = parseDocument(this.text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const pos = lines.linePos(e.pos[0]);
      throw new ConfigError(`invalid YAML: ${e.message.split('\n')[0]}`, `${this.displayPath}:${pos.line}:${pos.col}`);
    }
    this.doc = doc;
    this.lines = lines;
    if (this.value === undefined) this.value = doc.toJS({ maxAliasCount: 1000 });
    return doc;
  }

  /** The parsed file (a YAML syntax error throws here). Callers may not mutate it: it is shared with the memo. */
  toJS(): unknown {
    if (this.value === undefined && this.memoPath) {
      try {
        const memo = JSON.parse(readFileSync(this.memoPath, 'utf8')) as ParseMemo;
        if (memo.digest === this.digest) {
          this.value = memo.value;
          this.fromMemo = true;
        }
      } catch {
        /* no memo yet */
      }
    }
    if (this.value === undefined) this.document();
    return this.value;
  }

  /** Saves the parsed value for the next invocation; call once the file is known to be valid. */
  memoize(): void {
    if (this.memoPath && !this.fromMemo && this.value !== undefined) {
      writeFileAtomic(this.memoPath, JSON.stringify({ digest: this.digest, value: this.value } satisfies ParseMemo));
    }
  }

  /**
   * `file:line:col` of the node at `path`; with `key`, of the mapping key
   * rather than its value. Falls back to the nearest ancestor that exists,
   * since an error about a missing key is best shown at its parent.
   */
  where(path: KeyPath, opts: { key?: boolean } = {}): string {
    const offset = this.offsetOf(path, opts.key ?? false);
    const label = path.length > 0 ? ` ${formatPath(path)}` : '';
    if (offset === undefined) return `${this.displayPath}:${label}`.replace(/: $/, '');
    const { line, col } = this.lines!.linePos(offset);
    return `${this.displayPath}:${line}:${col}:${label}`;
  }

  private offsetOf(path: KeyPath, key: boolean): number | undefined {
    this.document();
    for (let n = path.length; n >= 0; n--) {
      const prefix = path.slice(0, n);
      const offset = this.exactOffset(prefix, key && n === path.length);
      if (offset !== undefined) return offset;
    }
    return undefined;
  }

  private exactOffset(path: KeyPath, key: boolean): number | undefined {
    const { isMap, isScalar, isSeq } = yaml();
    let node: unknown = this.document().contents;
    let keyNode: unknown;
    for (const seg of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
        if (!pair) return undefined;
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        if (node === undefined) return undefined;
      } else {
        return undefined;
      }
    }
    const target = (key && keyNode ? keyNode : node) as { range?: [number, number, number] } | null;
    return target?.range?.[0];
  }
}

export function formatPath(path: KeyPath): string {
  return path
    .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`))
    .join('');
}
