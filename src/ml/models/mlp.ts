import type * as tfTypes from '@tensorflow/tfjs';
import { ParamSet, parseInitScheme } from '../params.js';
import { Dense } from './layers.js';
import { logitCount, scaled, type InputKind, type Model, type ModelFactory, type ModelSpec } from './types.js';

/**
 * A multi-layer perceptron with one hidden layer of ReLU units:
 *   - the 2D MLP of Figures 1-3 (64 hidden units),
 *   - the multiclass CIFAR-10 MLP of Figure 5 (256 hidden units, on the
 *     flattened 32x32x3 image).
 * Dropout (Figure 3) is applied to the hidden units.
 */
export function mlpFactory(name: string, hidden: number, input: InputKind, summary: string): ModelFactory {
  return {
    input,
    summary,
    build(tf: typeof tfTypes, spec: ModelSpec): Model {
      const params = new ParamSet(tf, spec.seed, parseInitScheme(spec.options?.init));
      const inUnits = spec.inputShape.reduce((a, b) => a * b, 1);
      const h = scaled(hidden, spec.width);
      const outputs = logitCount(spec.numClasses);
      const l1 = new Dense(tf, params, 'hidden', inUnits, h);
      const l2 = new Dense(tf, params, 'out', h, outputs);
      return {
        name,
        input,
        outputs,
        params,
        apply(x, o) {
          let a: tfTypes.Tensor = l1.apply(x.reshape([x.shape[0]!, inUnits]) as tfTypes.Tensor2D, 'relu');
          if (o.training && spec.dropout > 0 && o.masks) a = o.masks.apply(a, spec.dropout);
          return l2.apply(a as tfTypes.Tensor2D);
        },
        describe: () => `MLP ${inUnits} -> ${h} ReLU${spec.dropout > 0 ? ` (dropout ${spec.dropout})` : ''} -> ${outputs}`,
      };
    },
  };
}

export const mlp2d = mlpFactory('mlp2d', 64, 'points', 'MLP, one hidden layer of 64 ReLU units (2D data)');
export const mlpMulticlass = mlpFactory('mlp', 256, 'images', 'MLP, one hidden layer of 256 ReLU units (multiclass CIFAR-10)');
