import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from './config-error.js';

export type KeyPath = ReadonlyArray<string | number>;

/**
 * pipeline.yaml kept as a YAML document with source positions, so that any
 * later check (schema, interpolation, params, cycles) can point at the line
 * and column of the offending key.
 */
export class PipelineFile {
  private constructor(
    readonly path: string,
    readonly displayPath: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  static load(path: string, displayPath = path): PipelineFile {
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
    return PipelineFile.parse(text, path, displayPath);
  }

  static parse(text: string, path: string, displayPath = path): PipelineFile {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const pos = lines.linePos(e.pos[0]);
      throw new ConfigError(
        `invalid YAML: ${e.message.split('\n')[0]}`,
        `${displayPath}:${pos.line}:${pos.col}`,
      );
    }
    return new PipelineFile(path, displayPath, doc, lines);
  }

  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 1000 });
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
    const { line, col } = this.lines.linePos(offset);
    return `${this.displayPath}:${line}:${col}:${label}`;
  }

  private offsetOf(path: KeyPath, key: boolean): number | undefined {
    for (let n = path.length; n >= 0; n--) {
      const prefix = path.slice(0, n);
      const offset = this.exactOffset(prefix, key && n === path.length);
      if (offset !== undefined) return offset;
    }
    return undefined;
  }

  private exactOffset(path: KeyPath, key: boolean): number | undefined {
    let node: unknown = this.doc.contents;
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
