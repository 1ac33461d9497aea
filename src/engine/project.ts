import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { LocalCache } from './cache/local-cache.js';
import { ConfigError, ConfigErrors } from './config/config-error.js';
import { readFileSync } from 'node:fs';
import {
  deserializePipeline,
  expandPipeline,
  serializePipeline,
  type NodeDef,
  type Pipeline,
  type SerializedPipeline,
} from './config/load-pipeline.js';
import { PipelineFile } from './config/pipeline-file.js';
import { writeFileAtomic } from './cache/local-cache.js';
import { sha256 } from './hash.js';
import { Fingerprinter, type CodeFingerprint } from './fingerprint.js';
import { loadStageModule, type LoadedModule } from './module-loader.js';
import type { JsonObject, NodeName } from './types.js';

/** Where a project keeps things. Everything is relative to the directory holding pipeline.yaml. */
export interface ProjectPaths {
  root: string;
  pipelineFile: string;
  buildDir: string;
  cacheDir: string;
  lockFile: string;
  artifactsDir: string;
  reportsDir: string;
}

export function projectPaths(root: string, pipelineFile = 'pipeline.yaml', env = process.env): ProjectPaths {
  const abs = resolve(root);
  return {
    root: abs,
    pipelineFile: resolve(abs, pipelineFile),
    buildDir: resolve(abs, env.IWDL_BUILD_DIR ?? 'dist'),
    cacheDir: resolve(abs, env.IWDL_CACHE_DIR ?? 'cache'),
    lockFile: join(abs, 'pipeline.lock'),
    artifactsDir: join(abs, 'artifacts'),
    reportsDir: join(abs, 'reports'),
  };
}

/** A node ready to be keyed: its params validated by its stage, its code fingerprinted, its environment facts read. */
export interface PreparedNode {
  def: NodeDef;
  params: JsonObject;
  env: Record<string, string>;
  code: CodeFingerprint;
  compiled: string;
}

export interface LoadedProject {
  paths: ProjectPaths;
  pipeline: Pipeline;
  nodes: Map<NodeName, PreparedNode>;
  cache: LocalCache;
  warnings: string[];
  /** Persists the parse and plan memos; called by a run once it holds the cache. */
  saveMemos(): void;
}

/**
 * What loading computed, keyed by everything it depends on: the expansion by
 * (pipeline.yaml bytes, --profile, --set), each stage's validated params
 * additionally by the stage's code fingerprint (its schema lives there).
 * A no-op run on an unchanged pipeline then neither parses YAML nor expands
 * the matrix nor re-validates a thousand param sets.
 */
interface PlanMemo {
  key: string;
  pipeline: SerializedPipeline;
  validated: Record<string, { code: string; params: Record<string, JsonObject> }>;
}

export interface LoadProjectOptions {
  root: string;
  file?: string;
  profile?: string;
  sets?: string[];
}

/**
 * Parses and expands pipeline.yaml, loads every stage module, validates every
 * node's params against its stage's schema and computes code fingerprints.
 * All of it happens before anything is written, so a bad config fails with
 * nothing half-done.
 */
export async function loadProject(options: LoadProjectOptions): Promise<LoadedProject> {
  const paths = projectPaths(options.root, options.file);
  const displayPath = displayPathOf(paths.pipelineFile);
  const file = PipelineFile.load(paths.pipelineFile, displayPath, join(paths.cacheDir, 'pipeline-memo.json'));
  const memoPath = join(paths.cacheDir, 'plan-memo.json');
  const memoKey = sha256(`${file.digest}\u0000${options.profile ?? ''}\u0000${JSON.stringify(options.sets ?? [])}`);
  const memo = readPlanMemo(memoPath, memoKey);
  const pipeline = memo
    ? deserializePipeline(file, memo.pipeline)
    : expandPipeline(file, { profile: options.profile, sets: options.sets });
  const validated: PlanMemo['validated'] = {};
  let memoDirty = !memo;
  const fingerprinter = new Fingerprinter(paths.root, paths.buildDir);
  const modules = new Map<string, LoadedModule>();
  const warnings: string[] = [];
  const loadErrors: ConfigError[] = [];
  // A stage's module may be a template (`stages/plot/${key}.ts`): load each distinct module once.
  const moduleStage = new Map<string, string>();
  for (const def of pipeline.nodes.values()) if (!moduleStage.has(def.module)) moduleStage.set(def.module, def.stage);
  await Promise.all(
    [...moduleStage].map(async ([module, stage]) => {
      try {
        const loaded = await loadStageModule(paths.root, paths.buildDir, module, pipeline.file, stage);
        modules.set(module, loaded);
        if (loaded.staleWarning) warnings.push(loaded.staleWarning);
      } catch (err) {
        if (err instanceof ConfigError) loadErrors.push(err);
        else throw err;
      }
    }),
  );
  if (loadErrors.length) throw new ConfigErrors(loadErrors);

  const nodes = new Map<NodeName, PreparedNode>();
  const compiledRel = new Map<string, string>();
  const errors: ConfigError[] = [];
  for (const name of pipeline.order) {
    const def = pipeline.nodes.get(name)!;
    const mod = modules.get(def.module)!;
    const code = fingerprinter.fingerprint(mod.compiled);
    // Validated params are memoized per module: the schema lives in its code.
    let stageMemo = validated[def.module];
    if (!stageMemo) {
      const before = memo?.validated[def.module];
      stageMemo = before && before.code === code.digest ? before : { code: code.digest, params: {} };
      if (stageMemo !== before) memoDirty = true;
      validated[def.module] = stageMemo;
    }
    let params = def.params;
    const known = stageMemo.params[name];
    if (known) {
      params = known;
    } else if (mod.definition.params) {
      const parsed = mod.definition.params.safeParse(def.params);
      if (!parsed.success) {
        for (const issue of parsed.error.issues.slice(0, 5)) {
          const path = ['stages', def.stage, 'params', ...issue.path];
          const key = issue.path.length ? issue.path.join('.') : '(params)';
          let message = issue.message;
          if (issue.code === 'unrecognized_keys') message = `unknown param(s) ${issue.keys.map((k) => `'${k}'`).join(', ')} for ${def.module}`;
          else if (issue.code === 'invalid_type') {
            message = issue.received === 'undefined' ? `missing required param '${key}'` : `param '${key}': expected ${issue.expected}, got ${issue.received}`;
          } else message = `param '${key}': ${issue.message}`;
          errors.push(new ConfigError(`${message} (first in node ${name})`, pipeline.file.where(issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]!] : path, { key: issue.code === 'unrecognized_keys' })));
        }
        if (errors.length >= 10) break;
        continue;
      }
      params = parsed.data as JsonObject;
      stageMemo.params[name] = params;
      memoDirty = true;
    } else {
      stageMemo.params[name] = params;
      memoDirty = true;
    }
    let env: Record<string, string> = {};
    if (mod.definition.environment) {
      env = await mod.definition.environment(params);
    }
    let compiled = compiledRel.get(mod.compiled);
    if (compiled === undefined) {
      compiled = relative(paths.root, mod.compiled);
      compiledRel.set(mod.compiled, compiled);
    }
    nodes.set(name, { def, params, env, code, compiled });
  }
  if (errors.length) throw new ConfigErrors(dedupe(errors));
  const saveMemos = (): void => {
    file.memoize();
    if (memoDirty) {
      writeFileAtomic(memoPath, JSON.stringify({ key: memoKey, pipeline: serializePipeline(pipeline), validated } satisfies PlanMemo));
    }
  };
  return { paths, pipeline, nodes, cache: new LocalCache(paths.cacheDir), warnings, saveMemos };
}

function readPlanMemo(path: string, key: string): PlanMemo | undefined {
  try {
    const memo = JSON.parse(readFileSync(path, 'utf8')) as PlanMemo;
    return memo.key === key ? memo : undefined;
  } catch {
    return undefined;
  }
}

function dedupe(errors: ConfigError[]): ConfigError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = e.where + '|' + e.message.replace(/ \(first in node [^)]*\)$/, '');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A path as the user should see it: relative to where they are when that is shorter, else absolute. */
export function displayPathOf(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

export function defaultJobs(): number {
  return availableParallelism();
}
