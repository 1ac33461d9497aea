import type * as tfTypes from '@tensorflow/tfjs';
import { Rng } from '../data/rng.js';

/**
 * The parameters of a model: named tfjs variables, created from seeded
 * host-side initial values so that a model is a pure function of its seed.
 *
 * Initialization (a choice the paper leaves open): dense and convolution
 * layers by the scheme of `layerInit` (model option `init`, default 'glorot':
 * Glorot-uniform weights, zero biases, Keras's default); batch and layer
 * normalization scale 1, offset 0; the transformer as BERT (N(0, 0.02²)).
 * Every parameter draws from its own stream `Rng.stream(seed, 'init:<name>')`,
 * so adding a parameter never changes the others' initial values.
 *
 * Two kinds of variables:
 *   trainable  updated by the optimizer (and by L2 weight decay);
 *   state      updated by the forward pass in training mode (batch
 *              normalization running statistics), saved in checkpoints.
 */

export type Init =
  | { kind: 'uniform'; bound: number }
  | { kind: 'normal'; std: number }
  | { kind: 'const'; value: number };

/** PyTorch's default init of a weight or bias of a layer with `fanIn` inputs. */
export function fanInUniform(fanIn: number): Init {
  return { kind: 'uniform', bound: 1 / Math.sqrt(fanIn) };
}

/**
 * Initialization schemes of dense and convolution layers (model option `init`):
 *   glorot   (default) Keras's default: w uniform in ±sqrt(6/(fan_in + fan_out)), b = 0
 *   pytorch  PyTorch's nn.Linear / nn.Conv2d: w and b uniform in ±1/sqrt(fan_in)
 *   he       Kaiming normal for ReLU: w ~ N(0, 2/fan_in), b = 0
 *
 * Why not PyTorch's default: it shrinks the activations' variance about
 * sixfold per ReLU layer, so the paper's 8-layer CNN (no batch norm) starts
 * with nearly input-independent features and, at the paper's lr 0.1 without
 * momentum, sits at chance for many epochs (measured on 1,000 cat/dog images
 * at width 0.25: training loss 0.694 after 6 epochs, against 0.647 after 5
 * with Glorot and 0.642 with He). The paper does not say how it initialized.
 */
export type InitScheme = 'pytorch' | 'he' | 'glorot';
export const INIT_SCHEMES: readonly InitScheme[] = ['glorot', 'pytorch', 'he'];
export const DEFAULT_INIT: InitScheme = 'glorot';

export function layerInit(scheme: InitScheme, fanIn: number, fanOut: number): { w: Init; b: Init } {
  switch (scheme) {
    case 'pytorch':
      return { w: fanInUniform(fanIn), b: fanInUniform(fanIn) };
    case 'he':
      return { w: { kind: 'normal', std: Math.sqrt(2 / fanIn) }, b: { kind: 'const', value: 0 } };
    case 'glorot':
      return { w: { kind: 'uniform', bound: Math.sqrt(6 / (fanIn + fanOut)) }, b: { kind: 'const', value: 0 } };
  }
}

export function parseInitScheme(value: unknown): InitScheme {
  if (value === undefined || value === null) return DEFAULT_INIT;
  if (typeof value === 'string' && (INIT_SCHEMES as readonly string[]).includes(value)) return value as InitScheme;
  throw new Error(`model option init must be one of ${INIT_SCHEMES.join(', ')}, got ${JSON.stringify(value)}`);
}

export interface ParamInfo {
  name: string;
  shape: number[];
  trainable: boolean;
}

export interface TensorData {
  shape: number[];
  /** float32 for tfjs values; float64 for the JavaScript 2D trainer's. */
  data: Float32Array | Float64Array;
}

/** Host-side initial values (float64 draws rounded to float32). */
export function initialValues(seed: number, name: string, shape: readonly number[], init: Init): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (init.kind === 'const') {
    out.fill(init.value);
    return out;
  }
  const rng = Rng.stream(seed, `init:${name}`);
  if (init.kind === 'uniform') {
    for (let i = 0; i < n; i++) out[i] = (2 * rng.float() - 1) * init.bound;
  } else {
    for (let i = 0; i < n; i++) out[i] = rng.normal() * init.std;
  }
  return out;
}

export class ParamSet {
  private readonly vars = new Map<string, { v: tfTypes.Variable; info: ParamInfo }>();

  constructor(
    private readonly tf: typeof tfTypes,
    readonly seed: number,
    /** How dense and convolution layers initialize (see layerInit). */
    readonly scheme: InitScheme = DEFAULT_INIT,
  ) {}

  /** Adds a variable; names must be unique. */
  add(name: string, shape: number[], init: Init, options: { trainable?: boolean } = {}): tfTypes.Variable {
    if (this.vars.has(name)) throw new Error(`duplicate parameter name '${name}'`);
    const trainable = options.trainable ?? true;
    const values = initialValues(this.seed, name, shape, init);
    const initial = this.tf.tensor(values, shape, 'float32');
    const v = this.tf.variable(initial, trainable, `${name}_${uniqueSuffix()}`);
    initial.dispose();
    this.vars.set(name, { v, info: { name, shape: [...shape], trainable } });
    return v;
  }

  get(name: string): tfTypes.Variable {
    const e = this.vars.get(name);
    if (!e) throw new Error(`no parameter '${name}'`);
    return e.v;
  }

  /** Trainable variables in creation order. */
  trainable(): tfTypes.Variable[] {
    return [...this.vars.values()].filter((e) => e.info.trainable).map((e) => e.v);
  }

  trainableNames(): string[] {
    return [...this.vars.values()].filter((e) => e.info.trainable).map((e) => e.info.name);
  }

  infos(): ParamInfo[] {
    return [...this.vars.values()].map((e) => e.info);
  }

  /** Number of trainable scalars. */
  count(): number {
    let n = 0;
    for (const e of this.vars.values()) if (e.info.trainable) n += e.info.shape.reduce((a, b) => a * b, 1);
    return n;
  }

  /** Every variable's values (trainable and state), for checkpoints. */
  async snapshot(): Promise<Record<string, TensorData>> {
    const out: Record<string, TensorData> = {};
    for (const [name, e] of this.vars) out[name] = { shape: [...e.info.shape], data: (await e.v.data()) as Float32Array };
    return out;
  }

  /** Assigns values by name; every variable must be present with its shape unless `partial`. */
  restore(values: Record<string, TensorData>, options: { partial?: boolean } = {}): string[] {
    const tf = this.tf;
    const loaded: string[] = [];
    for (const [name, e] of this.vars) {
      const t = values[name];
      if (!t) {
        if (options.partial) continue;
        throw new Error(`checkpoint lacks parameter '${name}'`);
      }
      if (t.shape.join(',') !== e.info.shape.join(',')) {
        throw new Error(`parameter '${name}': shape [${t.shape}] in the checkpoint, [${e.info.shape}] in the model`);
      }
      tf.tidy(() => e.v.assign(tf.tensor(t.data, t.shape, 'float32')));
      loaded.push(name);
    }
    return loaded;
  }

  dispose(): void {
    for (const e of this.vars.values()) e.v.dispose();
    this.vars.clear();
  }
}

let counter = 0;
/** tfjs variable names are global per process; keep ours unique across models. */
function uniqueSuffix(): number {
  return ++counter;
}
