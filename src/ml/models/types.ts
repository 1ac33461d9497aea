import type * as tfTypes from '@tensorflow/tfjs';
import type { DropoutMasks } from '../dropout.js';
import type { ParamSet } from '../params.js';

/** What a model consumes: 2D points, NHWC float images, or token ids. */
export type InputKind = 'points' | 'images' | 'tokens';

export interface ModelSpec {
  /** Shape of one example (without the batch dimension). */
  inputShape: number[];
  /** Number of classes; 2 gives a single logit (logistic loss). */
  numClasses: number;
  /** Width multiplier: channel/unit counts are round(paper * width), at least 1. 1 = the paper. */
  width: number;
  /** Dropout probability on hidden units (0 = none). */
  dropout: number;
  /** Initialization seed. */
  seed: number;
  /** Model-specific options (e.g. the transformer's size, a vocabulary size). */
  options?: Record<string, unknown>;
}

export interface ForwardOptions {
  training: boolean;
  /** Dropout masks (training only). */
  masks?: DropoutMasks;
}

export interface Model {
  readonly name: string;
  readonly input: InputKind;
  /** 1 for binary models (the logit of class 1), else the number of classes. */
  readonly outputs: number;
  readonly params: ParamSet;
  /** Logits [B, outputs]. In training mode, batch norm uses batch statistics and updates its running averages. */
  apply(x: tfTypes.Tensor, options: ForwardOptions): tfTypes.Tensor2D;
  /** Human-readable architecture summary (for logs). */
  describe(): string;
}

export interface ModelFactory {
  /** The kind of input the model takes. */
  input: InputKind;
  /** One sentence: what it is, as in the paper. */
  summary: string;
  build(tf: typeof tfTypes, spec: ModelSpec): Model;
}

/** round(n * width), at least 1. */
export function scaled(n: number, width: number): number {
  return Math.max(1, Math.round(n * width));
}

/** The number of logits for `numClasses` classes. */
export function logitCount(numClasses: number): number {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`a classifier needs at least 2 classes, got ${numClasses}`);
  return numClasses === 2 ? 1 : numClasses;
}
