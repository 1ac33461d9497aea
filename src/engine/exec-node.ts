import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { arch, availableParallelism, cpus, hostname, platform, release } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureDir, type LocalCache } from './cache/local-cache.js';
import type { MachineInfo, NodeRecord } from './cache/cache.js';
import { isStageDefinition, type InputRef, type ProgressInfo, type StageContext } from './stage.js';
import type { Digest, JsonObject, NodeKey, NodeName } from './types.js';

/**
 * Everything needed to run one node, written to `cache/specs/<key>.json`
 * before the node is dispatched. Local workers and cluster jobs both run a
 * node from this file and nothing else, which is what makes their results
 * interchangeable.
 */
export interface NodeSpec {
  version: 1;
  key: NodeKey;
  node: NodeName;
  stage: string;
  module: string;
  /** Project-relative path of the JavaScript that runs. */
  compiled: string;
  item: JsonObject;
  params: JsonObject;
  code: Record<string, Digest>;
  env: Record<string, string>;
  inputs: Record<string, Array<{ node: NodeName; key: NodeKey; digest: Digest; item: JsonObject; params: JsonObject }>>;
}

export interface ProgressEvent {
  done: number;
  total: number;
  info?: ProgressInfo;
}

export type ExecResult =
  | { ok: true; record: NodeRecord; learned?: Record<string, string> }
  | { ok: false; error: string; logPath: string };

export interface ExecHooks {
  threads: number;
  onProgress?: (event: ProgressEvent) => void;
  /** Minimum milliseconds between two onProgress calls. */
  progressIntervalMs?: number;
  /**
   * Whether to write the cache's memos after the commit (default true). A
   * pool worker says no and returns what it learned instead, so that one
   * process (the run) owns the memo files rather than workers overwriting
   * each other's.
   */
  flushMemos?: boolean;
}

export function readSpec(path: string): NodeSpec {
  return JSON.parse(readFileSync(path, 'utf8')) as NodeSpec;
}

export async function executeNode(projectRoot: string, cache: LocalCache, spec: NodeSpec, hooks: ExecHooks): Promise<ExecResult> {
  const layout = cache.layout;
  const logPath = layout.log(spec.key);
  ensureDir(join(layout.root, 'logs'));
  const logFd = openSync(logPath, 'w');
  const log = (line: string): void => {
    writeSync(logFd, line.endsWith('\n') ? line : line + '\n');
  };
  const tmp = join(layout.tmp, `${spec.key.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const outDir = tmp;
  const checkpointDir = layout.checkpoint(spec.key);
  const startedAt = new Date();
  const started = performance.now();
  log(`# ${spec.node} (${spec.stage}) key ${spec.key}`);
  log(`# started ${startedAt.toISOString()} on ${hostname()} pid ${process.pid}, ${hooks.threads} thread(s)`);

  // Stage code may print; a worker runs one node at a time, so everything
  // printed now belongs to this node's log.
  const restore = captureOutput(logFd);
  try {
    mkdirSync(outDir, { recursive: true });
    // Most stages never checkpoint: the directory is made when a stage first asks for it.
    let checkpointMade = false;
    const mod = (await import(pathToFileURL(resolve(projectRoot, spec.compiled)).href)) as { default?: unknown };
    if (!isStageDefinition(mod.default)) throw new Error(`${spec.module} has no default-exported stage definition`);
    const definition = mod.default;
    const params = definition.params ? definition.params.parse(spec.params) : spec.params;

    const inputs: Record<string, InputRef[]> = {};
    for (const [name, list] of Object.entries(spec.inputs)) {
      inputs[name] = list.map((i) => ({ node: i.node, dir: cache.viewDir(i.key), item: i.item, params: i.params }));
    }
    let lastProgress = 0;
    const interval = hooks.progressIntervalMs ?? 200;
    const ctx: StageContext<unknown> = {
      params,
      inputs,
      input(name: string): string {
        const list = inputs[name];
        if (!list) throw new Error(`${spec.node}: no input named '${name}' (inputs: ${Object.keys(inputs).join(', ') || 'none'})`);
        if (list.length !== 1) throw new Error(`${spec.node}: input '${name}' has ${list.length} nodes; use ctx.inputs.${name}`);
        return list[0]!.dir;
      },
      outDir,
      get checkpointDir(): string {
        if (!checkpointMade) {
          mkdirSync(checkpointDir, { recursive: true });
          checkpointMade = true;
        }
        return checkpointDir;
      },
      threads: hooks.threads,
      node: spec.node,
      progress(done: number, total: number, info?: ProgressInfo): void {
        const now = performance.now();
        if (now - lastProgress < interval && done < total) return;
        lastProgress = now;
        hooks.onProgress?.({ done, total, info });
      },
      log,
    };
    await definition.run(ctx);
    restore();
    const record = await cache.commit(outDir, {
      key: spec.key,
      node: spec.node,
      stage: spec.stage,
      item: spec.item,
      params: spec.params,
      code: spec.code,
      inputs: Object.fromEntries(
        Object.entries(spec.inputs).map(([name, list]) => [name, list.map((i) => ({ node: i.node, digest: i.digest }))]),
      ),
      env: spec.env,
      startedAt: startedAt.toISOString(),
      durationMs: performance.now() - started,
      host: hostname(),
      machine: machineInfo(),
      peakRssMb: peakRssMb(),
    });
    if (hooks.flushMemos !== false) cache.flush();
    if (checkpointMade || existsSync(checkpointDir)) rmSync(checkpointDir, { recursive: true, force: true });
    log(`# committed ${Object.keys(record.outputs.files).length} file(s) in ${((performance.now() - started) / 1000).toFixed(3)} s; peak memory ${record.peakRssMb} MiB`);
    return { ok: true, record };
  } catch (err) {
    restore();
    const e = err as Error;
    log(`# FAILED: ${e.stack ?? e.message}`);
    return { ok: false, error: firstLine(e.message), logPath };
  } finally {
    closeSync(logFd);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

let machine: MachineInfo | undefined;

/** Facts about this machine, read once per process (os.cpus() reads /proc). */
export function machineInfo(): MachineInfo {
  return (machine ??= {
    node: process.version,
    os: `${platform()} ${release()}`,
    arch: arch(),
    cpu: cpus()[0]?.model?.trim() ?? 'unknown',
    cores: availableParallelism(),
  });
}


function firstLine(text: string): string {
  return (text || 'failed').split('\n')[0]!;
}

function captureOutput(fd: number): () => void {
  const out = process.stdout.write;
  const err = process.stderr.write;
  const write = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
    const data = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array);
    try {
      writeSync(fd, data as string);
    } catch {
      /* log closed: drop */
    }
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') (done as () => void)();
    return true;
  };
  process.stdout.write = write as typeof process.stdout.write;
  process.stderr.write = write as typeof process.stderr.write;
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    process.stdout.write = out;
    process.stderr.write = err;
  };
}
