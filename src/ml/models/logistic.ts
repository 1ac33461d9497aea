import type * as tfTypes from '@tensorflow/tfjs';
import { ParamSet, parseInitScheme } from '../params.js';
import { Dense } from './layers.js';
import { logitCount, type Model, type ModelFactory, type ModelSpec } from './types.js';

/**
 * Logistic regression (Figures 1-2): one affine map from the flattened input
 * to the logit of class 1 (softmax regression for more than two classes).
 * No hidden units, so `width` and `dropout` do not apply.
 */
export const logistic: ModelFactory = {
  input: 'points',
  summary: 'logistic regression: logit = w·x + b',
  build(tf: typeof tfTypes, spec: ModelSpec): Model {
    const params = new ParamSet(tf, spec.seed, parseInitScheme(spec.options?.init));
    const inUnits = spec.inputShape.reduce((a, b) => a * b, 1);
    const outputs = logitCount(spec.numClasses);
    const out = new Dense(tf, params, 'out', inUnits, outputs);
    return {
      name: 'logistic',
      input: 'points',
      outputs,
      params,
      apply(x) {
        return out.apply(x.reshape([x.shape[0]!, inUnits]) as tfTypes.Tensor2D);
      },
      describe: () => `logistic regression ${inUnits} -> ${outputs}`,
    };
  },
};
