import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputRef, StageContext, StageDefinition } from '../../src/engine/stage.js';
import type { JsonObject, NodeName } from '../../src/engine/types.js';

/**
 * Runs a stage module's `run()` the way the engine does, without the engine:
 * params parsed by the stage's schema, inputs as directories, a fresh output
 * and checkpoint directory. For tests of stages as pure functions of
 * (params, inputs).
 */

export interface StageRun {
  outDir: string;
  checkpointDir: string;
  logs: string[];
  progress: Array<{ done: number; total: number; info?: Record<string, string | number> }>;
}

export function tempDir(prefix = 'iwdl-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface RunStageOptions {
  /** Input name -> upstream output directories. */
  inputs?: Record<string, string[]>;
  /** Where to put outDir/checkpointDir (default: a new temp directory). */
  root?: string;
  node?: string;
  /** Reuse a checkpoint directory (to test resuming). */
  checkpointDir?: string;
}

export async function runStage<P>(stage: StageDefinition<P>, rawParams: unknown, options: RunStageOptions = {}): Promise<StageRun> {
  const root = options.root ?? tempDir();
  const outDir = join(root, 'out');
  const checkpointDir = options.checkpointDir ?? join(root, 'checkpoint');
  mkdirSync(outDir, { recursive: true });
  mkdirSync(checkpointDir, { recursive: true });
  const params = (stage.params ? stage.params.parse(rawParams) : rawParams) as P;
  const inputs: Record<string, InputRef[]> = {};
  for (const [name, dirs] of Object.entries(options.inputs ?? {})) {
    inputs[name] = dirs.map((dir, i) => ({ node: `${name}@${i}` as NodeName, dir, item: {}, params: {} as JsonObject }));
  }
  const run: StageRun = { outDir, checkpointDir, logs: [], progress: [] };
  const ctx: StageContext<P> = {
    params,
    inputs,
    input(name: string): string {
      const list = inputs[name];
      if (!list || list.length !== 1) throw new Error(`input '${name}' has ${list?.length ?? 0} nodes`);
      return list[0]!.dir;
    },
    outDir,
    checkpointDir,
    threads: 1,
    node: (options.node ?? 'test') as NodeName,
    progress(done, total, info) {
      run.progress.push({ done, total, info });
    },
    log(message) {
      run.logs.push(message);
    },
  };
  await stage.run(ctx);
  return run;
}
