import type { KeyPath } from './pipeline-file.js';

/**
 * DVC-style `${name.path}` interpolation. A string that is exactly one
 * reference keeps the referenced value's type (so `matrix: {w: ${weights}}`
 * yields a list); references embedded in text must be scalars. `$${` writes
 * a literal `${`.
 */

export type Scope = Record<string, unknown>;

export class InterpolationError extends Error {
  constructor(
    message: string,
    readonly path: KeyPath,
  ) {
    super(message);
  }
}

const WHOLE = /^\$\{\s*([^{}]+?)\s*\}$/;
const ANY = /\$\$\{|\$\{\s*([^{}]*?)\s*\}/g;

export function interpolate(value: unknown, scope: Scope, path: KeyPath = []): unknown {
  return walk(value, scope, { base: path });
}

/** A path built only when an error needs it: expansion runs for every node on every invocation. */
interface LazyPath {
  base?: KeyPath;
  up?: LazyPath;
  seg?: string | number;
}

function materialize(p: LazyPath): KeyPath {
  const segs: Array<string | number> = [];
  let cur: LazyPath | undefined = p;
  while (cur && cur.base === undefined) {
    segs.unshift(cur.seg!);
    cur = cur.up;
  }
  return [...(cur?.base ?? []), ...segs];
}

function walk(value: unknown, scope: Scope, path: LazyPath): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    try {
      return interpolateString(value, scope);
    } catch (err) {
      if (err instanceof InterpolationError) throw new InterpolationError(err.message, materialize(path));
      throw err;
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => walk(v, scope, { up: path, seg: i }));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k in value) out[k] = walk((value as Record<string, unknown>)[k], scope, { up: path, seg: k });
    return out;
  }
  return value;
}

function interpolateString(text: string, scope: Scope, path: KeyPath = []): unknown {
  const whole = WHOLE.exec(text);
  if (whole) return lookup(whole[1]!, scope, path);
  if (!text.includes('${')) return text;
  return text.replace(ANY, (match, expr: string | undefined) => {
    if (match === '$${') return '${';
    const value = lookup(expr ?? '', scope, path);
    if (value !== null && typeof value === 'object') {
      throw new InterpolationError(
        `\${${expr}} is a ${Array.isArray(value) ? 'list' : 'mapping'} and cannot be embedded in the text "${text}"; use it as the whole value instead`,
        path,
      );
    }
    return String(value);
  });
}

const parsedExpressions = new Map<string, string[]>();

function lookup(expr: string, scope: Scope, path: KeyPath): unknown {
  let parts = parsedExpressions.get(expr);
  if (!parts) {
    if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/.test(expr)) {
      throw new InterpolationError(`\${${expr}} is not a variable reference (expected \${name} or \${name.field})`, path);
    }
    parts = expr.split('.');
    parsedExpressions.set(expr, parts);
  }
  let current: unknown = scope;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const holder = current as Record<string, unknown> | unknown[] | null;
    const has =
      holder !== null &&
      typeof holder === 'object' &&
      (Array.isArray(holder) ? /^\d+$/.test(part) && Number(part) < holder.length : Object.hasOwn(holder, part));
    if (!has) {
      const prefix = parts.slice(0, i).join('.');
      const available =
        holder && typeof holder === 'object' && !Array.isArray(holder) ? Object.keys(holder).sort() : [];
      const what = i === 0 ? `variable '${part}'` : `'${part}' in \${${prefix}}`;
      const hint = available.length ? ` (defined: ${available.join(', ')})` : '';
      throw new InterpolationError(`\${${expr}}: undefined ${what}${hint}`, path);
    }
    current = Array.isArray(holder) ? holder[Number(part)] : (holder as Record<string, unknown>)[part];
  }
  return current;
}
