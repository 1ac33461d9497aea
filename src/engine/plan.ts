import type { InputDigest, NodeSummary } from './cache/cache.js';
import { canonicalJson, sha256 } from './hash.js';
import type { LockEntry } from './lockfile.js';
import type { PreparedNode } from './project.js';
import type { JsonObject, JsonValue, NodeKey, NodeName } from './types.js';

/** Bumped when the meaning of a key changes, so old cache entries are not reused. */
const KEY_FORMAT = 1;

/**
 * A node's key: everything that can change its outputs. Inputs enter by
 * their *output* digests, not their keys, so an upstream rerun that yields
 * identical bytes does not invalidate anything downstream.
 */
export function nodeKey(node: PreparedNode, inputs: Record<string, InputDigest[]>): NodeKey {
  // Canonical JSON of {format, module, code, params, inputs, env}, assembled
  // by hand: this runs for every node on every invocation.
  let inputsJson = '{';
  let first = true;
  for (const name of Object.keys(inputs).sort()) {
    inputsJson += (first ? '' : ',') + JSON.stringify(name) + ':[' + inputs[name]!.map((i) => `"${i.digest}"`).join(',') + ']';
    first = false;
  }
  inputsJson += '}';
  return sha256(
    `{"code":"${node.code.digest}","env":${canonicalJson(node.env)},"format":${KEY_FORMAT},"inputs":${inputsJson},"module":${JSON.stringify(node.def.module)},"params":${canonicalJson(node.params)}}`,
  ) as unknown as NodeKey;
}

export function inputDigests(node: PreparedNode, recordOf: (name: NodeName) => NodeSummary | undefined): Record<string, InputDigest[]> | undefined {
  const out: Record<string, InputDigest[]> = {};
  for (const [name, ups] of Object.entries(node.def.needs)) {
    const list: InputDigest[] = [];
    for (const up of ups) {
      const record = recordOf(up);
      if (!record) return undefined;
      list.push({ node: up, digest: record.outputs.digest });
    }
    out[name] = list;
  }
  return out;
}

/**
 * Why a node must run, in the user's terms, found by comparing what it is now
 * with what pipeline.lock says it was. `inputs` is undefined while upstream
 * nodes have yet to run.
 */
export function staleReasons(
  node: PreparedNode,
  entry: LockEntry | undefined,
  inputs: Record<string, InputDigest[]> | undefined,
): string[] {
  if (!entry) return ['new: not in pipeline.lock'];
  const reasons: string[] = [];
  const params = diffValues(entry.params, node.params);
  if (params.length) reasons.push(`params changed: ${params.join(', ')}`);
  const code = diffCode(entry.code, node.code.files);
  if (code.length) reasons.push(`code changed: ${code.join(', ')}`);
  const env = diffValues(entry.env as JsonObject, node.env as JsonObject);
  if (env.length) reasons.push(`environment changed: ${env.join(', ')}`);
  if (inputs) {
    const changed: string[] = [];
    const names = new Set([...Object.keys(entry.inputs ?? {}), ...Object.keys(inputs)]);
    for (const name of [...names].sort()) {
      const before = (entry.inputs?.[name] ?? []).map((i) => `${i.node}=${i.digest}`).join(',');
      const now = (inputs[name] ?? []).map((i) => `${i.node}=${i.digest}`).join(',');
      if (before !== now) {
        const nodes = [...new Set([...(inputs[name] ?? []), ...(entry.inputs?.[name] ?? [])].map((i) => i.node))];
        const changedNodes = nodes.filter((n) => {
          const a = entry.inputs?.[name]?.find((i) => i.node === n)?.digest;
          const b = inputs[name]?.find((i) => i.node === n)?.digest;
          return a !== b;
        });
        changed.push(`${name} (${summarize(changedNodes)})`);
      }
    }
    if (changed.length) reasons.push(`input changed: ${changed.join(', ')}`);
  }
  return reasons;
}

/**
 * Why a keyed node that is not served from the cache must run: the dry run
 * and the real run give the same answer.
 */
export function runReasons(node: PreparedNode, entry: LockEntry | undefined, key: NodeKey, inputs: Record<string, InputDigest[]>): string[] {
  const reasons = entry?.key === key ? ['outputs are not in the cache (deleted, or gc)'] : staleReasons(node, entry, inputs);
  return reasons.length ? reasons : ['key changed (engine format or stage module path)'];
}

export function summarize(nodes: string[]): string {
  return nodes.length <= 3 ? nodes.join(', ') : `${nodes.slice(0, 3).join(', ')} and ${nodes.length - 3} more`;
}

function diffCode(before: Record<string, string> = {}, now: Record<string, string>): string[] {
  const out: string[] = [];
  for (const file of new Set([...Object.keys(before), ...Object.keys(now)])) {
    if (!(file in before)) out.push(`${file} (new dependency)`);
    else if (!(file in now)) out.push(`${file} (no longer imported)`);
    else if (before[file] !== now[file]) out.push(file);
  }
  return out.sort();
}

/** Flattened dotted-path differences: `lr 0.1 -> 0.05`, `weights [1,0.5] -> [1]`. */
export function diffValues(before: JsonValue | undefined, now: JsonValue | undefined, prefix = ''): string[] {
  const isObj = (v: unknown): v is JsonObject => !!v && typeof v === 'object' && !Array.isArray(v);
  if (isObj(before) && isObj(now)) {
    const out: string[] = [];
    for (const k of [...new Set([...Object.keys(before), ...Object.keys(now)])].sort()) {
      out.push(...diffValues(before[k], now[k], prefix ? `${prefix}.${k}` : k));
    }
    return out;
  }
  const a = before === undefined ? undefined : canonicalJson(before);
  const b = now === undefined ? undefined : canonicalJson(now);
  if (a === b) return [];
  return [`${prefix || '(value)'} ${short(a ?? '(unset)')} -> ${short(b ?? '(unset)')}`];
}

function short(s: string): string {
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}
