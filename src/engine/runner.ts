import { readFileSync, rmSync } from 'node:fs';
import { ArtifactsView } from './artifacts.js';
import type { NodeRecord, NodeSummary } from './cache/cache.js';
import { writeFileAtomic } from './cache/local-cache.js';
import { ConfigError } from './config/config-error.js';
import type { NodeSpec } from './exec-node.js';
import type { Executor } from './executors/executor.js';
import { LockStore, lockEntry, readLock } from './lockfile.js';
import { inputDigests, nodeKey, runReasons, staleReasons, summarize } from './plan.js';
import type { RunLogger } from './progress/logger.js';
import { displayPathOf, type LoadedProject } from './project.js';
import { acquireRunLock } from './run-lock.js';
import { publish } from './publish.js';
import type { NodeKey, NodeName } from './types.js';

export type NodeStatus = 'cached' | 'run' | 'ran' | 'failed' | 'skipped' | 'cancelled' | 'submitted';

export interface NodeOutcome {
  node: NodeName;
  stage: string;
  status: NodeStatus;
  reasons: string[];
  key?: NodeKey;
  duration_s?: number;
  /** Peak memory (MiB) of the worker that ran it, as of its end. */
  peak_rss_mb?: number;
  log?: string;
  error?: string;
}

export interface SelectOptions {
  /** Run these stages' nodes and whatever they need; all nodes when empty. */
  stages?: string[];
  /** Rerun the selected stages' nodes (all selected nodes when no stages are named) even if cached. */
  force?: boolean;
  /** Rerun these stages' nodes even if cached. */
  forceStages?: string[];
  /** Run exactly these nodes and whatever they need (used by audits); overrides `stages`. */
  nodes?: NodeName[];
}

export interface RunOptions extends SelectOptions {
  jobs: number;
  keepGoing: boolean;
  logger: RunLogger;
  /** Makes the executor for `project` (whose cache the nodes commit to). */
  createExecutor: (slots: number, project: LoadedProject) => Executor | Promise<Executor>;
  signal?: AbortSignal;
  command?: string;
}

export interface RunResult {
  outcomes: NodeOutcome[];
  exitCode: number;
}

interface Selection {
  targets: NodeName[];
  forced: Set<NodeName>;
}

export function selectNodes(project: LoadedProject, options: SelectOptions): Selection {
  const { pipeline } = project;
  const check = (flag: string, names: string[]): void => {
    for (const s of names) {
      if (!pipeline.stages.has(s)) {
        throw new ConfigError(`no stage named '${s}'; stages: ${[...pipeline.stages.keys()].join(', ')}`, `${flag} ${s}`);
      }
    }
  };
  const stages = options.stages ?? [];
  const forceStages = options.forceStages ?? [];
  check('--stage', stages);
  check('--force-stage', forceStages);
  let wanted: Set<NodeName>;
  const visit = (n: NodeName): void => {
    if (wanted.has(n)) return;
    wanted.add(n);
    for (const ups of Object.values(pipeline.nodes.get(n)!.needs)) ups.forEach(visit);
  };
  if (options.nodes) {
    wanted = new Set();
    options.nodes.forEach(visit);
  } else if (stages.length === 0) {
    wanted = new Set(pipeline.order);
  } else {
    wanted = new Set();
    for (const s of stages) pipeline.stages.get(s)!.nodes.forEach(visit);
  }
  const targets = pipeline.order.filter((n) => wanted.has(n));
  const forced = new Set<NodeName>();
  for (const n of targets) {
    const stage = pipeline.nodes.get(n)!.stage;
    if (forceStages.includes(stage)) forced.add(n);
    if (options.force && (stages.length === 0 || stages.includes(stage))) forced.add(n);
  }
  return { targets, forced };
}

/**
 * What a run would do, without writing anything: each node cached or to run,
 * and why. Nodes downstream of a node that will run cannot be keyed yet;
 * they are listed as running with the upstream named as the reason.
 */
export function planRun(project: LoadedProject, options: SelectOptions): NodeOutcome[] {
  const { targets, forced } = selectNodes(project, options);
  const lock = readLock(project.paths.lockFile);
  const records = new Map<NodeName, NodeSummary>();
  const outcomes: NodeOutcome[] = [];
  const willRun = new Set<NodeName>();
  for (const name of targets) {
    const node = project.nodes.get(name)!;
    const entry = lock?.nodes[name];
    const ups = Object.values(node.def.needs).flat();
    const runningUps = ups.filter((u) => willRun.has(u));
    const base = { node: name, stage: node.def.stage };
    if (runningUps.length) {
      willRun.add(name);
      outcomes.push({ ...base, status: 'run', reasons: [`upstream will run: ${summarize(runningUps)}`, ...staleReasons(node, entry, undefined).filter((r) => !r.startsWith('new'))] });
      continue;
    }
    const inputs = inputDigests(node, (n) => records.get(n))!;
    const key = nodeKey(node, inputs);
    if (forced.has(name)) {
      willRun.add(name);
      outcomes.push({ ...base, key, status: 'run', reasons: ['forced'] });
      continue;
    }
    const record = project.cache.summary(key);
    const verdict = record ? project.cache.verify(record, { repair: false }) : undefined;
    if (record && verdict?.ok) {
      records.set(name, record);
      outcomes.push({ ...base, key, status: 'cached', reasons: [], duration_s: record.durationMs / 1000 });
      continue;
    }
    willRun.add(name);
    const reasons = verdict && !verdict.ok ? [`cached output ${verdict.reason}: ${verdict.file} (${verdict.detail})`] : runReasons(node, entry, key, inputs);
    outcomes.push({ ...base, key, status: 'run', reasons });
  }
  return outcomes;
}

/** Executes the selected part of the DAG, reusing the cache; updates pipeline.lock and artifacts/ on success. */
export async function runPipeline(project: LoadedProject, options: RunOptions): Promise<RunResult> {
  const { paths, cache, pipeline } = project;
  const { logger } = options;
  const { targets, forced } = selectNodes(project, options);
  const held = acquireRunLock(cache.layout.runLock, options.command ?? 'iwdl run');
  if (!held.ok) throw new ConfigError(held.message, displayPathOf(cache.layout.runLock));
  if (held.tookOverFrom) logger.warn(`took over the cache lock of pid ${held.tookOverFrom.pid}, which no longer runs`);
  const started = performance.now();
  try {
    // Leftovers of a killed run: never results, always safe to delete while we hold the lock.
    rmSync(cache.layout.tmp, { recursive: true, force: true });
    project.saveMemos();
    for (const w of project.warnings) logger.warn(w);

    const lockStore = new LockStore(paths.lockFile, cache.layout.lockMemo);
    const artifacts = new ArtifactsView(paths.artifactsDir);
    const outcomes = new Map<NodeName, NodeOutcome>();
    const records = new Map<NodeName, NodeSummary>();
    const fullRecords = new Map<NodeName, NodeRecord>();
    const targetSet = new Set(targets);
    const dependents = new Map<NodeName, NodeName[]>();
    const waiting = new Map<NodeName, number>();
    for (const name of targets) {
      const ups = [...new Set(Object.values(project.nodes.get(name)!.def.needs).flat())];
      waiting.set(name, ups.length);
      for (const u of ups) {
        if (!targetSet.has(u)) throw new Error(`internal: ${name} needs ${u}, which is not selected`);
        const list = dependents.get(u) ?? [];
        list.push(name);
        dependents.set(u, list);
      }
    }

    // First pass: everything resolvable now (cached, or runnable), without running anything.
    const runQueue: NodeName[] = [];
    const keys = new Map<NodeName, NodeKey>();
    let cachedCount = 0;
    let ran = 0;
    let failed = 0;
    let stopping = false;
    let cancelled = false;

    const settle = (name: NodeName): void => {
      for (const d of dependents.get(name) ?? []) {
        const left = waiting.get(d)! - 1;
        waiting.set(d, left);
        if (left === 0) resolveNode(d);
      }
    };
    const skipDownstream = (name: NodeName, because: NodeName, announce: boolean): void => {
      for (const d of dependents.get(name) ?? []) {
        if (outcomes.has(d)) continue;
        const node = project.nodes.get(d)!;
        outcomes.set(d, { node: d, stage: node.def.stage, status: 'skipped', reasons: [`upstream ${because} failed`] });
        if (announce) logger.skipped(d, because);
        skipDownstream(d, because, announce);
      }
    };
    let planning = true;
    const resolved = new Set<NodeName>();
    const resolveNode = (name: NodeName): void => {
      if (resolved.has(name)) return;
      resolved.add(name);
      const node = project.nodes.get(name)!;
      const inputs = inputDigests(node, (n) => records.get(n))!;
      const key = nodeKey(node, inputs);
      keys.set(name, key);
      if (!forced.has(name)) {
        const record = cache.summary(key);
        if (record) {
          const verdict = cache.verify(record, { repair: true });
          if (verdict.ok) {
            records.set(name, record);
            outcomes.set(name, { node: name, stage: node.def.stage, status: 'cached', reasons: [], key, duration_s: record.durationMs / 1000 });
            cachedCount++;
            if (!planning) logger.reused(name);
            settle(name);
            return;
          }
          logger.warn(`${name}: cached output ${verdict.file} is ${verdict.reason} (${verdict.detail}); evicted, the node will rerun`);
          if (verdict.reason === 'corrupted') cache.dropObject(record.outputs.files[verdict.file]!.digest);
          cache.evict(key);
          pendingReasons.set(name, [`cached output ${verdict.reason}: ${verdict.file}`]);
        }
      }
      if (!pendingReasons.has(name)) {
        pendingReasons.set(name, forced.has(name) ? ['forced'] : runReasons(node, lockStore.get()?.nodes[name], key, inputs));
      }
      runQueue.push(name);
      if (!planning) pump();
    };
    const pendingReasons = new Map<NodeName, string[]>();

    for (const name of targets) if (waiting.get(name) === 0) resolveNode(name);
    planning = false;

    // Everything not yet settled will (probably) run; some may turn out cached once inputs are known.
    const toRun = targets.filter((n) => !outcomes.has(n));
    // Expected seconds per node: its own time in the last run, else (a node
    // new to the grid, e.g. a weight just added to pipeline.yaml) the mean of
    // its stage's nodes in that run.
    const estimates = new Map<NodeName, number>();
    const lockNodes = lockStore.get()?.nodes ?? {};
    const stageMeans = new Map<string, number>();
    for (const n of toRun) {
      const d = lockNodes[n]?.duration_s;
      if (d !== undefined) {
        estimates.set(n, d);
        continue;
      }
      const stage = project.nodes.get(n)!.def.stage;
      if (!stageMeans.has(stage)) {
        const ds = Object.values(lockNodes).filter((e) => e.stage === stage).map((e) => e.duration_s);
        stageMeans.set(stage, ds.length ? ds.reduce((a, b) => a + b, 0) / ds.length : NaN);
      }
      const m = stageMeans.get(stage)!;
      if (!Number.isNaN(m)) estimates.set(n, m);
    }
    logger.planned(toRun, cachedCount, estimates);

    let executorPromise: Promise<Executor> | undefined;
    let running = 0;
    let finish: () => void = () => {};
    const finished = new Promise<void>((r) => (finish = r));
    const onAbort = (): void => {
      if (cancelled) return;
      cancelled = true;
      stopping = true;
      logger.warn('interrupted: stopping running nodes');
      void executorPromise?.then((e) => e.cancel());
      if (running === 0) finish();
    };
    options.signal?.addEventListener('abort', onAbort);
    if (options.signal?.aborted) onAbort();

    const pump = (): void => {
      while (!stopping && runQueue.length && running < options.jobs) {
        const name = runQueue.shift()!;
        void dispatch(name);
      }
      if (running === 0 && (stopping || runQueue.length === 0)) finish();
    };

    const dispatch = async (name: NodeName): Promise<void> => {
      running++;
      const node = project.nodes.get(name)!;
      const key = keys.get(name)!;
      executorPromise ??= Promise.resolve(options.createExecutor(options.jobs, project));
      const executor = await executorPromise;
      if (cancelled) {
        running--;
        outcomes.set(name, { node: name, stage: node.def.stage, status: 'cancelled', reasons: pendingReasons.get(name) ?? [], key });
        pump();
        return;
      }
      const specPath = writeSpec(project, name, key, (u) => records.get(u)!);
      logger.started(name);
      const result = await executor.run({ key, node: name, specPath }, (e) => logger.progress(name, e));
      running--;
      const reasons = pendingReasons.get(name) ?? [];
      if (result.ok) {
        ran++;
        cache.remember(result.learned);
        records.set(name, result.record);
        fullRecords.set(name, result.record);
        outcomes.set(name, { node: name, stage: node.def.stage, status: 'ran', reasons, key, duration_s: result.record.durationMs / 1000, peak_rss_mb: result.record.peakRssMb });
        artifacts.link(name, cache.viewDir(key));
        logger.finished(name, result.record.durationMs, result.record.peakRssMb);
        settle(name);
      } else if (cancelled) {
        outcomes.set(name, { node: name, stage: node.def.stage, status: 'cancelled', reasons, key });
      } else {
        failed++;
        const logPath = result.logPath ? displayPathOf(result.logPath) : '';
        outcomes.set(name, { node: name, stage: node.def.stage, status: 'failed', reasons, key, error: result.error, log: logPath || undefined });
        logger.failed(name, result.error, logPath, logTail(result.logPath, 12));
        skipDownstream(name, name, options.keepGoing);
        if (!options.keepGoing) stopping = true;
      }
      pump();
    };

    pump();
    await finished;
    options.signal?.removeEventListener('abort', onAbort);
    if (executorPromise) {
      const executor = await executorPromise;
      if (cancelled) await executor.cancel();
      else await executor.close();
    }
    cache.flush();
    if (cancelled) rmSync(cache.layout.tmp, { recursive: true, force: true });

    const ordered: NodeOutcome[] = targets.map(
      (n) => outcomes.get(n) ?? { node: n, stage: project.nodes.get(n)!.def.stage, status: cancelled ? 'cancelled' : 'skipped', reasons: pendingReasons.get(n) ?? [], key: keys.get(n) },
    );
    const success = !cancelled && failed === 0 && ordered.every((o) => o.status === 'cached' || o.status === 'ran');
    if (success) {
      const complete = targets.length === pipeline.order.length;
      const entries = new Map(
        targets.map((n) => [n as string, () => lockEntry(fullRecords.get(n) ?? cache.readRecord(records.get(n)!.key)!)]),
      );
      const keyMap = new Map(targets.map((n) => [n as string, records.get(n)!.key]));
      const changed = lockStore.update(pipeline.profile, (n) => pipeline.nodes.has(n as NodeName), entries, keyMap, complete && ran === 0);
      // Links of removed nodes go when the node set changes, which always changes the lock.
      if (complete && changed) artifacts.prune(new Set(pipeline.order));
      publishStages(project, targets, (n) => records.get(n)!, logger);
    }
    // Cached nodes are linked here, in one pass a memo can skip; nodes that ran were linked as they finished.
    artifacts.syncMany(
      targets.filter((n) => records.has(n)).map((n) => [n, cache.viewDir(records.get(n)!.key)] as [NodeName, string]),
      cache.layout.artifactsMemo,
    );
    logger.done({ ran, cached: cachedCount, failed, skipped: ordered.filter((o) => o.status === 'skipped').length, cancelled, elapsedMs: performance.now() - started });
    return { outcomes: ordered, exitCode: cancelled ? 130 : success ? 0 : 1 };
  } finally {
    held.release();
  }
}

/** Copies the outputs of stages with `publish:` to their project directory (reports/, say). */
export function publishStages(project: LoadedProject, targets: NodeName[], summaryOf: (n: NodeName) => NodeSummary, logger: RunLogger): void {
  const inRun = new Set(targets);
  for (const stage of project.pipeline.stages.values()) {
    if (!stage.publish) continue;
    const nodes = stage.nodes.filter((n) => inRun.has(n));
    if (nodes.length === 0) continue;
    const copied = publish(
      project.paths.root,
      stage.publish,
      nodes.map((n) => ({ node: n, summary: summaryOf(n), viewDir: project.cache.viewDir(summaryOf(n).key) })),
    );
    if (copied) logger.info(`published ${copied} file(s) of ${stage.name} to ${stage.publish}/`);
  }
}

/** Writes `cache/specs/<key>.json`, everything `iwdl exec <key>` needs; returns its path. */
export function writeSpec(project: LoadedProject, name: NodeName, key: NodeKey, upstream: (n: NodeName) => NodeSummary): string {
  const node = project.nodes.get(name)!;
  const spec: NodeSpec = {
    version: 1,
    key,
    node: name,
    stage: node.def.stage,
    module: node.def.module,
    compiled: node.compiled,
    item: node.def.item,
    params: node.params,
    code: node.code.files,
    env: node.env,
    inputs: Object.fromEntries(
      Object.entries(node.def.needs).map(([input, ups]) => [
        input,
        ups.map((u) => {
          const r = upstream(u);
          return { node: u, key: r.key, digest: r.outputs.digest, item: project.nodes.get(u)!.def.item, params: project.nodes.get(u)!.params };
        }),
      ]),
    ),
  };
  const specPath = project.cache.layout.spec(key);
  writeFileAtomic(specPath, JSON.stringify(spec) + '\n');
  return specPath;
}

export function logTail(path: string, lines: number): string[] {
  if (!path) return [];
  try {
    const text = readFileSync(path, 'utf8').trimEnd();
    return text.split('\n').slice(-lines);
  } catch {
    return [];
  }
}
