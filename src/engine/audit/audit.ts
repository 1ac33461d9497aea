import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeRecord } from '../cache/cache.js';
import { LocalCache } from '../cache/local-cache.js';
import { ConfigError } from '../config/config-error.js';
import { machineInfo } from '../exec-node.js';
import type { Executor } from '../executors/executor.js';
import { readLock, type LockEntry } from '../lockfile.js';
import type { RunLogger } from '../progress/logger.js';
import type { LoadedProject } from '../project.js';
import { planRun, runPipeline, selectNodes } from '../runner.js';
import type { NodeName } from '../types.js';
import { compareContents, toleranceFor, type FileVerdict } from './compare.js';

/**
 * `iwdl audit`: "if I rerun this from nothing, do I get the same outputs?"
 * Re-executes nodes into a scratch cache (the main cache is only read) and
 * compares every output with the digests in pipeline.lock.
 */

export type NodeVerdict = 'identical' | 'within-tolerance' | 'different' | 'failed' | 'trusted';

export interface NodeAudit {
  node: NodeName;
  stage: string;
  verdict: NodeVerdict;
  maxDeviation?: number;
  files: FileVerdict[];
  /** State of the recorded outputs in the main cache (full rehash). */
  mainCache: 'ok' | 'missing' | 'corrupted' | 'not-checked';
  mainCacheDetail?: string;
  /** True when the node's key today differs from the recorded one: code, params or inputs changed since. */
  keyChanged: boolean;
  original: { key: string; env: Record<string, string>; machine?: NodeRecord['machine'] };
  audit: { key?: string; env?: Record<string, string>; machine?: NodeRecord['machine']; error?: string; log?: string };
}

export interface AuditReport {
  createdAt: string;
  profile: string;
  mode: 'clean' | 'trust-upstream';
  sample?: { n: number; seed: number };
  machine: ReturnType<typeof machineInfo>;
  summary: Record<NodeVerdict, number>;
  nodes: NodeAudit[];
}

export interface AuditOptions {
  stages?: string[];
  sample?: number;
  seed: number;
  trustUpstream: boolean;
  jobs: number;
  logger: RunLogger;
  createExecutor: (slots: number, project: LoadedProject) => Executor | Promise<Executor>;
  scratch?: string;
  keepScratch?: boolean;
  signal?: AbortSignal;
}

export async function runAudit(project: LoadedProject, options: AuditOptions): Promise<{ report: AuditReport; exitCode: number }> {
  const lock = readLock(project.paths.lockFile);
  if (!lock) throw new ConfigError('no pipeline.lock to audit against; run the pipeline first', project.paths.lockFile);
  if (lock.profile !== project.pipeline.profile) {
    throw new ConfigError(`pipeline.lock records profile '${lock.profile}'; audit with --profile ${lock.profile}`, '--profile');
  }
  const candidates = selectNodes(project, { stages: options.stages }).targets.filter((n) => {
    if (options.stages?.length && !options.stages.includes(project.pipeline.nodes.get(n)!.stage)) return false;
    return n in lock.nodes;
  });
  if (candidates.length === 0) throw new ConfigError('no node of the selection is recorded in pipeline.lock', '--stage');
  let selected = candidates;
  if (options.sample !== undefined) {
    if (!Number.isInteger(options.sample) || options.sample < 1) throw new ConfigError(`expected a whole number >= 1, got ${options.sample}`, '--sample');
    selected = seededSample(candidates, options.sample, options.seed);
  }

  const scratch = options.scratch ?? mkdtempSync(join(tmpdir(), 'iwdl-audit-'));
  const scratchCache = new LocalCache(scratch);
  const mainCache = project.cache;
  const closure = new Set(selectNodes(project, { nodes: selected }).targets);
  const selectedSet = new Set(selected);
  const trusted = new Set<NodeName>();
  if (options.trustUpstream) {
    for (const name of closure) {
      if (selectedSet.has(name)) continue;
      const entry = lock.nodes[name];
      const record = entry ? mainCache.readRecord(entry.key) : undefined;
      if (!record) {
        throw new ConfigError(`cannot trust upstream ${name}: its recorded outputs are not in the cache; audit without --trust-upstream`, '--trust-upstream');
      }
      scratchCache.importRecord(mainCache, record);
      trusted.add(name);
    }
  }

  // Keys of today's pipeline, to tell "the code changed since the lock" from "not reproducible".
  const currentKeys = new Map(planRun(project, { nodes: selected }).filter((o) => o.key).map((o) => [o.node, o.key!]));

  const auditProject: LoadedProject = {
    ...project,
    paths: { ...project.paths, cacheDir: scratch, lockFile: join(scratch, 'pipeline.lock'), artifactsDir: join(scratch, 'artifacts') },
    cache: scratchCache,
    warnings: [],
    saveMemos: () => {},
  };
  options.logger.info(`audit: re-executing ${closure.size - trusted.size} node(s) in ${scratch}${trusted.size ? ` (${trusted.size} upstream trusted)` : ''}`);
  let run;
  try {
    run = await runPipeline(auditProject, {
      nodes: selected,
      jobs: options.jobs,
      keepGoing: true,
      logger: options.logger,
      createExecutor: options.createExecutor,
      signal: options.signal,
      command: 'iwdl audit',
    });
  } catch (err) {
    if (!options.keepScratch && !options.scratch) rmSync(scratch, { recursive: true, force: true });
    throw err;
  }

  const nodes: NodeAudit[] = [];
  for (const outcome of run.outcomes) {
    const entry = lock.nodes[outcome.node] as LockEntry | undefined;
    if (!entry) continue;
    const stage = project.pipeline.stages.get(outcome.stage)!;
    const originalRecord = mainCache.readRecord(entry.key);
    const base: NodeAudit = {
      node: outcome.node,
      stage: outcome.stage,
      verdict: 'identical',
      files: [],
      mainCache: 'not-checked',
      keyChanged: currentKeys.has(outcome.node) ? currentKeys.get(outcome.node) !== entry.key : outcome.key !== undefined && outcome.key !== entry.key,
      original: { key: entry.key, env: entry.env, machine: originalRecord?.machine },
      audit: {},
    };
    // The recorded bytes, as the main cache holds them today.
    const damaged: string[] = [];
    let missing = 0;
    for (const [rel, file] of Object.entries(entry.outputs.files)) {
      const state = mainCache.objectMatches(file.digest);
      if (state === 'corrupted') damaged.push(rel);
      if (state === 'missing') missing++;
    }
    base.mainCache = damaged.length ? 'corrupted' : missing ? 'missing' : 'ok';
    if (damaged.length) base.mainCacheDetail = `cached bytes of ${damaged.join(', ')} no longer match pipeline.lock`;
    else if (missing) base.mainCacheDetail = `${missing} recorded file(s) not in the cache`;

    if (trusted.has(outcome.node)) {
      nodes.push({ ...base, verdict: 'trusted' });
      continue;
    }
    if (outcome.status !== 'ran' && outcome.status !== 'cached') {
      nodes.push({ ...base, verdict: 'failed', audit: { key: outcome.key, error: outcome.error ?? outcome.status, log: outcome.log } });
      continue;
    }
    const record = scratchCache.readRecord(outcome.key!)!;
    base.audit = { key: record.key, env: record.env, machine: record.machine };
    const files: FileVerdict[] = [];
    for (const [rel, expected] of Object.entries(entry.outputs.files)) {
      const actual = record.outputs.files[rel];
      if (!actual) {
        files.push({ file: rel, verdict: 'missing', detail: 'recorded but not produced' });
      } else if (actual.digest === expected.digest) {
        files.push({ file: rel, verdict: 'identical' });
      } else {
        const tolerance = toleranceFor(rel, stage.tolerances);
        const originalPath = mainCache.layout.object(expected.digest);
        if (!tolerance) {
          files.push({ file: rel, verdict: 'different', detail: `sha256 ${actual.digest.slice(0, 12)}… re-executed, ${expected.digest.slice(0, 12)}… recorded` });
        } else if (!existsSync(originalPath) || damaged.includes(rel)) {
          files.push({ file: rel, verdict: 'different', detail: 'digests differ and the recorded bytes are not in the cache to compare within tolerance' });
        } else {
          files.push(compareContents(rel, originalPath, scratchCache.layout.object(actual.digest), tolerance));
        }
      }
    }
    for (const rel of Object.keys(record.outputs.files)) {
      if (!(rel in entry.outputs.files)) files.push({ file: rel, verdict: 'extra', detail: 'produced but not recorded' });
    }
    const worst = files.some((f) => f.verdict === 'different' || f.verdict === 'missing' || f.verdict === 'extra')
      ? 'different'
      : files.some((f) => f.verdict === 'within-tolerance')
        ? 'within-tolerance'
        : 'identical';
    const deviations = files.map((f) => f.maxDeviation).filter((d): d is number => d !== undefined);
    nodes.push({ ...base, verdict: worst, files, ...(deviations.length ? { maxDeviation: Math.max(...deviations) } : {}) });
  }

  if (!options.keepScratch && !options.scratch) rmSync(scratch, { recursive: true, force: true });
  const summary: Record<NodeVerdict, number> = { identical: 0, 'within-tolerance': 0, different: 0, failed: 0, trusted: 0 };
  for (const n of nodes) summary[n.verdict]++;
  const report: AuditReport = {
    createdAt: new Date().toISOString(),
    profile: project.pipeline.profile,
    mode: options.trustUpstream ? 'trust-upstream' : 'clean',
    ...(options.sample !== undefined ? { sample: { n: options.sample, seed: options.seed } } : {}),
    machine: machineInfo(),
    summary,
    nodes,
  };
  const bad = summary.different + summary.failed > 0 || nodes.some((n) => n.mainCache === 'corrupted');
  return { report, exitCode: run.exitCode === 130 ? 130 : bad ? 1 : 0 };
}

/** A seeded, order-independent sample (mulberry32 shuffle): the same --seed names the same nodes. */
export function seededSample<T>(items: T[], n: number, seed: number): T[] {
  let a = seed >>> 0;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  const chosen = new Set(copy.slice(0, Math.min(n, copy.length)));
  return items.filter((x) => chosen.has(x));
}
