import type * as tfTypes from '@tensorflow/tfjs';
import { ParamSet, parseInitScheme } from '../params.js';
import { BatchNorm, Conv2D, Dense } from './layers.js';
import { logitCount, scaled, type Model, type ModelFactory, type ModelSpec } from './types.js';

/**
 * The ResNet of Section 3 / Figure A.5: a 5x5 convolution with 64 filters,
 * two residual blocks of 64 filters, two of 128, two of 256 (the first block
 * of 128 and of 256 with stride 2), average pooling, a dense layer of 512,
 * the output layer. Each block is two 3x3 convolutions; with `batchNorm`,
 * batch normalization follows every convolution (the paper: "between all
 * convolution layers"), without it the convolutions carry biases instead.
 *
 * Choices the paper leaves open: the basic block of He et al. (2016),
 * conv-BN-ReLU-conv-BN, added to the shortcut, then ReLU; a 1x1 convolution
 * with stride 2 (plus BN) as the shortcut where the shape changes; the stem
 * is conv-BN-ReLU without pooling; "average pooling" is global; dropout,
 * when enabled, on the dense hidden layer. (The text's "first layer with 512
 * filters" is read as the first block of 256: there is no 512-filter block.)
 */
export function resnetFactory(name: string, batchNorm: boolean): ModelFactory {
  return {
    input: 'images',
    summary: `ResNet: conv5x5 64, 2x2 residual blocks of 64/128/256, avg pool, dense 512, output (${batchNorm ? 'with' : 'without'} batch norm)`,
    build(tf: typeof tfTypes, spec: ModelSpec): Model {
      if (spec.inputShape.length !== 3) throw new Error(`${name}: input shape must be [H, W, C], got [${spec.inputShape}]`);
      const C = spec.inputShape[2]!;
      const params = new ParamSet(tf, spec.seed, parseInitScheme(spec.options?.init));
      const outputs = logitCount(spec.numClasses);
      const conv = (n: string, k: number, ci: number, co: number, stride = 1) => new Conv2D(tf, params, n, k, ci, co, stride, !batchNorm);
      const bn = (n: string, c: number) => (batchNorm ? new BatchNorm(tf, params, n, c) : null);
      const norm = (layer: BatchNorm | null, x: tfTypes.Tensor4D, training: boolean) => (layer ? layer.apply(x, training) : x);

      const c64 = scaled(64, spec.width);
      const stem = conv('stem/conv', 5, C, c64);
      const stemBn = bn('stem/bn', c64);

      interface Block {
        conv1: Conv2D;
        bn1: BatchNorm | null;
        conv2: Conv2D;
        bn2: BatchNorm | null;
        shortcut: Conv2D | null;
        shortcutBn: BatchNorm | null;
      }
      const blocks: Block[] = [];
      let cin = c64;
      const stages: Array<[number, number]> = [
        [64, 1],
        [128, 2],
        [256, 2],
      ];
      stages.forEach(([filters, stride], s) => {
        const cout = scaled(filters, spec.width);
        for (let b = 0; b < 2; b++) {
          const st = b === 0 ? stride : 1;
          const p = `stage${s + 1}/block${b + 1}`;
          const needsShortcut = st !== 1 || cin !== cout;
          blocks.push({
            conv1: conv(`${p}/conv1`, 3, cin, cout, st),
            bn1: bn(`${p}/bn1`, cout),
            conv2: conv(`${p}/conv2`, 3, cout, cout),
            bn2: bn(`${p}/bn2`, cout),
            shortcut: needsShortcut ? conv(`${p}/shortcut`, 1, cin, cout, st) : null,
            shortcutBn: needsShortcut ? bn(`${p}/shortcut_bn`, cout) : null,
          });
          cin = cout;
        }
      });
      const d1 = scaled(512, spec.width);
      const fc = new Dense(tf, params, 'fc', cin, d1);
      const out = new Dense(tf, params, 'out', d1, outputs);

      return {
        name,
        input: 'images',
        outputs,
        params,
        apply(x, o) {
          const t = o.training;
          let a = x as tfTypes.Tensor4D;
          a = batchNorm ? tf.relu(norm(stemBn, stem.apply(a), t)) : stem.apply(a, 'relu');
          for (const b of blocks) {
            const h1 = batchNorm ? tf.relu(norm(b.bn1, b.conv1.apply(a), t)) : b.conv1.apply(a, 'relu');
            const h2 = norm(b.bn2, b.conv2.apply(h1), t);
            const sc = b.shortcut ? norm(b.shortcutBn, b.shortcut.apply(a), t) : a;
            a = tf.relu(h2.add(sc)) as tfTypes.Tensor4D;
          }
          const pooled = tf.mean(a, [1, 2]) as tfTypes.Tensor2D;
          let h = fc.apply(pooled, 'relu');
          if (t && spec.dropout > 0 && o.masks) h = o.masks.apply(h, spec.dropout) as tfTypes.Tensor2D;
          return out.apply(h);
        },
        describe: () =>
          `ResNet (${batchNorm ? 'batch norm' : 'no batch norm'}): conv5x5 ${c64}, blocks ${stages.map(([f]) => `2x${scaled(f, spec.width)}`).join(', ')}, avg pool, dense ${d1}, out ${outputs}`,
      };
    },
  };
}

export const resnetBn = resnetFactory('resnet-bn', true);
export const resnetNoBn = resnetFactory('resnet-nobn', false);
