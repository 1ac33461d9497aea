import type * as tfTypes from '@tensorflow/tfjs';
import type { TensorData } from './params.js';

/**
 * The paper's optimizers, written out so that their state is explicit (for
 * checkpoints) and their arithmetic is PyTorch's:
 *
 *   SGD without momentum:  p <- p - lr (g + λ p)
 *   Adam (Kingma & Ba):    g' = g + λ p;  m <- β1 m + (1-β1) g';  v <- β2 v + (1-β2) g'²
 *                          p <- p - lr m̂ / (sqrt(v̂) + ε),  m̂ = m/(1-β1^t), v̂ = v/(1-β2^t)
 *
 * L2 regularization with coefficient λ is the gradient term λ p, i.e. the
 * penalty (λ/2)‖p‖² added to the loss: PyTorch's `weight_decay = λ` (the
 * paper's "penalty coefficient 0.001"; it does not say λ‖p‖² or (λ/2)‖p‖²,
 * and PyTorch's convention is the one its code would have used). It applies
 * to every trainable parameter, biases included, as PyTorch's does.
 */

export type OptimizerSpec =
  | { name: 'sgd' }
  | { name: 'adam'; beta1: number; beta2: number; epsilon: number };

export interface Optimizer {
  /** Applies one update with gradients by variable (same order as `vars`). */
  step(grads: tfTypes.Tensor[]): void;
  /** Optimizer state for checkpoints. */
  state(): Promise<{ step: number; tensors: Record<string, TensorData> }>;
  restore(state: { step: number; tensors: Record<string, TensorData> }): void;
  dispose(): void;
}

export function makeOptimizer(
  tf: typeof tfTypes,
  spec: OptimizerSpec,
  vars: tfTypes.Variable[],
  names: string[],
  lr: number,
  l2: number,
): Optimizer {
  const withDecay = (g: tfTypes.Tensor, p: tfTypes.Variable) => (l2 > 0 ? g.add(p.mul(l2)) : g);
  if (spec.name === 'sgd') {
    return {
      step(grads) {
        tf.tidy(() => {
          vars.forEach((p, i) => p.assign(p.sub(withDecay(grads[i]!, p).mul(lr))));
        });
      },
      async state() {
        return { step: 0, tensors: {} };
      },
      restore() {},
      dispose() {},
    };
  }
  const { beta1, beta2, epsilon } = spec;
  const zeros = (p: tfTypes.Variable) => {
    const z = tf.zerosLike(p);
    const out = tf.variable(z, false);
    z.dispose();
    return out;
  };
  const m = vars.map(zeros);
  const v = vars.map(zeros);
  let t = 0;
  return {
    step(grads) {
      t += 1;
      const c1 = 1 - Math.pow(beta1, t);
      const c2 = 1 - Math.pow(beta2, t);
      tf.tidy(() => {
        vars.forEach((p, i) => {
          const g = withDecay(grads[i]!, p);
          const mi = m[i]!.mul(beta1).add(g.mul(1 - beta1));
          const vi = v[i]!.mul(beta2).add(g.square().mul(1 - beta2));
          m[i]!.assign(mi);
          v[i]!.assign(vi);
          const denom = vi.div(c2).sqrt().add(epsilon);
          p.assign(p.sub(mi.div(c1).div(denom).mul(lr)));
        });
      });
    },
    async state() {
      const tensors: Record<string, TensorData> = {};
      for (let i = 0; i < vars.length; i++) {
        tensors[`adam_m/${names[i]}`] = { shape: [...m[i]!.shape], data: (await m[i]!.data()) as Float32Array };
        tensors[`adam_v/${names[i]}`] = { shape: [...v[i]!.shape], data: (await v[i]!.data()) as Float32Array };
      }
      return { step: t, tensors };
    },
    restore(state) {
      t = state.step;
      tf.tidy(() => {
        for (let i = 0; i < vars.length; i++) {
          const a = state.tensors[`adam_m/${names[i]}`];
          const b = state.tensors[`adam_v/${names[i]}`];
          if (!a || !b) throw new Error(`checkpoint lacks Adam moments of '${names[i]}'`);
          m[i]!.assign(tf.tensor(a.data, a.shape, 'float32'));
          v[i]!.assign(tf.tensor(b.data, b.shape, 'float32'));
        }
      });
    },
    dispose() {
      for (const x of [...m, ...v]) x.dispose();
    },
  };
}
