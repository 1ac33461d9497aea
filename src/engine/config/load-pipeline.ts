import type { ZodIssue } from 'zod';
import type { JsonObject, NodeName } from '../types.js';
import { ConfigError, ConfigErrors } from './config-error.js';
import { interpolate, InterpolationError, type Scope } from './interpolate.js';
import { deepMerge, hasPath, isPlainObject, parseOverride, setPath, type Override } from './overrides.js';
import { formatPath, PipelineFile, type KeyPath } from './pipeline-file.js';
import { NAME, pipelineSchema, stageSchema, type Resources, type StageConfig, type Tolerance } from './schema.js';

/** One node of the expanded DAG, before its stage module has validated its params. */
export interface NodeDef {
  name: NodeName;
  stage: string;
  /** Stage module as written in pipeline.yaml (project-relative). */
  module: string;
  /** The matrix / foreach item this node was expanded from ({} for a plain stage). */
  item: JsonObject;
  params: JsonObject;
  /** Input name -> upstream nodes, in the order they were declared / matched. */
  needs: Record<string, NodeName[]>;
}

export interface StageDef {
  name: string;
  module: string;
  desc?: string;
  nodes: NodeName[];
  /** Tolerances an audit applies to this stage's outputs. */
  tolerances?: Tolerance[];
  /** Slurm resources (pipeline-wide `slurm:` defaults merged with the stage's `resources:`). */
  resources?: Resources;
  /** Project directory this stage's outputs are copied to after a successful run. */
  publish?: string;
}

export interface Pipeline {
  file: PipelineFile;
  profile: string;
  profiles: string[];
  vars: Record<string, unknown>;
  stages: Map<string, StageDef>;
  nodes: Map<NodeName, NodeDef>;
  /** Topological order, stable with respect to declaration order. */
  order: NodeName[];
  executor?: 'local' | 'slurm';
}

export interface LoadOptions {
  path: string;
  displayPath?: string;
  /** Where the parsed file may be memoized (see PipelineFile). */
  memoPath?: string;
  profile?: string;
  sets?: string[];
}

const RESERVED = new Set(['item', 'key', 'profile']);
const NODE_SUFFIX = /^[A-Za-z0-9._+=-]+$/;

export function loadPipeline(options: LoadOptions): Pipeline {
  const file = PipelineFile.load(options.path, options.displayPath, options.memoPath);
  return expandPipeline(file, options);
}

export function expandPipeline(file: PipelineFile, options: Omit<LoadOptions, 'path'>): Pipeline {
  const raw = file.toJS();
  if (!isPlainObject(raw)) {
    throw new ConfigError('the pipeline file must be a mapping with a `stages:` key', file.where([]));
  }
  const top = pipelineSchema.safeParse(raw);
  if (!top.success) throw zodToConfigErrors(file, [], top.error.issues);
  const config = top.data;

  const stageConfigs = new Map<string, StageConfig>();
  const errors: ConfigError[] = [];
  for (const [name, value] of Object.entries(config.stages)) {
    if (!NAME.test(name)) {
      errors.push(new ConfigError(`'${name}' is not a valid stage name (start with a letter; letters, digits, _ and - only)`, file.where(['stages', name], { key: true })));
      continue;
    }
    const parsed = stageSchema.safeParse(value);
    if (!parsed.success) {
      errors.push(...zodToConfigErrors(file, ['stages', name], parsed.error.issues).errors);
      continue;
    }
    if (parsed.data.matrix !== undefined && parsed.data.foreach !== undefined) {
      errors.push(new ConfigError('use either matrix: or foreach:, not both', file.where(['stages', name, 'foreach'], { key: true })));
      continue;
    }
    stageConfigs.set(name, parsed.data);
  }
  if (errors.length) throw new ConfigErrors(errors);
  if (stageConfigs.size === 0) {
    throw new ConfigError('no stages declared; add at least one under `stages:`', file.where(['stages'], { key: true }));
  }

  // Profiles select var values; --set then overrides vars or stage params.
  const profiles = Object.keys(config.profiles ?? {});
  let profile = options.profile ?? config.default_profile ?? (profiles.length ? profiles[0]! : 'default');
  if (options.profile !== undefined && profiles.length && !profiles.includes(options.profile)) {
    throw new ConfigError(`unknown profile '${options.profile}'; ${file.displayPath} defines: ${profiles.join(', ')}`, '--profile');
  }
  if (options.profile === undefined && config.default_profile !== undefined && !profiles.includes(config.default_profile)) {
    throw new ConfigError(
      `default_profile '${config.default_profile}' is not defined under profiles: (defined: ${profiles.join(', ') || 'none'})`,
      file.where(['default_profile']),
    );
  }
  if (!profiles.length && options.profile !== undefined) {
    throw new ConfigError(`--profile ${options.profile} given but ${file.displayPath} defines no profiles:`, '--profile');
  }
  profile = profile || 'default';

  // A copy: --set may write inside nested vars, and the parsed file is shared with its memo.
  let vars: Record<string, unknown> = structuredClone(config.vars ?? {});
  for (const name of Object.keys(vars)) {
    if (RESERVED.has(name)) {
      throw new ConfigError(`'${name}' is reserved for interpolation (\${${name}}); rename this var`, file.where(['vars', name], { key: true }));
    }
  }
  const profileVars = config.profiles?.[profile] ?? {};
  for (const [name, value] of Object.entries(profileVars)) {
    if (!Object.hasOwn(vars, name)) {
      throw new ConfigError(
        `profile '${profile}' sets '${name}', which is not declared under vars: (declare its default there)`,
        file.where(['profiles', profile, name], { key: true }),
      );
    }
    vars[name] = deepMerge(vars[name], value);
  }

  const overrides = (options.sets ?? []).map(parseOverride);
  const stageOverrides = new Map<string, Override[]>();
  for (const o of overrides) {
    const [head, ...rest] = o.path;
    const explicitVar = head === 'vars' && rest.length > 0;
    const explicitStage = head === 'stages' && rest.length > 2 && rest[1] === 'params';
    const isVar = explicitVar || (!explicitStage && Object.hasOwn(vars, head!));
    const isStage = explicitStage || (!explicitVar && stageConfigs.has(head!) && rest.length > 0);
    if (isVar && isStage && !explicitVar && !explicitStage) {
      throw new ConfigError(`'${head}' is both a var and a stage; write vars.${o.path.join('.')} or stages.${head}.params.${rest.join('.')}`, `--set ${o.raw}`);
    }
    if (isVar) {
      const path = explicitVar ? rest : o.path;
      if (!Object.hasOwn(vars, path[0]!)) {
        throw new ConfigError(`no var '${path[0]}' (vars: ${Object.keys(vars).sort().join(', ') || 'none'})`, `--set ${o.raw}`);
      }
      vars = { ...vars };
      if (path.length === 1) vars[path[0]!] = o.value;
      else if (!setPath(vars, path, o.value)) throw new ConfigError(`cannot set inside a non-mapping value`, `--set ${o.raw}`);
    } else if (isStage) {
      const stage = explicitStage ? rest[0]! : head!;
      const paramPath = explicitStage ? rest.slice(2) : rest;
      const list = stageOverrides.get(stage) ?? [];
      list.push({ ...o, path: paramPath });
      stageOverrides.set(stage, list);
    } else {
      throw new ConfigError(
        `'${head}' is neither a var (${Object.keys(vars).sort().join(', ') || 'none'}) nor a stage (${[...stageConfigs.keys()].join(', ')}); stage params are set as <stage>.<param>=value`,
        `--set ${o.raw}`,
      );
    }
  }

  // Expand every stage into nodes.
  const nodes = new Map<NodeName, NodeDef>();
  const stages = new Map<string, StageDef>();
  const pendingNeeds: Array<{ node: NodeDef; needs: Record<string, string[]> }> = [];
  for (const [stageNameValue, sc] of stageConfigs) {
    const base: KeyPath = ['stages', stageNameValue];
    const resources = config.slurm || sc.resources ? { ...config.slurm, ...sc.resources } : undefined;
    const stage: StageDef = {
      name: stageNameValue,
      module: sc.module,
      desc: sc.desc,
      nodes: [],
      ...(sc.audit ? { tolerances: sc.audit.tolerances } : {}),
      ...(resources ? { resources } : {}),
      ...(sc.publish ? { publish: sc.publish } : {}),
    };
    stages.set(stageNameValue, stage);
    const globalScope: Scope = { ...vars, profile };
    const items = expandItems(file, base, sc, globalScope);
    for (const { item, key } of items) {
      const expanded = sc.matrix !== undefined || sc.foreach !== undefined;
      const scope: Scope = { ...globalScope, ...(expanded ? { item: item.value } : {}), ...(key !== undefined ? { key } : {}) };
      const name = nodeName(file, base, stageNameValue, sc, item, key, scope);
      if (nodes.has(name)) {
        throw new ConfigError(
          `two nodes are both named '${name}'; give the stage a name: template that tells them apart, e.g. name: "\${item.a}-\${item.b}"`,
          file.where([...base, sc.name !== undefined ? 'name' : sc.matrix !== undefined ? 'matrix' : 'foreach']),
        );
      }
      let params = withScope(file, () => interpolate(sc.params ?? {}, scope, [...base, 'params'])) as JsonObject;
      for (const o of stageOverrides.get(stageNameValue) ?? []) {
        params = structuredClone(params);
        if (!setPath(params, o.path, o.value)) throw new ConfigError(`cannot set inside a non-mapping param`, `--set ${o.raw}`);
      }
      const needsRaw = withScope(file, () => interpolate(sc.needs ?? {}, scope, [...base, 'needs'])) as Record<string, unknown>;
      const needs: Record<string, string[]> = {};
      for (const [inputName, v] of Object.entries(needsRaw)) {
        const list = Array.isArray(v) ? v : [v];
        for (const ref of list) {
          if (typeof ref !== 'string') {
            throw new ConfigError(`a need must be a node reference string like 'stage' or 'stage@name', got ${JSON.stringify(ref)}`, file.where([...base, 'needs', inputName]));
          }
        }
        needs[inputName] = list as string[];
      }
      const module = sc.module.includes('${') ? String(withScope(file, () => interpolate(sc.module, scope, [...base, 'module']))) : sc.module;
      const node: NodeDef = {
        name,
        stage: stageNameValue,
        module,
        item: toJsonObject(item.value),
        params,
        needs: {},
      };
      nodes.set(name, node);
      stage.nodes.push(name);
      pendingNeeds.push({ node, needs });
    }
  }
  for (const [stage, list] of stageOverrides) {
    if (!stages.has(stage)) throw new ConfigError(`no stage '${stage}'`, `--set ${list[0]!.raw}`);
  }

  // Resolve node references now that every node exists.
  for (const { node, needs } of pendingNeeds) {
    for (const [inputName, refs] of Object.entries(needs)) {
      const resolved: NodeName[] = [];
      for (const ref of refs) {
        const matched = resolveRef(ref, stages);
        const where = matched !== 'unknown-stage' && matched.length > 0 ? '' : file.where(['stages', node.stage, 'needs', inputName]);
        if (matched === 'unknown-stage') {
          const stageOf = ref.split('@')[0];
          throw new ConfigError(`'${ref}' (in node ${node.name}) refers to unknown stage '${stageOf}'; stages: ${[...stages.keys()].join(', ')}`, where);
        }
        if (matched.length === 0) {
          throw new ConfigError(`'${ref}' (in node ${node.name}) matches no node of stage '${ref.split('@')[0]}'`, where, [
            `nodes of that stage: ${stages.get(ref.split('@')[0]!)!.nodes.slice(0, 8).join(', ')}${stages.get(ref.split('@')[0]!)!.nodes.length > 8 ? ', ...' : ''}`,
          ]);
        }
        for (const m of matched) if (!resolved.includes(m)) resolved.push(m);
      }
      node.needs[inputName] = resolved;
    }
  }

  const order = topologicalOrder(file, nodes);
  return { file, profile, profiles, vars, stages, nodes, order, ...(config.executor ? { executor: config.executor } : {}) };
}

/** The expanded DAG as plain JSON, for the plan memo (see project.ts). */
export interface SerializedPipeline {
  executor?: 'local' | 'slurm';
  profile: string;
  profiles: string[];
  vars: Record<string, unknown>;
  stages: StageDef[];
  nodes: NodeDef[];
  order: NodeName[];
}

export function serializePipeline(p: Pipeline): SerializedPipeline {
  return { executor: p.executor, profile: p.profile, profiles: p.profiles, vars: p.vars, stages: [...p.stages.values()], nodes: [...p.nodes.values()], order: p.order };
}

export function deserializePipeline(file: PipelineFile, s: SerializedPipeline): Pipeline {
  return {
    file,
    profile: s.profile,
    profiles: s.profiles,
    vars: s.vars,
    stages: new Map(s.stages.map((st) => [st.name, st])),
    nodes: new Map(s.nodes.map((n) => [n.name, n])),
    order: s.order,
    ...(s.executor ? { executor: s.executor } : {}),
  };
}

function withScope<T>(file: PipelineFile, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InterpolationError) throw new ConfigError(err.message, file.where(err.path));
    throw err;
  }
}

interface Item {
  value: unknown;
}

function expandItems(file: PipelineFile, base: KeyPath, sc: StageConfig, scope: Scope): Array<{ item: Item; key?: string }> {
  if (sc.matrix !== undefined) {
    const matrix = withScope(file, () => interpolate(sc.matrix, scope, [...base, 'matrix']));
    if (!isPlainObject(matrix)) {
      throw new ConfigError('matrix must be a mapping of name -> list of values', file.where([...base, 'matrix']));
    }
    const axes = Object.entries(matrix);
    if (axes.length === 0) throw new ConfigError('matrix expands to nothing: it has no axes', file.where([...base, 'matrix']));
    for (const [axis, values] of axes) {
      if (!Array.isArray(values)) {
        throw new ConfigError(`matrix axis '${axis}' must be a list, got ${JSON.stringify(values)}`, file.where([...base, 'matrix', axis]));
      }
      if (values.length === 0) {
        throw new ConfigError(`matrix expands to nothing: axis '${axis}' is an empty list`, file.where([...base, 'matrix', axis]));
      }
    }
    let combos: Record<string, unknown>[] = [{}];
    for (const [axis, values] of axes) {
      const next: Record<string, unknown>[] = [];
      for (const c of combos) for (const v of values as unknown[]) next.push({ ...c, [axis]: v });
      combos = next;
    }
    return combos.map((value) => ({ item: { value } }));
  }
  if (sc.foreach !== undefined) {
    const each = withScope(file, () => interpolate(sc.foreach, scope, [...base, 'foreach']));
    if (Array.isArray(each)) {
      if (each.length === 0) throw new ConfigError('foreach expands to nothing: the list is empty', file.where([...base, 'foreach']));
      return each.map((value) => ({ item: { value } }));
    }
    if (isPlainObject(each)) {
      const entries = Object.entries(each);
      if (entries.length === 0) throw new ConfigError('foreach expands to nothing: the mapping is empty', file.where([...base, 'foreach']));
      return entries.map(([key, value]) => ({ item: { value }, key }));
    }
    throw new ConfigError(`foreach must be a list or a mapping, got ${JSON.stringify(each)}`, file.where([...base, 'foreach']));
  }
  return [{ item: { value: {} } }];
}

function nodeName(file: PipelineFile, base: KeyPath, stage: string, sc: StageConfig, item: Item, key: string | undefined, scope: Scope): NodeName {
  if (sc.matrix === undefined && sc.foreach === undefined) {
    if (sc.name !== undefined) {
      throw new ConfigError('name: only applies to stages with matrix: or foreach:', file.where([...base, 'name'], { key: true }));
    }
    return stage as NodeName;
  }
  let suffix: string;
  if (sc.name !== undefined) {
    suffix = String(withScope(file, () => interpolate(sc.name, scope, [...base, 'name'])));
  } else if (key !== undefined) {
    suffix = key;
  } else {
    const v = item.value;
    const parts = isPlainObject(v) ? Object.values(v) : [v];
    if (parts.some((p) => p !== null && typeof p === 'object')) {
      throw new ConfigError(
        `items with nested values need a name: template to name their nodes, e.g. name: "\${item.id}"`,
        file.where([...base, sc.matrix !== undefined ? 'matrix' : 'foreach'], { key: true }),
      );
    }
    suffix = parts.map((p) => String(p)).join('-');
  }
  if (!NODE_SUFFIX.test(suffix)) {
    throw new ConfigError(
      `node name '${stage}@${suffix}' has characters outside [A-Za-z0-9._+=-]; give the stage a name: template`,
      file.where([...base, sc.name !== undefined ? 'name' : sc.matrix !== undefined ? 'matrix' : 'foreach']),
    );
  }
  return `${stage}@${suffix}` as NodeName;
}

function resolveRef(ref: string, stages: Map<string, StageDef>): NodeName[] | 'unknown-stage' {
  const at = ref.indexOf('@');
  const stageName = at < 0 ? ref : ref.slice(0, at);
  const stage = stages.get(stageName);
  if (!stage) return 'unknown-stage';
  if (at < 0) return [...stage.nodes];
  const pattern = ref.slice(at + 1);
  if (!/[*?]/.test(pattern)) return stage.nodes.filter((n) => n === ref);
  const re = new RegExp(
    '^' + pattern.replace(/[.+^${}()|[\]\\=]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$',
  );
  return stage.nodes.filter((n) => re.test(n.slice(stageName.length + 1)));
}

function topologicalOrder(file: PipelineFile, nodes: Map<NodeName, NodeDef>): NodeName[] {
  const state = new Map<NodeName, 1 | 2>();
  const order: NodeName[] = [];
  const stack: NodeName[] = [];
  const visit = (name: NodeName): void => {
    const s = state.get(name);
    if (s === 2) return;
    if (s === 1) {
      const cycle = [...stack.slice(stack.indexOf(name)), name];
      const stagesInCycle = [...new Set(cycle.map((n) => nodes.get(n)!.stage))];
      throw new ConfigError(`dependency cycle: ${cycle.join(' -> ')}`, file.where(['stages', stagesInCycle[0]!, 'needs'], { key: true }));
    }
    state.set(name, 1);
    stack.push(name);
    const node = nodes.get(name)!;
    for (const ups of Object.values(node.needs)) for (const up of ups) visit(up);
    stack.pop();
    state.set(name, 2);
    order.push(name);
  };
  // Iterative depth would be safer for huge chains; DAGs here are wide, not deep.
  for (const name of nodes.keys()) visit(name);
  return order;
}

function toJsonObject(value: unknown): JsonObject {
  if (isPlainObject(value)) return value as JsonObject;
  return { value: value as JsonObject[string] };
}

export function zodToConfigErrors(file: PipelineFile, base: KeyPath, issues: ZodIssue[]): ConfigErrors {
  return new ConfigErrors(
    issues.map((issue) => {
      const path = [...base, ...issue.path];
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys;
        return new ConfigError(
          `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}${allowedKeysHint(base, issue.path)}`,
          file.where([...path, keys[0]!], { key: true }),
        );
      }
      if (issue.code === 'invalid_type' && issue.received === 'undefined') {
        return new ConfigError(`missing required key '${String(issue.path[issue.path.length - 1])}'`, file.where(path.slice(0, -1)));
      }
      return new ConfigError(`${formatIssue(issue)}`, file.where(path));
    }),
  );
}

function allowedKeysHint(base: KeyPath, path: ReadonlyArray<string | number>): string {
  if (base.length === 0 && path.length === 0) return ' (allowed: version, default_profile, vars, profiles, executor, slurm, stages)';
  if (base[0] === 'stages' && base.length === 2 && path.length === 0) return ' (allowed: module, desc, params, needs, matrix, foreach, name, audit, resources, publish)';
  return '';
}

function formatIssue(issue: ZodIssue): string {
  if (issue.code === 'invalid_type') return `expected ${issue.expected}, got ${issue.received}`;
  if (issue.code === 'invalid_union') return 'has the wrong type';
  return issue.message;
}

export { formatPath };
