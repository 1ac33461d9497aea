import type * as tfTypes from '@tensorflow/tfjs';
import { cnn } from './cnn.js';
import { logistic } from './logistic.js';
import { mlp2d, mlpMulticlass } from './mlp.js';
import { resnetBn, resnetNoBn } from './resnet.js';
import { transformer } from './transformer.js';
import type { Model, ModelFactory, ModelSpec } from './types.js';

export type { Model, ModelFactory, ModelSpec, InputKind, ForwardOptions } from './types.js';

/**
 * The models of the paper, by the name a train node's `model` param uses.
 * A new model is one module exporting a ModelFactory plus one line here.
 */
export const MODELS = {
  logistic, // Fig. 1-2, A.1-A.2
  mlp2d, // Fig. 1-3, A.1-A.2
  cnn, // Fig. 4, A.3, A.4, A.6-A.9
  'resnet-bn': resnetBn, // Fig. A.5 (a, c)
  'resnet-nobn': resnetNoBn, // Fig. A.5 (b, d)
  mlp: mlpMulticlass, // Fig. 5
  transformer, // Fig. 6
} as const satisfies Record<string, ModelFactory>;

export type ModelName = keyof typeof MODELS;
export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];

export function modelFactory(name: string): ModelFactory {
  const f = (MODELS as Record<string, ModelFactory>)[name];
  if (!f) throw new Error(`unknown model '${name}' (models: ${MODEL_NAMES.join(', ')})`);
  return f;
}

export function buildModel(tf: typeof tfTypes, name: string, spec: ModelSpec): Model {
  return modelFactory(name).build(tf, spec);
}
