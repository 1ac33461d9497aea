import { ConfigError } from './config-error.js';
import { yaml } from './pipeline-file.js';

/** One `--set path=value` from the command line, value parsed as YAML (so `3`, `true`, `[1, 2]` keep their types). */
export interface Override {
  raw: string;
  path: string[];
  value: unknown;
}

export function parseOverride(raw: string): Override {
  const eq = raw.indexOf('=');
  if (eq <= 0) {
    throw new ConfigError(`expected path=value, e.g. --set epochs=3 or --set train.lr=0.05`, `--set ${raw}`);
  }
  const pathText = raw.slice(0, eq).trim();
  const valueText = raw.slice(eq + 1);
  if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/.test(pathText)) {
    throw new ConfigError(`'${pathText}' is not a dotted path of names`, `--set ${raw}`);
  }
  let value: unknown;
  try {
    value = valueText.trim() === '' ? '' : yaml().parse(valueText);
  } catch (err) {
    throw new ConfigError(`value is not valid YAML: ${(err as Error).message.split('\n')[0]}`, `--set ${raw}`);
  }
  return { raw, path: pathText.split('.'), value };
}

/** Sets `path` inside `target`, creating intermediate mappings; returns false if a scalar is in the way. */
export function setPath(target: Record<string, unknown>, path: string[], value: unknown): boolean {
  let node: Record<string, unknown> = target;
  for (const seg of path.slice(0, -1)) {
    const next = node[seg];
    if (next === undefined) {
      node[seg] = {};
    } else if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      return false;
    }
    node = node[seg] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
  return true;
}

export function hasPath(target: unknown, path: string[]): boolean {
  let node = target;
  for (const seg of path) {
    if (!node || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, seg)) return false;
    node = (node as Record<string, unknown>)[seg];
  }
  return true;
}

/** Deep merge for profiles: mappings merge key by key, anything else replaces. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
    return out;
  }
  return over;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
