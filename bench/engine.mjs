#!/usr/bin/env node
/**
 * Engine benchmark: how much the DAG runner itself costs, on a generated DAG
 * shaped like the paper's grid, with trivial stage bodies.
 *
 *   npm run bench                      (tsc -b, then this script)
 *   node bench/engine.mjs [options]    (after `npx tsc -b`)
 *
 * Options:
 *   --json <path>       also write every number as one JSON document to <path>
 *   --runs <n>          repetitions of each no-op measurement (default 5; the median is reported)
 *   -j, --jobs <n>      iwdl -j and snakemake --cores (default 2)
 *   --cold-runs <n>     iwdl cold runs, each from an empty cache (default 3; the median is reported)
 *   --no-snakemake      skip the Snakemake comparison even when snakemake is installed
 *   --snakemake-run     Snakemake jobs as `run:` blocks instead of `shell:` ones. Slow: with
 *                       --cores > 1, Snakemake 7 starts a whole `python3 -m snakemake` per
 *                       `run:` job (~0.45 s each here: ~8 minutes per cold run of this DAG)
 *   --keep              keep the generated projects (their paths are printed)
 *
 * The DAG (1,090 nodes): download -> preprocess (one per dataset, 3) ->
 * train (7 experiments x 17 weights x 9 seeds = 1,071) -> aggregate (one per
 * experiment, needing `train@<experiment>-*`, 7) -> plot (7) -> report (1).
 * Every stage body writes one small file. The same DAG is written as a
 * Snakefile for the side-by-side figures.
 *
 * What is measured, all in this run, on this machine: wall time of whole
 * processes (workers included), taken by bash's `time` keyword inside zx's
 * `$`, so the shell's own start-up is not counted; the process tree's CPU
 * time (user + sys) is printed too, as it is steadier on a busy machine:
 *   - `node -e 0`: bare Node start-up, the floor for any CLI invocation;
 *   - iwdl cold run (`node dist/src/cli/main.js -C <dir> -j 2`, CI=1, output
 *     to a log file), from an empty cache;
 *   - engine overhead per node = (cold wall - `node -e 0`) / nodes;
 *   - iwdl no-op rerun (same command, everything cached), median of --runs;
 *   - iwdl no-op `--dry-run`, median of --runs;
 *   - Snakemake (when installed; Debian: apt-get install snakemake): jobs are
 *     `shell: "echo ... > {output}"`; cold `--cores 2` with its default (ILP)
 *     scheduler and again with `--scheduler greedy`, no-op `-n` dry run, no-op
 *     real run; per job = (cold wall - `python3 -c pass`) / jobs.
 * The 1-minute load average is printed before and after: on a shared 2-core
 * machine, anything else running skews every figure.
 * Targets (from the issue): no-op rerun <= 0.2 s for the CLI invoked
 * directly (not through npm); <= 5 ms engine overhead per trivial node.
 *
 * It prints numbers and never fails on a missed target (it is not a test);
 * it exits non-zero only when a run itself fails.
 */
import { $, minimist, which } from 'zx';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = minimist(process.argv.slice(2), {
  string: ['json', 'runs', 'jobs', 'cold-runs'],
  boolean: ['snakemake', 'snakemake-run', 'keep'],
  alias: { j: 'jobs' },
  default: { snakemake: true, runs: '5', jobs: '2', 'cold-runs': '3' },
});

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');
const RUNS = Math.max(1, Number(argv.runs) || 5);
const JOBS = Math.max(1, Number(argv.jobs) || 2);
const COLD_RUNS = Math.max(1, Number(argv['cold-runs']) || 3);
const SMK_SHELL = !argv['snakemake-run'];

$.verbose = false;
$.quiet = true;

// ---------------------------------------------------------------------------
// The DAG shape (paper grid): 7 experiments x 17 weights x 9 seeds.

const EXPERIMENTS = [
  { id: 'synthLinear', dataset: 'synthetic' },
  { id: 'synthMlp', dataset: 'synthetic' },
  { id: 'cifarConv', dataset: 'cifar10' },
  { id: 'cifarDropout', dataset: 'cifar10' },
  { id: 'cifarL2', dataset: 'cifar10' },
  { id: 'cifarBatchnorm', dataset: 'cifar10' },
  { id: 'mrpcBert', dataset: 'mrpc' },
];
const DATASETS = [...new Set(EXPERIMENTS.map((e) => e.dataset))];
/** 2^-8 .. 2^8: 17 weights, as the strings both tools will see. */
const WEIGHTS = Array.from({ length: 17 }, (_, i) => String(2 ** (i - 8)));
const SEEDS = Array.from({ length: 9 }, (_, i) => i + 1);
const NODES = 1 + DATASETS.length + EXPERIMENTS.length * WEIGHTS.length * SEEDS.length + EXPERIMENTS.length * 2 + 1;

// ---------------------------------------------------------------------------
// Helpers.

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sec = (ms) => (ms / 1000).toFixed(3);
const log = (...a) => process.stdout.write(a.join(' ') + '\n');

let timeFile = '';

/**
 * Runs `args` (a zx-quoted argument list) under bash's `time` keyword, output
 * appended to `logFile`. Returns `ms`, the wall milliseconds that `time`
 * measured (the shell's own start-up excluded), and `cpu`, the CPU
 * milliseconds (user + sys) of the whole process tree, workers included.
 */
async function timed(args, { cwd, env, logFile, okCodes = [0] } = {}) {
  const p = await $({ cwd, env: { ...process.env, ...env }, nothrow: true })`TIMEFORMAT='%3R %3U %3S'; { time ${args} >>${logFile ?? '/dev/null'} 2>&1 ; } 2>${timeFile}`;
  if (!okCodes.includes(p.exitCode)) {
    const tail = logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-15).join('\n') : '';
    throw new Error(`\`${args.join(' ')}\` exited with ${p.exitCode}${tail ? `; last lines of ${logFile}:\n${tail}` : ''}`);
  }
  const [real, user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
  return { ms: real * 1000, cpu: (user + sys) * 1000 };
}

/** Runs `fn` n times; returns the samples and their medians. */
async function repeat(n, fn) {
  const samples = [];
  for (let i = 0; i < n; i++) samples.push(await fn(i));
  return { samples, ms: median(samples.map((x) => x.ms)), cpu: median(samples.map((x) => x.cpu)) };
}
const list = (r) => r.samples.map((x) => sec(x.ms)).join(', ');

// ---------------------------------------------------------------------------
// Project generators.

function writeIwdlProject(dir) {
  mkdirSync(join(dir, 'stages'), { recursive: true });
  const yaml = `# generated by bench/engine.mjs
vars:
  experiments:
${EXPERIMENTS.map((e) => `    - { id: ${e.id}, dataset: ${e.dataset} }`).join('\n')}
  datasets: [${DATASETS.join(', ')}]
  weights: [${WEIGHTS.join(', ')}]
  seeds: [${SEEDS.join(', ')}]
stages:
  download:
    module: stages/download.mjs
    params: { datasets: "\${datasets}" }
  preprocess:
    module: stages/preprocess.mjs
    foreach: \${datasets}
    params: { dataset: "\${item}" }
    needs: { raw: download }
  train:
    module: stages/train.mjs
    matrix:
      experiment: \${experiments}
      weight: \${weights}
      seed: \${seeds}
    name: \${item.experiment.id}-w\${item.weight}-s\${item.seed}
    params: { experiment: "\${item.experiment.id}", weight: "\${item.weight}", seed: "\${item.seed}" }
    needs: { data: "preprocess@\${item.experiment.dataset}" }
  aggregate:
    module: stages/aggregate.mjs
    foreach: \${experiments}
    name: \${item.id}
    params: { experiment: "\${item.id}" }
    needs: { runs: "train@\${item.id}-w*" }
  plot:
    module: stages/plot.mjs
    foreach: \${experiments}
    name: \${item.id}
    params: { experiment: "\${item.id}" }
    needs: { table: "aggregate@\${item.id}" }
  report:
    module: stages/report.mjs
    needs: { figures: plot }
`;
  writeFileSync(join(dir, 'pipeline.yaml'), yaml);
  const stage = (body) => `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
export default {
  async run(ctx) {
    ${body}
  },
};
`;
  writeFileSync(join(dir, 'stages', 'download.mjs'), stage(`writeFileSync(join(ctx.outDir, 'raw.json'), JSON.stringify(ctx.params));`));
  writeFileSync(join(dir, 'stages', 'preprocess.mjs'), stage(`ctx.input('raw'); writeFileSync(join(ctx.outDir, 'data.json'), JSON.stringify(ctx.params));`));
  writeFileSync(join(dir, 'stages', 'train.mjs'), stage(`ctx.input('data'); writeFileSync(join(ctx.outDir, 'result.json'), JSON.stringify(ctx.params));`));
  writeFileSync(join(dir, 'stages', 'aggregate.mjs'), stage(`writeFileSync(join(ctx.outDir, 'table.json'), JSON.stringify({ ...ctx.params, runs: ctx.inputs.runs.length }));`));
  writeFileSync(join(dir, 'stages', 'plot.mjs'), stage(`ctx.input('table'); writeFileSync(join(ctx.outDir, 'figure.json'), JSON.stringify(ctx.params));`));
  writeFileSync(join(dir, 'stages', 'report.mjs'), stage(`writeFileSync(join(ctx.outDir, 'index.json'), JSON.stringify({ figures: ctx.inputs.figures.length }));`));
}

function writeSnakefile(dir, useShell) {
  mkdirSync(dir, { recursive: true });
  const body = (what) =>
    useShell
      ? `    shell: "echo ${what} > {output}"`
      : `    run:\n        with open(output[0], "w") as f: f.write("${what}\\n")`;
  const py = `# generated by bench/engine.mjs: the same DAG as the iwdl project
EXPS = {${EXPERIMENTS.map((e) => `"${e.id}": "${e.dataset}"`).join(', ')}}
DATASETS = [${DATASETS.map((d) => `"${d}"`).join(', ')}]
WEIGHTS = [${WEIGHTS.map((w) => `"${w}"`).join(', ')}]
SEEDS = [${SEEDS.map((s) => `"${s}"`).join(', ')}]

wildcard_constraints:
    exp="[A-Za-z0-9]+",
    dataset="[A-Za-z0-9]+",
    weight="[0-9.e-]+",
    seed="[0-9]+"

rule all:
    input: "report/index.txt"

rule download:
    output: "raw/raw.txt"
${body('download')}

rule preprocess:
    input: "raw/raw.txt"
    output: "pre/{dataset}.txt"
${body('{wildcards.dataset}')}

rule train:
    input: lambda w: f"pre/{EXPS[w.exp]}.txt"
    output: "train/{exp}/w{weight}-s{seed}.txt"
${body('{wildcards.exp} {wildcards.weight} {wildcards.seed}')}

rule aggregate:
    input: lambda w: expand("train/{exp}/w{weight}-s{seed}.txt", exp=w.exp, weight=WEIGHTS, seed=SEEDS)
    output: "agg/{exp}.txt"
${body('{wildcards.exp}')}

rule plot:
    input: "agg/{exp}.txt"
    output: "plot/{exp}.txt"
${body('{wildcards.exp}')}

rule report:
    input: expand("plot/{exp}.txt", exp=list(EXPS))
    output: "report/index.txt"
${body('report')}
`;
  writeFileSync(join(dir, 'Snakefile'), py);
}

// ---------------------------------------------------------------------------
// Measurements.

if (!existsSync(CLI)) {
  console.error(`bench: ${CLI} does not exist; build first (npx tsc -b, or npm run bench)`);
  process.exit(2);
}

const root = mkdtempSync(join(tmpdir(), 'iwdl-bench-'));
timeFile = join(root, 'time.txt');
const load1 = () => Number(loadavg()[0].toFixed(2));
const results = {
  machine: { cpus: cpus().length, availableParallelism: availableParallelism(), cpu: cpus()[0]?.model ?? '', node: process.version, platform: `${process.platform}-${process.arch}`, loadavg1_before: load1() },
  dag: { nodes: NODES, experiments: EXPERIMENTS.length, weights: WEIGHTS.length, seeds: SEEDS.length, train: EXPERIMENTS.length * WEIGHTS.length * SEEDS.length },
  jobs: JOBS,
  runs: RUNS,
};

try {
  log(`iwdl engine benchmark: ${NODES} nodes (${results.dag.train} train = ${EXPERIMENTS.length} experiments x ${WEIGHTS.length} weights x ${SEEDS.length} seeds), -j ${JOBS}, ${cpus().length} CPU(s), Node ${process.version}, load average ${load1()}`);
  log(`work dir: ${root}`);
  const fmt = (r) => `${sec(r.ms)} s (cpu ${sec(r.cpu)} s)`;
  const secs = (r) => ({ s: r.ms / 1000, cpu_s: r.cpu / 1000, ...(r.samples ? { samples_s: r.samples.map((x) => x.ms / 1000) } : {}) });

  // Baseline.
  await timed(['node', '-e', '0']); // warm the page cache
  const node0 = await repeat(RUNS, () => timed(['node', '-e', '0']));
  results.baseline = { node_e0: secs(node0) };
  log(`baseline: node -e 0 ${fmt(node0)} (median of ${RUNS})`);

  // iwdl.
  const proj = join(root, 'iwdl');
  writeIwdlProject(proj);
  const iwdlLog = join(root, 'iwdl.log');
  const env = { CI: '1' };
  const iw = (...extra) => ['node', CLI, '-C', proj, '-j', String(JOBS), ...extra];
  const resetIwdl = () => {
    for (const p of ['cache', 'artifacts', 'pipeline.lock']) rmSync(join(proj, p), { recursive: true, force: true });
  };

  const dryCold = await timed(iw('--dry-run'), { env, logFile: iwdlLog });
  log(`iwdl: cold --dry-run (plan ${NODES} nodes, nothing cached) ${fmt(dryCold)}`);

  const cold = await repeat(COLD_RUNS, async () => {
    resetIwdl();
    writeFileSync(iwdlLog, '');
    const r = await timed(iw(), { env, logFile: iwdlLog });
    const m = /done: (\d+) ran, (\d+) cached/.exec(readFileSync(iwdlLog, 'utf8'));
    if (!m || Number(m[1]) !== NODES) throw new Error(`iwdl cold run ran ${m?.[1]} node(s), expected ${NODES}; see ${iwdlLog}`);
    return r;
  });
  const perNodeMs = (cold.ms - node0.ms) / NODES;
  const perNodeCpuMs = (cold.cpu - node0.cpu) / NODES;
  log(`iwdl: cold run ${fmt(cold)} (median of ${COLD_RUNS}: ${list(cold)}), ${NODES} nodes ran, engine overhead ${perNodeMs.toFixed(2)} ms/node (cpu ${perNodeCpuMs.toFixed(2)} ms/node)`);

  const noopLog = join(root, 'iwdl-noop.log');
  const noop = await repeat(RUNS, async () => {
    writeFileSync(noopLog, '');
    const r = await timed(iw(), { env, logFile: noopLog });
    const text = readFileSync(noopLog, 'utf8');
    if (!/\b0 node\(s\) to run, \d+ cached/.test(text) || !new RegExp(`done: 0 ran, ${NODES} cached`).test(text)) {
      throw new Error(`iwdl no-op rerun was not a no-op; see ${noopLog}`);
    }
    return r;
  });
  log(`iwdl: no-op rerun ${fmt(noop)} (median of ${RUNS}: ${list(noop)}; the first one follows the cold run)`);

  const dryLog = join(root, 'iwdl-dry.log');
  const dry = await repeat(RUNS, async () => {
    writeFileSync(dryLog, '');
    const r = await timed(iw('--dry-run'), { env, logFile: dryLog });
    if (!/: 0 node\(s\) to run/.test(readFileSync(dryLog, 'utf8'))) throw new Error(`iwdl no-op --dry-run plans work; see ${dryLog}`);
    return r;
  });
  log(`iwdl: no-op --dry-run ${fmt(dry)} (median of ${RUNS}: ${list(dry)})`);

  results.iwdl = {
    nodes: NODES,
    cold_dry_run: secs(dryCold),
    cold_run: secs(cold),
    overhead_per_node_ms: perNodeMs,
    overhead_per_node_cpu_ms: perNodeCpuMs,
    noop_run: secs(noop),
    noop_dry_run: secs(dry),
  };

  // Snakemake.
  results.snakemake = null;
  const snakemake = argv.snakemake ? await which('snakemake', { nothrow: true }) : null;
  if (!argv.snakemake) {
    log('snakemake: skipped (--no-snakemake)');
  } else if (!snakemake) {
    log('snakemake not installed (Debian: apt-get install snakemake); skipping the comparison');
  } else {
    const version = (await $`snakemake --version`.nothrow()).stdout.trim();
    const smk = join(root, 'snakemake');
    writeSnakefile(smk, SMK_SHELL);
    const smkLog = join(root, 'snakemake.log');
    const resetSmk = () => {
      for (const p of ['raw', 'pre', 'train', 'agg', 'plot', 'report', '.snakemake']) rmSync(join(smk, p), { recursive: true, force: true });
    };
    const kind = SMK_SHELL ? 'shell:' : 'run:';
    const py0 = await repeat(RUNS, () => timed(['python3', '-c', 'pass']));
    const sm = (...extra) => ['snakemake', '--cores', String(JOBS), '--quiet', ...extra];
    const checkOutputs = (what) => {
      const n = readdirSync(join(smk, 'train'), { recursive: true }).filter((f) => String(f).endsWith('.txt')).length;
      if (n !== results.dag.train || !existsSync(join(smk, 'report', 'index.txt'))) throw new Error(`snakemake ${what} did not produce every output; see ${smkLog}`);
    };

    const greedy = await timed(sm('--scheduler', 'greedy'), { cwd: smk, logFile: smkLog });
    checkOutputs('--scheduler greedy');
    const greedyPerJob = (greedy.ms - py0.ms) / NODES;
    log(`snakemake ${version} (${kind} jobs): cold, --scheduler greedy ${fmt(greedy)}, ${greedyPerJob.toFixed(2)} ms/job`);
    resetSmk();
    const smCold = await timed(sm(), { cwd: smk, logFile: smkLog });
    checkOutputs('(default scheduler)');
    const smPerJob = (smCold.ms - py0.ms) / NODES;
    log(`snakemake: cold, default (ilp) scheduler ${fmt(smCold)}, ${smPerJob.toFixed(2)} ms/job`);

    const smRuns = Math.min(RUNS, 3);
    const dryText = (await $({ cwd: smk, nothrow: true })`snakemake --cores ${JOBS} -n`).toString();
    if (!/Nothing to be done/.test(dryText)) throw new Error(`snakemake no-op dry run is not a no-op:\n${dryText.slice(-2000)}`);
    const smDry = await repeat(smRuns, () => timed(sm('-n'), { cwd: smk, logFile: smkLog }));
    const smNoop = await repeat(smRuns, () => timed(sm(), { cwd: smk, logFile: smkLog }));
    log(`snakemake: no-op -n ${fmt(smDry)}, no-op run ${fmt(smNoop)} (medians of ${smRuns}); python3 -c pass ${fmt(py0)}`);
    results.snakemake = {
      version,
      job_kind: SMK_SHELL ? 'shell' : 'run',
      jobs: NODES,
      python_startup: secs(py0),
      cold_run: secs(smCold),
      per_job_ms: smPerJob,
      cold_run_greedy: secs(greedy),
      per_job_greedy_ms: greedyPerJob,
      noop_dry_run: secs(smDry),
      noop_run: secs(smNoop),
    };
  }

  // Targets and table.
  const targets = {
    noop_run_le_0_2_s: { target_s: 0.2, value_s: noop.ms / 1000, met: noop.ms <= 200 },
    overhead_per_node_le_5_ms: { target_ms: 5, value_ms: perNodeMs, met: perNodeMs <= 5 },
  };
  results.targets = targets;
  results.machine.loadavg1_after = load1();

  const s = results.snakemake;
  const f3 = (x) => x.toFixed(3);
  const rows = [
    ['', 'iwdl', s ? `snakemake ${s.version}` : 'snakemake'],
    ['nodes / jobs', String(NODES), s ? `${s.jobs} (${s.job_kind}:)` : '-'],
    ['runtime start-up (s)', sec(node0.ms), s ? f3(s.python_startup.s) : '-'],
    ['cold run (s)', sec(cold.ms), s ? f3(s.cold_run.s) : '-'],
    ['  per node / job (ms)', perNodeMs.toFixed(2), s ? s.per_job_ms.toFixed(2) : '-'],
    ['cold run, --scheduler greedy (s)', '', s ? f3(s.cold_run_greedy.s) : '-'],
    ['  per job (ms)', '', s ? s.per_job_greedy_ms.toFixed(2) : '-'],
    ['no-op dry run (s)', sec(dry.ms), s ? f3(s.noop_dry_run.s) : '-'],
    ['no-op rerun (s)', sec(noop.ms), s ? f3(s.noop_run.s) : '-'],
    ['cpu: cold run (s)', sec(cold.cpu), s ? f3(s.cold_run.cpu_s) : '-'],
    ['cpu: no-op rerun (s)', sec(noop.cpu), s ? f3(s.noop_run.cpu_s) : '-'],
  ];
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
  log('');
  log(`Results (-j ${JOBS} / --cores ${JOBS}; wall time of the whole process tree; iwdl cold = median of ${COLD_RUNS}, no-op = medians of ${RUNS}${s ? `, snakemake no-op = medians of ${Math.min(RUNS, 3)}` : ''};`);
  log(`runtime start-up = \`node -e 0\` / \`python3 -c pass\`; per node = (cold - start-up) / nodes; load average (1 min) ${results.machine.loadavg1_before} before, ${results.machine.loadavg1_after} after):`);
  for (const [i, r] of rows.entries()) {
    log(`  ${r[0].padEnd(w[0])}  ${r[1].padStart(w[1])}  ${r[2].padStart(w[2])}`);
    if (i === 0) log(`  ${'-'.repeat(w[0])}  ${'-'.repeat(w[1])}  ${'-'.repeat(w[2])}`);
  }
  log('');
  log('Targets:');
  log(`  no-op rerun, CLI invoked directly <= 0.200 s: ${sec(noop.ms)} s  ${targets.noop_run_le_0_2_s.met ? 'MET' : 'MISSED'}`);
  log(`  engine overhead per trivial node <= 5 ms:     ${perNodeMs.toFixed(2)} ms  ${targets.overhead_per_node_le_5_ms.met ? 'MET' : 'MISSED'}`);
  if (s) {
    const x = (a, b) => (a / b).toFixed(1);
    log(`  iwdl vs snakemake: cold ${x(s.cold_run.s * 1000, cold.ms)}x (${x(s.cold_run_greedy.s * 1000, cold.ms)}x vs greedy), no-op dry run ${x(s.noop_dry_run.s * 1000, dry.ms)}x, no-op run ${x(s.noop_run.s * 1000, noop.ms)}x faster`);
  }

  if (argv.json) {
    writeFileSync(resolve(argv.json), JSON.stringify(results, null, 2) + '\n');
    log(`\nJSON written to ${resolve(argv.json)}`);
  }
} finally {
  if (argv.keep) log(`kept: ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
