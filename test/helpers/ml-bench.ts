/**
 * Training-time measurements (not a test; run by hand after `npx tsc -b`):
 *
 *   node dist/test/helpers/ml-bench.js cnn-epoch <catdog dir> [--limit N] [--epochs E] [--width W] [--threads T] [--backend wasm] [--init pytorch|he|glorot] [--model cnn]
 *       seconds per epoch of the CIFAR CNN (batch 16, lr 0.1, SGD) on the
 *       first N training images of a preprocessed cat/dog set
 *   node dist/test/helpers/ml-bench.js epoch <data dir> --model transformer --batch 32 --lr 0.01 --width 0.5 [--limit N]
 *       the same for any model and data set
 *   node dist/test/helpers/ml-bench.js 2d <linear-2d dir> [--model mlp2d] [--epochs 10000] [--dropout 0]
 *       the full 2D protocol (batch 8, lr 1/σmax) with the float64 JavaScript trainer
 *   node dist/test/helpers/ml-bench.js 2d-tfjs <linear-2d dir> [--epochs 20] [--backend cpu]
 *       the same model in tfjs, for comparison (a few epochs, extrapolated)
 */
import { loadTrainingData } from '../../src/ml/data.js';
import { epochOrder } from '../../src/ml/train.js';
import { createJs2dLearner } from '../../src/ml/train-2d.js';
import { sigmaMaxOf, vocabSize } from '../../src/ml/data.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

const [mode, dir] = process.argv.slice(2);
if (!mode || !dir) {
  console.error('usage: ml-bench.js cnn-epoch|2d|2d-tfjs <data dir> [options]');
  process.exit(2);
}

if (mode === 'cnn-epoch' || mode === 'epoch') {
  const limit = Number(arg('limit', '1000'));
  const epochs = Number(arg('epochs', '1'));
  const threads = Number(arg('threads', '2'));
  const { initBackendRuntime } = await import('../../src/ml/backend.js');
  const rt = await initBackendRuntime(arg('backend', 'wasm'), threads);
  const tf = await import('@tensorflow/tfjs');
  const { createTfjsLearner } = await import('../../src/ml/tfjs-learner.js');
  const data = loadTrainingData(dir, { trainLimit: limit });
  const learner = createTfjsLearner(tf, data, {
    model: arg('model', 'cnn'),
    width: Number(arg('width', '1')),
    modelOptions: arg('model', 'cnn') === 'transformer' ? { vocab_size: vocabSize(data), init: arg('init', 'bert') } : { init: arg('init', 'glorot') },
    dropout: 0,
    seed: 1,
    batchSize: Number(arg('batch', '16')),
    evalBatchSize: 500,
    lr: Number(arg('lr', '0.1')),
    l2: 0,
    optimizer: { name: 'sgd' },
    classWeights: new Array<number>(data.numClasses).fill(1),
    reduction: 'mean',
  });
  console.log(`# ${rt.backend} ${rt.version}, ${rt.threads} thread(s), simd ${rt.simd}; ${learner.describe()}; ${data.train.n} images`);
  for (let e = 1; e <= epochs; e++) {
    const t = performance.now();
    const r = await learner.trainEpoch(e, epochOrder(1, e, data.train.n));
    const s = (performance.now() - t) / 1000;
    console.log(`epoch ${e}: ${s.toFixed(1)} s (${(data.train.n / s).toFixed(1)} images/s), loss ${r.loss.toFixed(4)}, acc ${r.accuracy.toFixed(3)}`);
  }
  const t = performance.now();
  await learner.logits(data.evals[1] ?? data.train);
  console.log(`evaluation of ${(data.evals[1] ?? data.train).n} images: ${((performance.now() - t) / 1000).toFixed(1)} s`);
} else if (mode === '2d') {
  const data = loadTrainingData(dir);
  const epochs = Number(arg('epochs', '10000'));
  const model = arg('model', 'mlp2d') as 'mlp2d' | 'logistic';
  const lr = 1 / sigmaMaxOf(data.train.x as Float32Array, 2);
  const learner = createJs2dLearner(data, {
    model,
    width: 1,
    dropout: Number(arg('dropout', '0')),
    seed: 1,
    batchSize: 8,
    lr,
    l2: Number(arg('l2', '0')),
    optimizer: { name: 'sgd' },
    classWeights: [1, Number(arg('weight', '0.00390625'))],
    reduction: 'mean',
  });
  const t = performance.now();
  let last = { loss: 0, accuracy: 0 };
  for (let e = 1; e <= epochs; e++) last = await learner.trainEpoch(e, epochOrder(1, e, data.train.n));
  const s = (performance.now() - t) / 1000;
  console.log(`${learner.describe()}: ${epochs} epochs x ${data.train.n} points (batch 8, lr ${lr.toFixed(5)}): ${s.toFixed(1)} s, ${((s / epochs / Math.ceil(data.train.n / 8)) * 1e6).toFixed(2)} µs/step; final loss ${last.loss.toExponential(3)}, acc ${last.accuracy}`);
} else if (mode === '2d-tfjs') {
  const { initBackendRuntime } = await import('../../src/ml/backend.js');
  const rt = await initBackendRuntime(arg('backend', 'cpu'), Number(arg('threads', '1')));
  const tf = await import('@tensorflow/tfjs');
  const { createTfjsLearner } = await import('../../src/ml/tfjs-learner.js');
  const data = loadTrainingData(dir);
  const epochs = Number(arg('epochs', '20'));
  const learner = createTfjsLearner(tf, data, {
    model: arg('model', 'mlp2d'),
    width: 1,
    modelOptions: {},
    dropout: 0,
    seed: 1,
    batchSize: 8,
    evalBatchSize: 500,
    lr: 1 / sigmaMaxOf(data.train.x as Float32Array, 2),
    l2: 0,
    optimizer: { name: 'sgd' },
    classWeights: [1, 0.00390625],
    reduction: 'mean',
  });
  await learner.trainEpoch(1, epochOrder(1, 1, data.train.n));
  const t = performance.now();
  for (let e = 2; e <= epochs + 1; e++) await learner.trainEpoch(e, epochOrder(1, e, data.train.n));
  const s = (performance.now() - t) / 1000 / epochs;
  console.log(`tfjs ${rt.backend}: ${learner.describe()}: ${s.toFixed(3)} s/epoch, ${((s / Math.ceil(data.train.n / 8)) * 1e6).toFixed(0)} µs/step -> ${((s * 10000) / 60).toFixed(1)} min for 10,000 epochs`);
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
