/**
 * The wasm training kernels (src/ml/kernels) against the cpu backend, and the
 * backend selection (src/ml/backend.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { BackendUnavailableError, backendFacts, resolveRequest } from '../src/ml/backend.js';
import { type FilterGradMethod, registerWasmTrainingKernels } from '../src/ml/kernels/index.js';

const TOL = 1e-5;
const here = dirname(fileURLToPath(import.meta.url));

/** Deterministic uniform values in [-1, 1). */
function rand(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** max |a - b| / max |b| */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length');
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den === 0 ? num : num / den;
}

type Inputs = Record<string, { values: Float32Array | Int32Array; shape: number[]; dtype?: 'float32' | 'int32' }>;

/** Runs one kernel on a backend and returns its output values and shape. */
async function runOn(backend: string, kernel: string, inputs: Inputs, attrs: tf.NamedAttrMap) {
  await tf.setBackend(backend);
  const ts: tf.Tensor[] = [];
  const named: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) {
    const t = tf.tensor(v.values, v.shape, v.dtype ?? 'float32');
    ts.push(t);
    named[k] = t;
  }
  const out = tf.engine().runKernel(kernel, named, attrs) as tf.Tensor;
  const values = await out.data();
  const shape = out.shape;
  tf.dispose([out, ...ts]);
  return { values, shape };
}

const refCache = new Map<string, Awaited<ReturnType<typeof runOn>>>();

/** The kernel on wasm (with ours registered) agrees with cpu. `cacheKey` reuses a reference. */
async function agree(kernel: string, inputs: Inputs, attrs: tf.NamedAttrMap, tol = TOL, cacheKey?: string) {
  let ref = cacheKey ? refCache.get(cacheKey) : undefined;
  if (!ref) {
    ref = await runOn('cpu', kernel, inputs, attrs);
    if (cacheKey) refCache.set(cacheKey, ref);
  }
  const got = await runOn('wasm', kernel, inputs, attrs);
  assert.deepEqual(got.shape, ref.shape, `${kernel} shape`);
  const e = relErr(got.values, ref.values);
  assert.ok(e < tol, `${kernel} ${JSON.stringify(attrs)}: relative error ${e.toExponential(2)} >= ${tol}`);
  return e;
}

/** Output shape of a forward convolution (computed on cpu). */
function convOutShape(xShape: number[], fShape: number[], strides: number | number[], pad: unknown, nchw = false) {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    fShape as [number, number, number, number],
    strides as [number, number],
    1,
    pad as 'same',
    undefined,
    false,
    nchw ? 'channelsFirst' : 'channelsLast',
  );
  return info.outShape;
}

interface ConvCase {
  x: number[];
  f: number[];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | number[][];
  nchw?: boolean;
}

const CONV_CASES: ConvCase[] = [
  { x: [2, 8, 8, 3], f: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 8, 8, 3], f: [3, 3, 3, 4], strides: 1, pad: 'valid' },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 5], strides: 2, pad: 'same' },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 5], strides: 2, pad: 'valid' },
  { x: [2, 8, 8, 4], f: [3, 3, 4, 4], strides: 2, pad: 'same' }, // even size, stride 2
  { x: [1, 10, 7, 5], f: [5, 5, 5, 6], strides: 2, pad: 'same' },
  { x: [2, 12, 12, 16], f: [5, 5, 16, 8], strides: 1, pad: 'same' }, // ResNet stem shape, Ci >= 16
  { x: [1, 8, 8, 4], f: [1, 1, 4, 8], strides: 2, pad: 'valid' }, // projection shortcut
  { x: [2, 7, 7, 2], f: [3, 2, 2, 3], strides: [2, 1], pad: 'same' }, // non-square filter and strides
  { x: [2, 6, 6, 2], f: [3, 3, 2, 3], strides: 1, pad: [[0, 0], [2, 1], [0, 2], [0, 0]] }, // explicit
  { x: [2, 8, 8, 3], f: [3, 3, 3, 4], strides: 3, pad: 2 }, // numeric pad, stride 3
  { x: [2, 3, 8, 8], f: [3, 3, 3, 4], strides: 2, pad: 'same', nchw: true },
  { x: [4, 16, 16, 32], f: [3, 3, 32, 32], strides: 1, pad: 'same' }, // a scaled-down paper layer
];

function convAttrs(c: ConvCase) {
  return { strides: c.strides, pad: c.pad, dataFormat: c.nchw ? 'NCHW' : 'NHWC', dimRoundingMode: undefined as unknown as string };
}

before(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  tf.env().set('IS_TEST', true);
});

describe('wasm training kernels agree with the cpu backend', () => {
  test('registration adds the missing kernels and replaces the slow/wrong ones', () => {
    const regs = registerWasmTrainingKernels();
    const kinds = Object.fromEntries(regs.map((r) => [r.kernelName, r.kind]));
    assert.equal(kinds.Conv2DBackpropFilter, 'added');
    assert.equal(kinds.UnsortedSegmentSum, 'added');
    assert.equal(kinds.Conv2DBackpropInput, 'replaced');
    assert.equal(kinds.BatchMatMul, 'replaced');
    assert.equal(kinds.MaxPoolGrad, 'replaced');
    // Idempotent.
    assert.deepEqual(registerWasmTrainingKernels(), regs);
  });

  for (const method of ['auto', 'gemm', 'im2col', 'conv', 'conv-rows'] as FilterGradMethod[]) {
    test(`Conv2DBackpropFilter (${method})`, async () => {
      registerWasmTrainingKernels({ filterGrad: method });
      try {
        for (const [i, c] of CONV_CASES.entries()) {
          const fShape = c.f;
          const dyShape = convOutShape(c.x, fShape, c.strides, c.pad, c.nchw);
          await agree(
            'Conv2DBackpropFilter',
            { x: { values: rand(c.x, 10 + i), shape: c.x }, dy: { values: rand(dyShape, 50 + i), shape: dyShape } },
            { ...convAttrs(c), filterShape: fShape },
            TOL,
            `filter-${i}`,
          );
        }
      } finally {
        registerWasmTrainingKernels();
      }
    });
  }

  test('Conv2DBackpropInput', async () => {
    for (const [i, c] of CONV_CASES.entries()) {
      const dyShape = convOutShape(c.x, c.f, c.strides, c.pad, c.nchw);
      await agree(
        'Conv2DBackpropInput',
        { dy: { values: rand(dyShape, 70 + i), shape: dyShape }, filter: { values: rand(c.f, 90 + i), shape: c.f } },
        { ...convAttrs(c), inputShape: c.x },
      );
    }
  });

  test('BatchMatMul (transposes, batches, broadcasting)', async () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[64, 32], [32, 48], false, false],
      [[32, 64], [32, 48], true, false],
      [[64, 32], [48, 32], false, true],
      [[32, 64], [48, 32], true, true],
      [[16, 512], [128, 512], false, true], // dense dx: small batch, wide layer
      [[512, 16], [512, 128], true, false], // dense dW
      [[3, 20, 30], [3, 30, 40], false, false], // batched
      [[3, 30, 20], [1, 40, 30], true, true], // batched, broadcast b
      [[1, 30, 20], [4, 30, 24], true, false], // broadcast a
      [[4, 64, 16], [4, 64, 16], false, true], // attention scores
      [[2, 2, 16, 8], [2, 2, 16, 8], false, true], // rank 4
      [[3, 4], [5, 3], true, true], // tiny: stays on the original kernel
      [[16, 1024], [1024, 256], false, false], // fresh wide weights: computed transposed
      [[2, 8, 1024], [1024, 256], false, false], // a batch of inputs, one matrix: folded
      [[3, 10, 40], [24, 40], false, true], // folded, transposed b
      [[4, 64, 48], [4, 64, 40], true, false], // batched on views, transposed a
      [[1, 64, 48], [5, 40, 64], true, true], // views, broadcast a, both transposed
      [[6, 64, 48], [1, 64, 40], true, false], // views, broadcast b (one view for all)
      [[2, 3, 64, 32], [2, 3, 64, 32], false, true], // rank 4 attention scores on views
    ];
    for (const [i, [as, bs, ta, tb]] of cases.entries()) {
      await agree(
        'BatchMatMul',
        { a: { values: rand(as, 200 + i), shape: as }, b: { values: rand(bs, 300 + i), shape: bs } },
        { transposeA: ta, transposeB: tb },
      );
    }
  });

  test('BatchMatMul with a reused weight (transposed first, cached packing after)', async () => {
    const av = rand([16, 1024], 350);
    const bv = rand([1024, 256], 351);
    await tf.setBackend('cpu');
    const ref = tf.tidy(() => tf.matMul(tf.tensor2d(av, [16, 1024]), tf.tensor2d(bv, [1024, 256])).dataSync());
    await tf.setBackend('wasm');
    const a = tf.tensor2d(av, [16, 1024]);
    const b = tf.tensor2d(bv, [1024, 256]);
    for (let i = 0; i < 3; i++) {
      const got = tf.tidy(() => tf.matMul(a, b).dataSync());
      assert.ok(relErr(got, ref) < TOL, `call ${i}: ${relErr(got, ref)}`);
    }
    tf.dispose([a, b]);
  });

  test('every kernel path frees what it allocates (backend data count returns to where it was)', async () => {
    // A 4-D attention product once kept its [batch, m, n] intermediate alive
    // (a reference-count leak invisible to tf.memory()), growing the wasm
    // heap to its 4 GB limit within a few epochs of the MRPC Transformer.
    await tf.setBackend('wasm');
    registerWasmTrainingKernels();
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[4, 3, 64, 8], [4, 3, 64, 8], false, true], // Q K^T (views)
      [[4, 3, 64, 64], [4, 3, 64, 8], false, false], // P V (views)
      [[4, 3, 64, 8], [4, 3, 64, 64], true, false],
      [[2, 96, 128], [128, 64], false, false], // batch folded into rows
      [[96, 128], [96, 64], true, false], // dense-layer gradients
      [[96, 128], [64, 128], false, true],
      [[16, 1024], [1024, 256], false, false], // fresh wide weight
    ];
    for (const [sa, sb, tA, tB] of cases) {
      const a = tf.tensor(rand(sa, 360), sa);
      const b = tf.tensor(rand(sb, 361), sb);
      const base = backend.numDataIds();
      for (let i = 0; i < 3; i++) tf.tidy(() => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, tA, tB).dataSync());
      assert.equal(backend.numDataIds(), base, `matMul ${JSON.stringify([sa, sb, tA, tB])} leaked backend data`);
      tf.dispose([a, b]);
    }
  });

  test('MaxPoolGrad (incl. ties, all-negative windows, -Infinity)', async () => {
    const cases: Array<[number[], number | [number, number], number | [number, number], 'same' | 'valid']> = [
      [[2, 8, 8, 3], 2, 2, 'valid'], // the paper CNN's pooling
      [[1, 8, 8, 1], 2, 2, 'valid'],
      [[2, 9, 9, 4], 3, 2, 'same'],
      [[1, 7, 6, 2], 3, 1, 'same'],
      [[2, 8, 8, 3], [2, 3], [1, 2], 'valid'],
      [[2, 5, 5, 2], 2, 2, 'same'],
    ];
    for (const [i, [xs, fsz, st, pad]] of cases.entries()) {
      const x = rand(xs, 400 + i);
      // ties and a window of equal values; an all-negative region; -Infinity
      x[0] = x[1]!;
      x[xs[3]!] = x[0];
      for (let j = 8; j < Math.min(20, x.length); j++) x[j] = -Math.abs(x[j]!) - 0.5;
      x[x.length - 1] = -Infinity;
      await tf.setBackend('cpu');
      const y = tf.maxPool(tf.tensor4d(x, xs as [number, number, number, number]), fsz, st, pad);
      const yv = await y.data();
      const ys = y.shape;
      y.dispose();
      await agree(
        'MaxPoolGrad',
        {
          dy: { values: rand(ys, 500 + i), shape: ys },
          input: { values: x, shape: xs },
          output: { values: Float32Array.from(yv), shape: ys },
        },
        { filterSize: fsz, strides: st, pad },
      );
    }
  });

  test('UnsortedSegmentSum (embedding gradient), incl. dropped ids', async () => {
    const ids1 = new Int32Array([0, 2, 2, 5, -1, 1, 0, 7, 3, 2]);
    await agree(
      'UnsortedSegmentSum',
      { x: { values: rand([10, 3, 4], 600), shape: [10, 3, 4] }, segmentIds: { values: ids1, shape: [10], dtype: 'int32' } },
      { numSegments: 6 },
    );
    // (Multi-dimensional ids: the cpu kernel cannot do them; the gradient of
    // GatherV2 always flattens its indices.)
    const ids2 = new Int32Array([1, 0, 3, 3, 2, 1]);
    await agree(
      'UnsortedSegmentSum',
      { x: { values: rand([6, 5], 601), shape: [6, 5] }, segmentIds: { values: ids2, shape: [6], dtype: 'int32' } },
      { numSegments: 4 },
    );
    await agree(
      'UnsortedSegmentSum',
      {
        x: { values: new Int32Array([1, 2, 3, 4, 5, 6]), shape: [3, 2], dtype: 'int32' },
        segmentIds: { values: new Int32Array([1, 1, 0]), shape: [3], dtype: 'int32' },
      },
      { numSegments: 2 },
    );
  });

  test('gradients of a small conv net (conv s1/s2, maxpool, dense, embedding) match cpu', async () => {
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(rand([2, 8, 8, 3], 700), [2, 8, 8, 3]);
        const w1 = tf.tensor4d(rand([3, 3, 3, 8], 701), [3, 3, 3, 8]);
        const w2 = tf.tensor4d(rand([3, 3, 8, 8], 702), [3, 3, 8, 8]);
        const d = tf.tensor2d(rand([32, 4], 703), [32, 4]);
        const emb = tf.tensor2d(rand([10, 4], 704), [10, 4]);
        const ids = tf.tensor1d([3, 7], 'int32');
        const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => {
          let h = tf.relu(tf.conv2d(x, a as tf.Tensor4D, 1, 'same'));
          h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
          h = tf.relu(tf.conv2d(h as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'));
          const logits = tf.add(tf.matMul(tf.reshape(h, [2, 32]), c), tf.gather(e, ids));
          return tf.sum(tf.square(logits));
        };
        return tf.grads(f)([w1, w2, d, emb]).map((g) => g.dataSync());
      });
    };
    const ref = await grads('cpu');
    const got = await grads('wasm');
    ref.forEach((r, i) => assert.ok(relErr(got[i]!, r) < TOL, `grad ${i}: ${relErr(got[i]!, r)}`));
  });
});

describe('backend selection', () => {
  test('IWDL_BACKEND / requested values are validated', () => {
    assert.equal(resolveRequest('wasm'), 'wasm');
    assert.equal(resolveRequest(' CPU '), 'cpu');
    assert.equal(resolveRequest('tensorflow'), 'node');
    assert.throws(() => resolveRequest('gpu'), BackendUnavailableError);
  });

  test('a forced backend that is not usable is a clear error', () => {
    let nodeUsable = true;
    try {
      backendFacts('node');
    } catch (e) {
      nodeUsable = false;
      assert.ok(e instanceof BackendUnavailableError);
      assert.match((e as Error).message, /tfjs-node/);
    }
    const auto = backendFacts();
    assert.equal(auto.backend, nodeUsable ? 'node' : 'wasm');
    assert.match(backendFacts('cpu').version, /^\d+\.\d+\.\d+/);
    assert.match(backendFacts('wasm').version, /^\d+\.\d+\.\d+\+kernels\.\d+$/);
  });

  test('backendFacts is cheap and loads no tfjs; initBackend agrees; threaded wasm works and exits', () => {
    const backendJs = join(here, '..', 'src', 'ml', 'backend.js');
    const script = `
      const t0 = performance.now();
      const { backendFacts, initBackendRuntime } = await import(${JSON.stringify(backendJs)});
      const facts = backendFacts('wasm');
      const ms = performance.now() - t0;
      const loaded = typeof globalThis._tfengine !== 'undefined';
      const rt = await initBackendRuntime('wasm', 2);
      const tf = await import('@tensorflow/tfjs');
      const x = tf.randomNormal([4, 16, 16, 8], 0, 1, 'float32', 1);
      const w = tf.randomNormal([3, 3, 8, 16], 0, 1, 'float32', 2);
      const y = Array.from(tf.conv2d(x, w, 1, 'same').dataSync().slice(0, 4));
      console.log(JSON.stringify({ facts, ms, loaded, rt, y }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, IWDL_BACKEND: '' },
    });
    assert.equal(r.status, 0, `child failed (or hung): ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      facts: { backend: string; version: string };
      ms: number;
      loaded: boolean;
      rt: { backend: string; version: string; threads: number; notes: string[] };
      y: number[];
    };
    assert.equal(out.loaded, false, 'backendFacts imported tfjs');
    assert.ok(out.ms < 500, `backendFacts took ${out.ms} ms`);
    assert.equal(out.rt.backend, out.facts.backend);
    assert.equal(out.rt.version, out.facts.version);
    assert.equal(out.rt.threads, 2, `threads: ${JSON.stringify(out.rt.notes)}`);
    assert.equal(out.y.length, 4);
  });
});
