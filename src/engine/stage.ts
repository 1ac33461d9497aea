import type { ZodType, ZodTypeDef } from 'zod';
import type { JsonObject, NodeName } from './types.js';

/** One upstream node's outputs as a stage sees them. */
export interface InputRef {
  /** Upstream node name, e.g. `train@cnn-w0.5-s1`. */
  node: NodeName;
  /** Directory holding the upstream node's outputs (read-only by contract). */
  dir: string;
  /** The upstream node's matrix/foreach item, so a fan-in stage knows what each input was. */
  item: JsonObject;
  /** The upstream node's resolved params. */
  params: JsonObject;
}

export interface ProgressInfo {
  [field: string]: string | number;
}

/** What the engine hands a stage. A stage never sees the cache, keys or scheduler. */
export interface StageContext<P> {
  params: P;
  /** Inputs by the names given under `needs:` in pipeline.yaml, each a list in declaration order. */
  inputs: Record<string, InputRef[]>;
  /** The directory of the single node bound to input `name`; throws if there is not exactly one. */
  input(name: string): string;
  /** Write every output here. Everything in it is committed to the cache when `run` resolves. */
  outDir: string;
  /** Survives a killed attempt of this exact node; deleted once the node's outputs are committed. */
  checkpointDir: string;
  /** Threads this node may use (cores divided among parallel workers). */
  threads: number;
  /** The node's name, for messages. */
  node: NodeName;
  /** Report progress; shown live on a terminal, throttled in logs. */
  progress(done: number, total: number, info?: ProgressInfo): void;
  /** Append a line to the node's log. */
  log(message: string): void;
}

export interface StageDefinition<P = JsonObject> {
  /** Schema of the node's params (zod). Unknown keys should be rejected (`.strict()`). */
  params?: ZodType<P, ZodTypeDef, unknown>;
  /**
   * Facts about the machine that change this stage's numbers (for example a
   * compute backend and its version). They enter the node key, so running
   * on a different backend re-executes rather than reusing foreign results.
   * Evaluated in the planning process: keep it cheap, no heavy imports.
   */
  environment?(params: P): Record<string, string> | Promise<Record<string, string>>;
  run(ctx: StageContext<P>): Promise<void>;
}

/** Identity at runtime; exists so stage modules get their params typed from the schema. */
export function defineStage<P>(definition: StageDefinition<P>): StageDefinition<P> {
  return definition;
}

export function isStageDefinition(value: unknown): value is StageDefinition<unknown> {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as { run?: unknown }).run === 'function'
  );
}
