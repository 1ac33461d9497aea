import { z } from 'zod';
import { MODEL_NAMES, type ModelName } from './models/index.js';
import { JS_TRAINER_REVISION } from './train-2d.js';

/**
 * The params of a train node (stages/train.ts). Paper values in brackets.
 *
 *   model          logistic | mlp2d | cnn | resnet-bn | resnet-nobn | mlp | transformer
 *   width          width multiplier of hidden units / channels [1]
 *   model_options  model-specific (transformer: layers, d_model, heads, ffn)
 *   epochs         [2D 10,000; CIFAR 1,000]
 *   batch_size     [2D 8; CIFAR 16]
 *   lr             a number [CIFAR 0.1, 0.05 for unweighted dropout models;
 *                  multiclass 0.01; MRPC 0.01; Adam 1e-4] or 'inverse_sigma_max'
 *                  [2D: 1/σmax(X) of the training points]
 *   optimizer      { name: sgd } (no momentum) | { name: adam, beta1 [0.9],
 *                  beta2 [0.999], epsilon [1e-8] }
 *   l2             L2 coefficient λ, gradient term λ·p [0.001 when regularized]
 *   dropout        probability of zeroing a hidden unit [0.5 when used]
 *   class weights  at most one of class_weights | weight_ratio | rho (+ focus_class)
 *                  | rebalance; see weights.ts
 *   reduction      'mean' (Σ w l / B) | 'weighted_mean' (Σ w l / Σ w); see loss.ts
 *   seed           initialization, shuffling and dropout
 *   eval           points (log-spaced evaluation epochs), include_initial,
 *                  epochs (extra), snapshots ('decades' | list; 2D surfaces),
 *                  grid (G of the G×G surface), batch_size (evaluation batch)
 *   train_limit    use only this many training examples (stratified, first in
 *                  stored order), for small profiles; null = all
 *   backend        auto | node | wasm | cpu | js ('js': the float64 JavaScript
 *                  trainer of the 2D models, which 'auto' picks for them)
 *   pretrained     a directory with a user-supplied checkpoint (pretrained.ts)
 */

const adam = z
  .object({
    name: z.literal('adam'),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-8),
  })
  .strict();
const sgd = z.object({ name: z.literal('sgd') }).strict();

export const evalSchema = z
  .object({
    points: z.number().int().positive().default(30),
    include_initial: z.boolean().default(true),
    epochs: z.array(z.number().int().nonnegative()).default([]),
    snapshots: z.union([z.literal('decades'), z.array(z.number().int().nonnegative())]).default('decades'),
    grid: z.number().int().min(2).max(1024).default(64),
    batch_size: z.number().int().positive().default(100),
  })
  .strict();

/** Models the float64 JavaScript trainer (train-2d.ts) implements. */
export const JS_MODEL_NAMES: readonly string[] = ['logistic', 'mlp2d'];

export const BACKEND_CHOICES = ['auto', 'node', 'wasm', 'cpu', 'js'] as const;

export const trainParamsSchema = z
  .object({
    model: z.enum(MODEL_NAMES as [ModelName, ...ModelName[]]),
    width: z.number().positive().default(1),
    model_options: z.record(z.unknown()).default({}),
    epochs: z.number().int().nonnegative(),
    batch_size: z.number().int().positive(),
    lr: z.union([z.number().positive(), z.literal('inverse_sigma_max')]),
    lr_unweighted: z.number().positive().nullable().default(null),
    optimizer: z.discriminatedUnion('name', [sgd, adam]).default({ name: 'sgd' }),
    l2: z.number().nonnegative().default(0),
    dropout: z.number().min(0).lt(1).default(0),
    class_weights: z.array(z.number().nonnegative()).nullable().default(null),
    weight_ratio: z.number().positive().nullable().default(null),
    rho: z.number().gt(0).lt(1).nullable().default(null),
    focus_class: z.number().int().nonnegative().nullable().default(null),
    rebalance: z.boolean().default(false),
    reduction: z.enum(['mean', 'weighted_mean']).default('mean'),
    seed: z.number().int(),
    eval: evalSchema.default({}),
    train_limit: z.number().int().positive().nullable().default(null),
    backend: z.enum(BACKEND_CHOICES).default('auto'),
    pretrained: z.string().nullable().default(null),
  })
  .strict()
  .superRefine((p, ctx) => {
    const sources = [p.class_weights !== null, p.weight_ratio !== null, p.rho !== null, p.rebalance].filter(Boolean).length;
    if (sources > 1) ctx.addIssue({ code: 'custom', message: 'give at most one of class_weights, weight_ratio, rho, rebalance' });
    if (p.rho !== null && p.focus_class === null) ctx.addIssue({ code: 'custom', path: ['focus_class'], message: 'rho needs focus_class' });
    if (p.backend === 'js' && !JS_MODEL_NAMES.includes(p.model)) {
      ctx.addIssue({ code: 'custom', path: ['backend'], message: `backend 'js' trains only ${JS_MODEL_NAMES.join(', ')}` });
    }
  });

export type TrainParams = z.infer<typeof trainParamsSchema>;

/** The implementation a node uses: 'js' for the 2D models under 'auto', else a tfjs backend request. */
export function effectiveBackend(p: Pick<TrainParams, 'backend' | 'model'>): 'js' | 'auto' | 'node' | 'wasm' | 'cpu' {
  if (p.backend === 'auto' && JS_MODEL_NAMES.includes(p.model)) return 'js';
  return p.backend;
}

/** Environment facts of the float64 JavaScript trainer (the `environment` of the nodes it runs). */
export function jsTrainerFacts(): { backend: string; version: string } {
  return { backend: 'js', version: `float64.${JS_TRAINER_REVISION}` };
}
