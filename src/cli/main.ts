#!/usr/bin/env node
/**
 * iwdl: the command line. Parses arguments, picks a logger and an executor,
 * and maps outcomes to exit codes (0 ok, 1 a node failed, 2 bad input,
 * 130 interrupted). Heavy modules load lazily so a no-op run stays fast.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../engine/config/config-error.js';

const USAGE = `iwdl: a content-hashed DAG pipeline (reproducing Byrd & Lipton, ICML 2019)

Usage:
  iwdl [run] [options]        run the pipeline (all targets, or --stage ones), reusing the cache
  iwdl status [options]       which nodes are stale and why (like --dry-run, but lists only stale nodes)
  iwdl dag [--format mermaid|dot] [--collapse]
                              print the DAG (node level; --collapse: one box per stage)
  iwdl gc [--dry-run]         delete cache entries not used by pipeline.lock or the current plan
  iwdl exec <node-key>        run one node from cache/specs/<key>.json and commit it (used by workers and cluster jobs)
  iwdl exec --node <name>     key one node now that its inputs exist, and run it unless cached (cluster jobs)
  iwdl audit [options]        re-execute nodes in a scratch cache and compare every output with pipeline.lock
                              (--stage, --sample N, --seed K, --trust-upstream, --keep-scratch; writes reports/audit.{json,html})

Options:
  -s, --stage <name>          run this stage's nodes and what they need (repeatable)
  -n, --dry-run               print the plan: each node cached or to run, and why; write nothing
      --json                  machine-readable plan/result on stdout; human output on stderr
  -f, --force                 rerun selected nodes (the --stage ones, or all) even if cached
      --force-stage <name>    rerun this stage's nodes even if cached (repeatable)
  -j, --jobs <n>              parallel worker processes (default: number of cores)
  -k, --keep-going            after a failure, go on with nodes that do not depend on it
  -p, --profile <name>        parameter profile (smoke, quick, paper; default from pipeline.yaml)
      --executor <local|slurm> where nodes run (default: executor: in pipeline.yaml, else local)
      --detach                with --executor slurm: submit and return; \`iwdl status\` collects the results
      --set <path=value>      override a var (epochs=3) or a stage param (train.lr=0.05); repeatable
  -C, --project <dir>         project directory (default: current directory)
      --file <path>           pipeline file (default: pipeline.yaml in the project directory)
  -h, --help                  this help
  -v, --version               print the version
`;

const OPTIONS = {
  stage: { type: 'string', short: 's', multiple: true },
  'dry-run': { type: 'boolean', short: 'n' },
  json: { type: 'boolean' },
  force: { type: 'boolean', short: 'f' },
  'force-stage': { type: 'string', multiple: true },
  jobs: { type: 'string', short: 'j' },
  'keep-going': { type: 'boolean', short: 'k' },
  profile: { type: 'string', short: 'p' },
  set: { type: 'string', multiple: true },
  project: { type: 'string', short: 'C' },
  file: { type: 'string' },
  format: { type: 'string' },
  collapse: { type: 'boolean' },
  executor: { type: 'string' },
  detach: { type: 'boolean' },
  node: { type: 'string' },
  sample: { type: 'string' },
  seed: { type: 'string' },
  'trust-upstream': { type: 'boolean' },
  'keep-scratch': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} satisfies ParseArgsConfig['options'];

type Values = {
  stage?: string[];
  'dry-run'?: boolean;
  json?: boolean;
  force?: boolean;
  'force-stage'?: string[];
  jobs?: string;
  'keep-going'?: boolean;
  profile?: string;
  set?: string[];
  project?: string;
  file?: string;
  format?: string;
  collapse?: boolean;
  executor?: string;
  detach?: boolean;
  node?: string;
  sample?: string;
  seed?: string;
  'trust-upstream'?: boolean;
  'keep-scratch'?: boolean;
  help?: boolean;
  version?: boolean;
};

const COMMANDS = new Set(['run', 'status', 'dag', 'gc', 'exec', 'audit', 'help']);

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message.replace(/\. To specify.*$/s, '')}; see iwdl --help`, 'arguments');
  }
  const values = parsed.values as Values;
  const positionals = parsed.positionals;
  if (values.version) {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`iwdl ${pkg.version}\n`);
    return 0;
  }
  const command = positionals[0] && COMMANDS.has(positionals[0]) ? positionals.shift()! : 'run';
  if (values.help || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command !== 'exec' && positionals.length) {
    throw new ConfigError(`unexpected argument '${positionals[0]}' (commands: run, status, dag, gc, exec, audit); see iwdl --help`, 'arguments');
  }
  const root = resolve(values.project ?? '.');
  let jobs = availableParallelism();
  if (values.jobs !== undefined) {
    jobs = Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new ConfigError(`expected a whole number >= 1, got '${values.jobs}'`, '--jobs');
  }
  if (values.executor !== undefined && !['local', 'slurm'].includes(values.executor)) {
    throw new ConfigError(`expected local or slurm, got '${values.executor}'`, '--executor');
  }
  if (values.format !== undefined && !['mermaid', 'dot'].includes(values.format)) {
    throw new ConfigError(`expected mermaid or dot, got '${values.format}'`, '--format');
  }

  switch (command) {
    case 'exec':
      return values.node !== undefined ? execByNameCommand(root, values) : execCommand(root, positionals);
    case 'dag':
      return dagCommand(root, values);
    case 'gc':
      return gcCommand(root, values);
    case 'status':
      return statusCommand(root, values, jobs);
    case 'audit':
      return auditCommand(root, values, jobs);
    default:
      if (values['dry-run']) return planCommand(root, values, false);
      return runCommand(root, values, jobs);
  }
}

async function load(root: string, values: Values) {
  const { loadProject } = await import('../engine/project.js');
  return loadProject({ root, file: values.file, profile: values.profile, sets: values.set });
}

function selection(values: Values) {
  return { stages: values.stage, force: values.force, forceStages: values['force-stage'] };
}

async function planCommand(root: string, values: Values, staleOnly: boolean): Promise<number> {
  const project = await load(root, values);
  const { planRun } = await import('../engine/runner.js');
  const outcomes = planRun(project, selection(values));
  const human = values.json ? process.stderr : process.stdout;
  for (const w of project.warnings) process.stderr.write(`warning: ${w}\n`);
  if (values.json) process.stdout.write(JSON.stringify(outcomes.map(({ node, stage, status, reasons, key }) => ({ node, stage, status, reasons, key })), null, 1) + '\n');
  const toRun = outcomes.filter((o) => o.status === 'run');
  const cached = outcomes.length - toRun.length;
  human.write(`profile ${project.pipeline.profile}: ${toRun.length} node(s) to run, ${cached} cached\n`);
  const width = Math.min(Math.max(0, ...toRun.map((o) => o.node.length)), 48);
  for (const o of toRun) human.write(`  run     ${o.node.padEnd(width)}  ${o.reasons.join('; ')}\n`);
  if (!staleOnly && cached && !values.json && outcomes.length <= 40) {
    for (const o of outcomes.filter((x) => x.status === 'cached')) human.write(`  cached  ${o.node}\n`);
  }
  return 0;
}

async function statusCommand(root: string, values: Values, jobs: number): Promise<number> {
  const project = await load(root, values);
  const { collectDetached } = await import('../engine/executors/slurm/slurm-run.js');
  const logger = new (await import('../engine/progress/plain-logger.js')).PlainLogger(jobs);
  const collected = await collectDetached(project, logger, values.json ? process.stderr : process.stdout);
  if (collected && collected.exitCode !== 0) return collected.exitCode;
  return planCommand(root, values, true);
}

async function runCommand(root: string, values: Values, jobs: number): Promise<number> {
  const project = await load(root, values);
  const executor = values.executor ?? project.pipeline.executor ?? 'local';
  if (values.detach && executor !== 'slurm') throw new ConfigError('--detach needs --executor slurm', '--detach');
  if (executor === 'slurm') return slurmRunCommand(project, values, jobs);
  const { runPipeline } = await import('../engine/runner.js');
  const cores = availableParallelism();
  const threads = Math.max(1, Math.floor(cores / jobs));
  const interactive = !!process.stderr.isTTY && !process.env.CI && !values.json;
  const logger = interactive
    ? new (await import('../engine/progress/tty-logger.js')).TtyLogger(jobs)
    : new (await import('../engine/progress/plain-logger.js')).PlainLogger(jobs);
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const result = await runPipeline(project, {
    ...selection(values),
    jobs,
    keepGoing: !!values['keep-going'],
    logger,
    signal: controller.signal,
    command: ['iwdl', ...process.argv.slice(2)].join(' '),
    createExecutor: async (slots, target) => {
      const { LocalExecutor } = await import('../engine/executors/local-executor.js');
      return new LocalExecutor(slots, target.paths.root, target.paths.cacheDir, threads);
    },
  });
  if (values.json) {
    process.stdout.write(outcomeJson(result.outcomes));
  }
  if (result.exitCode === 130 && controller.signal.reason === 'SIGTERM') return 143;
  return result.exitCode;
}

function wholeNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`expected a whole number, got '${value}'`, flag);
  return n;
}

async function auditCommand(root: string, values: Values, jobs: number): Promise<number> {
  const sample = wholeNumber('--sample', values.sample);
  if (sample === 0) throw new ConfigError('expected a whole number >= 1, got 0', '--sample');
  const seed = wholeNumber('--seed', values.seed) ?? 0;
  const project = await load(root, values);
  const { runAudit } = await import('../engine/audit/audit.js');
  const { writeAuditReport, summaryLine, problemLines } = await import('../engine/audit/audit-report.js');
  const cores = availableParallelism();
  const threads = Math.max(1, Math.floor(cores / jobs));
  const logger = new (await import('../engine/progress/plain-logger.js')).PlainLogger(jobs);
  const controller = new AbortController();
  process.on('SIGINT', () => controller.abort('SIGINT'));
  const { report, exitCode } = await runAudit(project, {
    stages: values.stage,
    sample,
    seed,
    trustUpstream: !!values['trust-upstream'],
    keepScratch: !!values['keep-scratch'],
    jobs,
    logger,
    signal: controller.signal,
    // Workers commit into the project they are given: for an audit, its scratch cache.
    createExecutor: async (slots, target) => {
      const { LocalExecutor } = await import('../engine/executors/local-executor.js');
      return new LocalExecutor(slots, target.paths.root, target.paths.cacheDir, threads);
    },
  });
  const paths = writeAuditReport(project.paths.reportsDir, report);
  const out = values.json ? process.stderr : process.stdout;
  if (values.json) process.stdout.write(JSON.stringify(report, null, 1) + '\n');
  out.write(summaryLine(report) + '\n');
  for (const line of problemLines(report)) out.write(`  ${line}\n`);
  out.write(`report: ${paths.html}\n`);
  return exitCode;
}

type Project = Awaited<ReturnType<typeof load>>;

function outcomeJson(outcomes: Array<{ node: string; stage: string; status: string; reasons: string[]; key?: string; duration_s?: number; peak_rss_mb?: number; log?: string; error?: string }>): string {
  return JSON.stringify(outcomes.map(({ node, stage, status, reasons, key, duration_s, peak_rss_mb, log, error }) => ({ node, stage, status, reasons, key, duration_s, peak_rss_mb, log, error })), null, 1) + '\n';
}

async function slurmRunCommand(project: Project, values: Values, jobs: number): Promise<number> {
  const { runOnSlurm } = await import('../engine/executors/slurm/slurm-run.js');
  const logger = new (await import('../engine/progress/plain-logger.js')).PlainLogger(jobs);
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => controller.abort(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const result = await runOnSlurm(project, {
    ...selection(values),
    logger,
    detach: !!values.detach,
    signal: controller.signal,
    pollMs: Number(process.env.IWDL_SLURM_POLL_MS) || 2000,
    command: ['iwdl', ...process.argv.slice(2)].join(' '),
    profile: values.profile,
    sets: values.set,
  });
  if (values.json) process.stdout.write(outcomeJson(result.outcomes));
  return result.exitCode;
}

async function execByNameCommand(root: string, values: Values): Promise<number> {
  const project = await load(root, values);
  const name = values.node!;
  if (!project.pipeline.nodes.has(name as never)) {
    throw new ConfigError(`no node named '${name}' in ${project.pipeline.file.displayPath} (profile ${project.pipeline.profile})`, '--node');
  }
  const { planRun, writeSpec } = await import('../engine/runner.js');
  const plan = planRun(project, { nodes: [name as never] });
  const me = plan.find((o) => o.node === name)!;
  if (me.status === 'cached' && !values.force) {
    process.stderr.write(`${name}: cached (key ${me.key}); nothing to do\n`);
    return 0;
  }
  if (!me.key) {
    throw new ConfigError(`${name} cannot be keyed yet: ${me.reasons.join('; ')}`, '--node');
  }
  const byNode = new Map(plan.map((o) => [o.node, o]));
  return runSpec(project.paths.root, project.cache, writeSpec(project, me.node, me.key, (u) => project.cache.summary(byNode.get(u)!.key!)!));
}

async function dagCommand(root: string, values: Values): Promise<number> {
  const { projectPaths, displayPathOf } = await import('../engine/project.js');
  const { loadPipeline } = await import('../engine/config/load-pipeline.js');
  const { renderDag } = await import('../engine/dag.js');
  const paths = projectPaths(root, values.file);
  const pipeline = loadPipeline({ path: paths.pipelineFile, displayPath: displayPathOf(paths.pipelineFile), profile: values.profile, sets: values.set });
  process.stdout.write(renderDag(pipeline, (values.format ?? 'mermaid') as 'mermaid' | 'dot', !!values.collapse));
  return 0;
}

async function gcCommand(root: string, values: Values): Promise<number> {
  const project = await load(root, values);
  const { planRun } = await import('../engine/runner.js');
  const { readLock } = await import('../engine/lockfile.js');
  const { collectGarbage } = await import('../engine/gc.js');
  const { acquireRunLock } = await import('../engine/run-lock.js');
  type Key = import('../engine/types.js').NodeKey;
  const keep = new Set<Key>();
  for (const entry of Object.values(readLock(project.paths.lockFile)?.nodes ?? {})) keep.add(entry.key);
  for (const o of planRun(project, {})) if (o.status === 'cached' && o.key) keep.add(o.key);
  const held = values['dry-run'] ? undefined : acquireRunLock(project.cache.layout.runLock, 'iwdl gc');
  if (held && !held.ok) throw new ConfigError(held.message, 'gc');
  try {
    const r = collectGarbage(project.cache, keep, !!values['dry-run']);
    const verb = values['dry-run'] ? 'would delete' : 'deleted';
    process.stdout.write(`gc: kept ${keep.size} node(s); ${verb} ${r.records} node record(s) and ${r.objects} object(s), ${(r.bytes / 1e6).toFixed(1)} MB\n`);
  } finally {
    if (held?.ok) held.release();
  }
  return 0;
}

async function execCommand(root: string, positionals: string[]): Promise<number> {
  const key = positionals[0];
  if (!key || positionals.length > 1 || !/^[0-9a-f]{64}$/.test(key)) {
    throw new ConfigError('expected one node key (64 hex characters), as in cache/specs/<key>.json', 'exec');
  }
  const { projectPaths } = await import('../engine/project.js');
  const { LocalCache } = await import('../engine/cache/local-cache.js');
  const { existsSync } = await import('node:fs');
  const paths = projectPaths(root);
  const cache = new LocalCache(paths.cacheDir);
  const specPath = cache.layout.spec(key as never);
  if (!existsSync(specPath)) throw new ConfigError(`no spec at ${specPath}; specs are written when a run dispatches the node`, `exec ${key}`);
  return runSpec(paths.root, cache, specPath);
}

/** The single-node entry point shared by `exec <key>` and `exec --node`: run a written spec, report, exit code. */
async function runSpec(root: string, cache: import('../engine/cache/local-cache.js').LocalCache, specPath: string): Promise<number> {
  const { executeNode, readSpec } = await import('../engine/exec-node.js');
  const { formatProgress } = await import('../engine/progress/logger.js');
  const spec = readSpec(specPath);
  const threads = Number(process.env.IWDL_THREADS) || availableParallelism();
  const result = await executeNode(root, cache, spec, {
    threads,
    progressIntervalMs: 10_000,
    onProgress: (e) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${spec.node} ${formatProgress(e)}\n`),
  });
  if (result.ok) {
    process.stderr.write(`${spec.node}: committed ${Object.keys(result.record.outputs.files).length} file(s)\n`);
    return 0;
  }
  process.stderr.write(`${spec.node} failed: ${result.error}\n  log: ${result.logPath}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${err.format()}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`internal error: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
