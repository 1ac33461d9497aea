import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import type { Digest, JsonValue } from './types.js';

/**
 * Canonical JSON: object keys sorted, no whitespace. Two equal values always
 * serialize to the same bytes, which is what makes a hash of them a key.
 * Values JSON cannot represent faithfully are rejected rather than silently
 * changed (JSON.stringify turns NaN into null, drops undefined).
 */
export function canonicalJson(value: unknown): string {
  try {
    return serialize(value);
  } catch (err) {
    if (err instanceof NotJson) throw new Error(`cannot hash ${findBadPath(value, '$') ?? '$'}: ${err.message}`);
    throw err;
  }
}

class NotJson extends Error {}

// Hot path (every node key on every run): no per-value path strings; the
// path is recomputed only when a value is refused.
function serialize(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new NotJson(`${value} is not a finite number`);
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + serialize(value[i]);
        return out + ']';
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        out += (first ? '' : ',') + JSON.stringify(k) + ':' + serialize(v);
        first = false;
      }
      return out + '}';
    }
    default:
      throw new NotJson(`values of type ${typeof value} are not JSON`);
  }
}

function findBadPath(value: unknown, path: string): string | undefined {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (typeof value !== 'object') return path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findBadPath(value[i], `${path}[${i}]`);
      if (bad) return bad;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const bad = findBadPath(v, `${path}.${k}`);
    if (bad) return bad;
  }
  return undefined;
}

export function sha256(data: string | Uint8Array): Digest {
  return createHash('sha256').update(data).digest('hex') as Digest;
}

export function hashJson(value: JsonValue | object): Digest {
  return sha256(canonicalJson(value));
}

/** Streams a file through SHA-256 so multi-gigabyte outputs never sit in memory. */
export async function hashFile(path: string, knownSize?: number): Promise<{ digest: Digest; size: number }> {
  // Small files (most metrics, every trivial output) are cheaper read at once than streamed.
  if (knownSize !== undefined && knownSize <= 1 << 22) {
    const data = readFileSync(path);
    return { digest: createHash('sha256').update(data).digest('hex') as Digest, size: data.length };
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: hash.digest('hex') as Digest, size };
}

/** Stable JSON for files people read and diff: sorted keys, two-space indent. */
export function prettyStableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}
