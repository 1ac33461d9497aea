import type * as tfTypes from '@tensorflow/tfjs';
import { ParamSet, parseInitScheme } from '../params.js';
import { Conv2D, Dense } from './layers.js';
import { logitCount, scaled, type Model, type ModelFactory, type ModelSpec } from './types.js';

/**
 * The CIFAR-10 convolutional network of Section 3: two 3x3 convolutions with
 * 64 filters (stride 1), 2x2 max pooling, three 3x3 convolutions with 128
 * filters, 2x2 max pooling, dense 512, dense 128, output; ReLU everywhere.
 *
 * Choices the paper leaves open: 'same' padding (32 -> 16 -> 8, so the first
 * dense layer sees 8*8*128 = 8,192 inputs); dropout, when enabled, on the two
 * dense hidden layers (the "hidden units"), not on convolution outputs.
 */
export const cnn: ModelFactory = {
  input: 'images',
  summary: 'CNN: 2x conv3x3 64, maxpool, 3x conv3x3 128, maxpool, dense 512, dense 128, output',
  build(tf: typeof tfTypes, spec: ModelSpec): Model {
    const [H, W, C] = spec.inputShape as [number, number, number];
    if (spec.inputShape.length !== 3) throw new Error(`cnn: input shape must be [H, W, C], got [${spec.inputShape}]`);
    const params = new ParamSet(tf, spec.seed, parseInitScheme(spec.options?.init));
    const c1 = scaled(64, spec.width);
    const c2 = scaled(128, spec.width);
    const d1 = scaled(512, spec.width);
    const d2 = scaled(128, spec.width);
    const outputs = logitCount(spec.numClasses);
    const convs = [
      new Conv2D(tf, params, 'conv1', 3, C, c1),
      new Conv2D(tf, params, 'conv2', 3, c1, c1),
      new Conv2D(tf, params, 'conv3', 3, c1, c2),
      new Conv2D(tf, params, 'conv4', 3, c2, c2),
      new Conv2D(tf, params, 'conv5', 3, c2, c2),
    ];
    const h4 = Math.ceil(Math.ceil(H / 2) / 2);
    const w4 = Math.ceil(Math.ceil(W / 2) / 2);
    const flat = h4 * w4 * c2;
    const fc1 = new Dense(tf, params, 'fc1', flat, d1);
    const fc2 = new Dense(tf, params, 'fc2', d1, d2);
    const out = new Dense(tf, params, 'out', d2, outputs);
    return {
      name: 'cnn',
      input: 'images',
      outputs,
      params,
      apply(x, o) {
        let a = x as tfTypes.Tensor4D;
        a = convs[0]!.apply(a, 'relu');
        a = convs[1]!.apply(a, 'relu');
        a = tf.maxPool(a, 2, 2, 'same');
        a = convs[2]!.apply(a, 'relu');
        a = convs[3]!.apply(a, 'relu');
        a = convs[4]!.apply(a, 'relu');
        a = tf.maxPool(a, 2, 2, 'same');
        let h: tfTypes.Tensor2D = fc1.apply(a.reshape([a.shape[0], flat]) as tfTypes.Tensor2D, 'relu');
        const drop = o.training && spec.dropout > 0 && o.masks;
        if (drop) h = o.masks!.apply(h, spec.dropout) as tfTypes.Tensor2D;
        h = fc2.apply(h, 'relu');
        if (drop) h = o.masks!.apply(h, spec.dropout) as tfTypes.Tensor2D;
        return out.apply(h);
      },
      describe: () =>
        `CNN ${H}x${W}x${C}: conv3x3 ${c1} x2, maxpool, conv3x3 ${c2} x3, maxpool, dense ${d1}, dense ${d2}${spec.dropout > 0 ? ` (dropout ${spec.dropout})` : ''}, out ${outputs}`,
    };
  },
};
