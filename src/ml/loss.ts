import type * as tfTypes from '@tensorflow/tfjs';

/**
 * Class-weighted cross-entropy (importance-weighted ERM with weights per class).
 *
 * Per example i with label y_i and weight w_i = classWeights[y_i]:
 *   binary (one logit z):   l_i = softplus(z_i) - y_i z_i   (= -log σ(±z_i), the logistic loss)
 *   K >= 3 classes:         l_i = logsumexp(z_i) - z_i[y_i]
 *
 * Reduction (a choice the paper does not spell out):
 *   'mean'           Σ w_i l_i / B        the IW-ERM objective (1/n) Σ w_i l_i on a
 *                                        minibatch; the default
 *   'weighted_mean'  Σ w_i l_i / Σ w_i    PyTorch's CrossEntropyLoss(weight=...) default
 * The L2 penalty is not part of this value (see optimizers.ts).
 */

export type Reduction = 'mean' | 'weighted_mean';

/** Per-example unweighted cross-entropy [B] from logits [B, 1] (binary) or [B, K]. */
export function perExampleCrossEntropy(tf: typeof tfTypes, logits: tfTypes.Tensor2D, labels: tfTypes.Tensor1D): tfTypes.Tensor1D {
  const K = logits.shape[1];
  if (K === 1) {
    const z = logits.reshape([logits.shape[0]]) as tfTypes.Tensor1D;
    return tf.softplus(z).sub(z.mul(labels.toFloat())) as tfTypes.Tensor1D;
  }
  const logp = tf.logSoftmax(logits);
  return tf.neg(tf.sum(logp.mul(tf.oneHot(labels.toInt(), K)), 1)) as tfTypes.Tensor1D;
}

/** The weighted loss (a scalar). `exampleWeights` [B] = class weight of each example's label. */
export function weightedCrossEntropy(
  tf: typeof tfTypes,
  logits: tfTypes.Tensor2D,
  labels: tfTypes.Tensor1D,
  exampleWeights: tfTypes.Tensor1D,
  reduction: Reduction = 'mean',
): tfTypes.Scalar {
  const l = perExampleCrossEntropy(tf, logits, labels);
  const total = tf.sum(l.mul(exampleWeights));
  if (reduction === 'weighted_mean') return total.div(tf.sum(exampleWeights)) as tfTypes.Scalar;
  return total.div(logits.shape[0]) as tfTypes.Scalar;
}

/** Host (float64) per-example cross-entropy from logits laid out [N, outputs]. */
export function crossEntropyHost(logits: ArrayLike<number>, outputs: number, labels: ArrayLike<number>): Float64Array {
  const n = labels.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (outputs === 1) {
      const z = logits[i]!;
      out[i] = softplus(z) - y * z;
    } else {
      let max = -Infinity;
      for (let k = 0; k < outputs; k++) max = Math.max(max, logits[i * outputs + k]!);
      let s = 0;
      for (let k = 0; k < outputs; k++) s += Math.exp(logits[i * outputs + k]! - max);
      out[i] = max + Math.log(s) - logits[i * outputs + y]!;
    }
  }
  return out;
}

/** log(1 + e^z) without overflow. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** Host version of weightedCrossEntropy (for evaluation and tests). */
export function weightedCrossEntropyHost(
  logits: ArrayLike<number>,
  outputs: number,
  labels: ArrayLike<number>,
  classWeights: readonly number[],
  reduction: Reduction = 'mean',
): number {
  const l = crossEntropyHost(logits, outputs, labels);
  let total = 0;
  let wsum = 0;
  for (let i = 0; i < l.length; i++) {
    const w = classWeights[labels[i]!]!;
    total += w * l[i]!;
    wsum += w;
  }
  return reduction === 'weighted_mean' ? total / wsum : total / l.length;
}
