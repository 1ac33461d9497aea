/**
 * A throwaway project directory with a pipeline.yaml and `.mjs` stage
 * modules, driven through the real CLI in a subprocess. Engine tests use
 * pipelines that have nothing to do with ML, so a failure points at the
 * engine.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class FixtureProject {
  readonly dir: string;

  constructor(files: Record<string, string>) {
    this.dir = mkdtempSync(join(tmpdir(), 'iwdl-fixture-'));
    for (const [path, text] of Object.entries(files)) this.write(path, text);
    // Stage modules import packages (zod) the way the real project's do.
    symlinkSync(fileURLToPath(new URL('../../../node_modules', import.meta.url)), join(this.dir, 'node_modules'), 'dir');
  }

  write(path: string, text: string): void {
    const full = join(this.dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  }

  read(path: string): string {
    return readFileSync(join(this.dir, path), 'utf8');
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  async cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    const r = await this.spawn(args, env);
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  spawn(args: string[], env: Record<string, string> = {}): ResultPromise<{ reject: false; all: false }> {
    return execa('node', [CLI, '-C', this.dir, ...args], {
      reject: false,
      all: false,
      env: { CI: '1', FIXTURE_DIR: this.dir, ...env },
      stdin: 'ignore',
    }) as unknown as ResultPromise<{ reject: false; all: false }>;
  }

  /** Parsed `--json` outcome list of a run or dry run. */
  async json(args: string[], env: Record<string, string> = {}): Promise<{ result: CliResult; nodes: Outcome[] }> {
    const result = await this.cli([...args, '--json'], env);
    let nodes: Outcome[] = [];
    try {
      nodes = JSON.parse(result.stdout) as Outcome[];
    } catch {
      throw new Error(`--json printed no JSON (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
    }
    return { result, nodes };
  }

  /** Lines a stage appended to runs.log: one per execution, so tests can count what really ran. */
  runs(): string[] {
    try {
      return this.read('runs.log').trim().split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }

  clearRuns(): void {
    rmSync(join(this.dir, 'runs.log'), { force: true });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Outcome {
  node: string;
  stage: string;
  status: string;
  reasons: string[];
  key?: string;
}

export function byStatus(nodes: Outcome[], status: string): string[] {
  return nodes.filter((n) => n.status === status).map((n) => n.node).sort();
}

/**
 * A small grid pipeline: source -> train (weight x seed) -> aggregate.
 * Every stage appends its node name to runs.log in the project directory
 * (a side channel for counting executions; never an output).
 */
export function gridProject(): FixtureProject {
  return new FixtureProject({
    'pipeline.yaml': `
vars:
  n: 3
  weights: [1, 0.5, 0.25]
  seeds: [1, 2]
profiles:
  smoke:
    n: 2
    seeds: [1]
  quick: {}
default_profile: quick
stages:
  source:
    module: stages/source.mjs
    params:
      n: \${n}
  train:
    module: stages/train.mjs
    matrix:
      weight: \${weights}
      seed: \${seeds}
    name: w\${item.weight}-s\${item.seed}
    params:
      weight: \${item.weight}
      seed: \${item.seed}
    needs:
      data: source
  aggregate:
    module: stages/aggregate.mjs
    needs:
      runs: train@*
`,
    'stages/lib/record.mjs': `
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
export function recordRun(node) {
  appendFileSync(join(process.env.FIXTURE_DIR ?? '.', 'runs.log'), node + '\\n');
}
`,
    'stages/source.mjs': `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordRun } from './lib/record.mjs';
export default {
  async run(ctx) {
    recordRun(ctx.node);
    writeFileSync(join(ctx.outDir, 'data.json'), JSON.stringify(Array.from({ length: ctx.params.n }, (_, i) => i + 1)));
  },
};
`,
    'stages/lib/math.mjs': `
export function weightedSum(xs, w) { return xs.reduce((a, b) => a + b * w, 0); }
`,
    'stages/train.mjs': `
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { recordRun } from './lib/record.mjs';
import { weightedSum } from './lib/math.mjs';
export default {
  async run(ctx) {
    recordRun(ctx.node);
    const data = JSON.parse(readFileSync(join(ctx.input('data'), 'data.json'), 'utf8'));
    for (let i = 1; i <= 4; i++) ctx.progress(i, 4, { loss: 1 / i });
    console.log('training', ctx.node);
    mkdirSync(join(ctx.outDir, 'metrics'), { recursive: true });
    writeFileSync(join(ctx.outDir, 'metrics', 'result.json'), JSON.stringify({ value: weightedSum(data, ctx.params.weight) + ctx.params.seed }));
  },
};
`,
    'stages/aggregate.mjs': `
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordRun } from './lib/record.mjs';
export default {
  async run(ctx) {
    recordRun(ctx.node);
    let total = 0;
    for (const r of ctx.inputs.runs) total += JSON.parse(readFileSync(join(r.dir, 'metrics', 'result.json'), 'utf8')).value;
    writeFileSync(join(ctx.outDir, 'total.txt'), String(total));
  },
};
`,
  });
}
