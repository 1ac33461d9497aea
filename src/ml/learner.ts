import type { SplitData } from './data.js';
import type { TensorData } from './params.js';

/**
 * What the training loop (train.ts) needs from an implementation of a model
 * plus its optimizer. Two implementations: tfjs (tfjs-learner.ts, every
 * model) and plain float64 JavaScript (train-2d.ts, the 2D models, where
 * tfjs's per-op overhead would dominate: batch 8, 10,000 epochs).
 */
export interface Learner {
  /** 1 (binary: logit of class 1) or the number of classes. */
  readonly outputs: number;
  /** Trainable scalars. */
  readonly numParams: number;
  describe(): string;
  /**
   * One epoch of minibatch updates, visiting the training examples in
   * `order` (batches of the configured size; the last may be smaller).
   * Returns the epoch's mean objective (class-weighted cross-entropy without
   * L2) and accuracy, as seen by the updates (training mode).
   */
  trainEpoch(epoch: number, order: Int32Array): Promise<{ loss: number; accuracy: number }>;
  /** Logits of every example of a split, evaluation mode, [n * outputs]. */
  logits(split: SplitData): Promise<ArrayLike<number>>;
  /** Logits of raw 2D points [n * 2] (decision surfaces). */
  pointLogits(points: Float32Array): Promise<ArrayLike<number>>;
  /** Affine models: the logit's weights and bias. */
  linear(): Promise<{ w: number[]; b: number } | null>;
  /** Everything that determines later epochs: parameters, running statistics, optimizer state. */
  state(): Promise<{ step: number; tensors: Record<string, TensorData> }>;
  restore(state: { step: number; tensors: Record<string, TensorData> }): void;
  dispose(): void;
}
