import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ArtifactsView } from '../../artifacts.js';
import { writeFileAtomic } from '../../cache/local-cache.js';
import { ConfigError } from '../../config/config-error.js';
import { lockEntry, LockStore } from '../../lockfile.js';
import type { RunLogger } from '../../progress/logger.js';
import { displayPathOf, type LoadedProject } from '../../project.js';
import { acquireRunLock } from '../../run-lock.js';
import { logTail, planRun, publishStages, writeSpec, type NodeOutcome, type RunResult, type SelectOptions } from '../../runner.js';
import type { NodeKey, NodeName } from '../../types.js';
import { cancelJobs, FINAL_STATES, jobStates, submitJob, type JobState } from './slurm-cli.js';

/**
 * The Slurm executor. The invalidated sub-DAG is submitted at once, one job
 * per node, each job depending (`afterok`) on its upstream jobs. A job runs
 * the same single-node entry point as a local worker and commits into the
 * same content-addressed cache (on a shared filesystem), so records, lock
 * and artifacts are those of a local run.
 *
 * A node whose key depends on an upstream node that has yet to run cannot
 * have a spec at submission time; its job runs `iwdl exec --node <name>`,
 * which keys it once its inputs exist (and skips it if that key is cached).
 */

const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));

export interface SlurmRunOptions extends SelectOptions {
  logger: RunLogger;
  detach: boolean;
  signal?: AbortSignal;
  /** How often to ask Slurm for job states. */
  pollMs: number;
  command: string;
  /** Recreate the project in a job: the same --profile and --set. */
  profile?: string;
  sets?: string[];
}

/** What was submitted: written next to the cache so a detached run can be collected later. */
interface Manifest {
  runId: string;
  submittedAt: string;
  selection: SelectOptions;
  profile?: string;
  sets?: string[];
  cached: NodeName[];
  jobs: Array<{ node: NodeName; jobId: string; log: string; key?: NodeKey }>;
}

function manifestDir(project: LoadedProject): string {
  return join(project.cache.layout.root, 'slurm');
}

const shellQuote = (s: string): string => (/^[A-Za-z0-9_./=@:+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export async function runOnSlurm(project: LoadedProject, options: SlurmRunOptions): Promise<RunResult> {
  const { cache, paths, pipeline } = project;
  const held = acquireRunLock(cache.layout.runLock, options.command);
  if (!held.ok) throw new ConfigError(held.message, displayPathOf(cache.layout.runLock));
  let keepLock = false;
  try {
    rmSync(cache.layout.tmp, { recursive: true, force: true });
    project.saveMemos();
    const plan = planRun(project, options);
    const artifacts = new ArtifactsView(paths.artifactsDir);
    const byNode = new Map(plan.map((o) => [o.node, o]));
    for (const o of plan) if (o.status === 'cached') artifacts.link(o.node, cache.viewDir(o.key!));
    const toRun = plan.filter((o) => o.status === 'run');
    const estimates = new Map<NodeName, number>();
    options.logger.planned(toRun.map((o) => o.node), plan.length - toRun.length, estimates);

    const runId = `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
    const jobOf = new Map<NodeName, string>();
    const manifest: Manifest = {
      runId,
      submittedAt: new Date().toISOString(),
      selection: { stages: options.stages, force: options.force, forceStages: options.forceStages, nodes: options.nodes },
      profile: options.profile,
      sets: options.sets,
      cached: plan.filter((o) => o.status === 'cached').map((o) => o.node),
      jobs: [],
    };
    const logDir = join(cache.layout.root, 'logs');
    mkdirSync(logDir, { recursive: true });
    try {
      for (const o of toRun) {
        const node = project.nodes.get(o.node)!;
        const forced = o.reasons.includes('forced') || !!options.force || !!options.forceStages?.includes(o.stage);
        let args: string[];
        if (o.key) {
          writeSpec(project, o.node, o.key, (u) => cache.summary(byNode.get(u)!.key!)!);
          args = ['exec', o.key];
        } else {
          args = ['exec', '--node', o.node, ...(options.profile ? ['--profile', options.profile] : []), ...(options.sets ?? []).flatMap((s) => ['--set', s]), ...(forced ? ['--force'] : [])];
        }
        const ups = [...new Set(Object.values(node.def.needs).flat())].map((u) => jobOf.get(u)).filter((j): j is string => !!j);
        const log = join(logDir, `slurm-${o.node}-%j.out`);
        const jobId = await submitJob({
          name: `iwdl:${o.node}`,
          command: [process.execPath, CLI, '-C', paths.root, ...args].map(shellQuote).join(' '),
          output: log,
          cwd: paths.root,
          dependsOn: ups,
          resources: pipeline.stages.get(o.stage)!.resources,
          env: { ...process.env, IWDL_THREADS: String(pipeline.stages.get(o.stage)!.resources?.cpus ?? 1) } as Record<string, string>,
        });
        jobOf.set(o.node, jobId);
        manifest.jobs.push({ node: o.node, jobId, log: log.replace('%j', jobId), ...(o.key ? { key: o.key } : {}) });
      }
    } catch (err) {
      await cancelJobs([...jobOf.values()]);
      throw new ConfigError(`submission failed, cancelled the ${jobOf.size} job(s) already submitted: ${(err as Error).message}`, '--executor slurm');
    }
    if (manifest.jobs.length) {
      writeFileAtomic(join(manifestDir(project), `${runId}.json`), JSON.stringify(manifest, null, 1) + '\n');
      options.logger.info(`submitted ${manifest.jobs.length} Slurm job(s) as run ${runId}: ${manifest.jobs.map((j) => j.jobId).join(', ')}`);
    }
    if (options.detach && manifest.jobs.length) {
      held.detach(runId);
      keepLock = true;
      options.logger.info(`detached: \`iwdl status\` shows progress and collects the results once the jobs finish`);
      return { outcomes: plan.map((o) => (o.status === 'run' ? { ...o, status: 'submitted' } : o)), exitCode: 0 };
    }
    const { outcomes, cancelled } = await monitor(project, manifest, options.logger, options.pollMs, options.signal);
    return finish(project, manifest, outcomes, cancelled, options.logger, options.stages);
  } finally {
    if (!keepLock) held.release();
  }
}

/** Watches the jobs until all are final, reporting transitions; on abort, scancels what is left. */
async function monitor(
  project: LoadedProject,
  manifest: Manifest,
  logger: RunLogger,
  pollMs: number,
  signal?: AbortSignal,
): Promise<{ outcomes: Map<NodeName, NodeOutcome>; cancelled: boolean }> {
  const outcomes = new Map<NodeName, NodeOutcome>();
  const state = new Map<string, JobState>();
  const startedAt = new Map<string, number>();
  const jobs = manifest.jobs;
  const stageOf = (n: NodeName): string => project.pipeline.nodes.get(n)!.stage;
  let cancelled = false;
  const failedNodes = new Set<NodeName>();
  while (true) {
    if (signal?.aborted) {
      cancelled = true;
      const open = jobs.filter((j) => !FINAL_STATES.has(state.get(j.jobId) ?? 'PENDING')).map((j) => j.jobId);
      logger.warn(`interrupted: cancelling ${open.length} Slurm job(s)`);
      await cancelJobs(open);
      for (const j of jobs) if (!outcomes.has(j.node)) outcomes.set(j.node, { node: j.node, stage: stageOf(j.node), status: 'cancelled', reasons: [] });
      break;
    }
    const open = jobs.filter((j) => !FINAL_STATES.has(state.get(j.jobId) ?? 'PENDING'));
    if (open.length === 0) break;
    const states = await jobStates(open.map((j) => j.jobId));
    for (const j of open) {
      const info = states.get(j.jobId);
      if (!info) continue;
      const before = state.get(j.jobId);
      if (info.state === before) continue;
      state.set(j.jobId, info.state);
      if (info.state === 'RUNNING' && !startedAt.has(j.jobId)) {
        startedAt.set(j.jobId, performance.now());
        logger.started(j.node);
      }
      if (!FINAL_STATES.has(info.state)) continue;
      if (info.state === 'COMPLETED') {
        if (!startedAt.has(j.jobId)) {
          startedAt.set(j.jobId, performance.now());
          logger.started(j.node);
        }
        const recorded = j.key ? project.cache.summary(j.key)?.durationMs : undefined;
        logger.finished(j.node, recorded ?? performance.now() - (startedAt.get(j.jobId) ?? performance.now()));
        outcomes.set(j.node, { node: j.node, stage: stageOf(j.node), status: 'ran', reasons: [], log: displayPathOf(j.log) });
        continue;
      }
      const upstreamFailed = info.state === 'CANCELLED' && /Dependency/i.test(info.reason);
      if (upstreamFailed || [...failedNodes].some((f) => dependsOn(project, j.node, f))) {
        const because = [...failedNodes].find((f) => dependsOn(project, j.node, f)) ?? j.node;
        outcomes.set(j.node, { node: j.node, stage: stageOf(j.node), status: 'skipped', reasons: [`upstream ${because} failed`] });
        logger.skipped(j.node, because);
        continue;
      }
      failedNodes.add(j.node);
      const error = `Slurm job ${j.jobId} ${info.state}${info.reason && info.reason !== 'None' ? ` (${info.reason})` : ''}`;
      outcomes.set(j.node, { node: j.node, stage: stageOf(j.node), status: 'failed', reasons: [], error, log: displayPathOf(j.log) });
      logger.failed(j.node, error, displayPathOf(j.log), logTail(j.log, 12));
      // Dependents can never start: cancel them now rather than wait for Slurm to notice.
      const doomed = jobs.filter((d) => !FINAL_STATES.has(state.get(d.jobId) ?? 'PENDING') && dependsOn(project, d.node, j.node));
      await cancelJobs(doomed.map((d) => d.jobId));
    }
    await sleep(pollMs);
  }
  return { outcomes, cancelled };
}

function dependsOn(project: LoadedProject, node: NodeName, upstream: NodeName): boolean {
  const seen = new Set<NodeName>();
  const stack = [node];
  while (stack.length) {
    const n = stack.pop()!;
    for (const ups of Object.values(project.pipeline.nodes.get(n)!.needs)) {
      for (const u of ups) {
        if (u === upstream) return true;
        if (!seen.has(u)) {
          seen.add(u);
          stack.push(u);
        }
      }
    }
  }
  return false;
}

/** Turns final job states into outcomes; on success writes pipeline.lock and artifacts exactly as a local run does. */
function finish(
  project: LoadedProject,
  manifest: Manifest,
  jobOutcomes: Map<NodeName, NodeOutcome>,
  cancelled: boolean,
  logger: RunLogger,
  stages: string[] | undefined,
): RunResult {
  const { cache, paths, pipeline } = project;
  // Everything that completed is now in the cache: keying again finds it.
  const now = planRun(project, { ...manifest.selection, force: false, forceStages: [] });
  const artifacts = new ArtifactsView(paths.artifactsDir);
  const outcomes: NodeOutcome[] = now.map((o) => {
    const job = jobOutcomes.get(o.node);
    if (o.status === 'cached') artifacts.link(o.node, cache.viewDir(o.key!));
    if (job && job.status === 'ran') {
      return o.status === 'cached'
        ? { ...job, key: o.key, duration_s: o.duration_s }
        : { ...job, status: 'failed', error: 'the job completed but committed no outputs', key: o.key };
    }
    if (job) return { ...job, key: o.key };
    return manifest.cached.includes(o.node) ? { ...o } : o;
  });
  const failed = outcomes.filter((o) => o.status === 'failed').length;
  const success = !cancelled && outcomes.every((o) => o.status === 'cached' || o.status === 'ran');
  if (success) {
    const lockStore = new LockStore(paths.lockFile, cache.layout.lockMemo);
    const targets = outcomes.map((o) => o.node);
    const entries = new Map(targets.map((n) => [n as string, () => lockEntry(cache.readRecord(outcomes.find((o) => o.node === n)!.key as NodeKey)!)]));
    const keys = new Map(outcomes.map((o) => [o.node as string, o.key as NodeKey]));
    const complete = targets.length === pipeline.order.length;
    const changed = lockStore.update(pipeline.profile, (n) => pipeline.nodes.has(n as NodeName), entries, keys, false);
    if (complete && changed && !stages?.length) artifacts.prune(new Set(pipeline.order));
    publishStages(project, targets, (n) => cache.summary(outcomes.find((o) => o.node === n)!.key as NodeKey)!, logger);
  }
  rmSync(join(manifestDir(project), `${manifest.runId}.json`), { force: true });
  const ran = outcomes.filter((o) => o.status === 'ran').length;
  logger.done({
    ran,
    cached: outcomes.filter((o) => o.status === 'cached').length,
    failed,
    skipped: outcomes.filter((o) => o.status === 'skipped').length,
    cancelled,
    elapsedMs: Date.now() - Date.parse(manifest.submittedAt),
  });
  return { outcomes, exitCode: cancelled ? 130 : success ? 0 : 1 };
}

/**
 * `iwdl status` for a detached run: reports its jobs; once all are final,
 * collects the results (lock, artifacts) and releases the cache.
 */
export async function collectDetached(project: LoadedProject, logger: RunLogger, out: NodeJS.WritableStream): Promise<RunResult | undefined> {
  const dir = manifestDir(project);
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length === 0) return undefined;
  let last: RunResult | undefined;
  for (const file of files) {
    const manifest = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Manifest;
    const states = await jobStates(manifest.jobs.map((j) => j.jobId));
    const counts = new Map<string, number>();
    for (const j of manifest.jobs) {
      const s = states.get(j.jobId)?.state ?? 'UNKNOWN';
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    out.write(`detached Slurm run ${manifest.runId} (submitted ${manifest.submittedAt}): ${[...counts].map(([s, n]) => `${n} ${s.toLowerCase()}`).join(', ')}\n`);
    const open = manifest.jobs.filter((j) => !FINAL_STATES.has(states.get(j.jobId)?.state ?? 'PENDING'));
    if (open.length) {
      for (const j of open) out.write(`  ${j.node}: job ${j.jobId} ${states.get(j.jobId)?.state ?? 'UNKNOWN'}\n`);
      continue;
    }
    const held = acquireRunLock(project.cache.layout.runLock, 'iwdl status', { takeOverDetached: manifest.runId });
    if (!held.ok) throw new ConfigError(held.message, displayPathOf(project.cache.layout.runLock));
    try {
      const { outcomes } = await monitor(project, manifest, logger, 0);
      last = finish(project, manifest, outcomes, false, logger, manifest.selection.stages);
    } finally {
      held.release();
    }
  }
  return last;
}
