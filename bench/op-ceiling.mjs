#!/usr/bin/env node
/**
 * How fast can the wasm backend be at all? The training step of the paper's
 * CNN is almost only convolutions (forward, input gradient, filter gradient),
 * all of which run as XNNPACK GEMMs. This measures, in one run, the GFLOP/s of
 * those operations alone, on tfjs-backend-wasm and on PyTorch 1.13 CPU at the
 * same thread count: the ratio bounds what any arrangement of wasm kernels can
 * reach against PyTorch on the whole step (bench/train-throughput.mjs).
 *
 *   npx tsc -b && node bench/op-ceiling.mjs                # threads 1 and 2
 *   node bench/op-ceiling.mjs --threads 2 --python /usr/bin/python3
 *
 * Shapes: the five 3x3 convolutions of the paper CNN at batch 16 (NHWC for
 * tfjs, NCHW for PyTorch, each framework's native layout), and the GEMM that
 * each becomes after im2col (M = batch x pixels, K = 9 x in-channels,
 * N = out-channels).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const python = opt('--python', '/usr/bin/python3');
const threadList = opt('--threads', '1,2').split(',').map(Number);
const reps = Number(opt('--reps', '10'));

const B = 16;
/** [name, H=W, Cin, Cout] of the paper CNN's 3x3 convolutions, padding 'same'. */
const CONVS = [
  ['conv1 3->64 32px', 32, 3, 64],
  ['conv2 64->64 32px', 32, 64, 64],
  ['conv3 64->128 16px', 16, 64, 128],
  ['conv4 128->128 16px', 16, 128, 128],
];

async function wasmChild(threads) {
  const { initBackendRuntime } = await import(join(root, 'dist/src/ml/backend.js'));
  await initBackendRuntime('wasm', threads);
  const tf = await import('@tensorflow/tfjs');
  const out = [];
  const time = async (fn) => {
    for (let i = 0; i < 2; i++) tf.tidy(fn).dispose();
    const t0 = performance.now();
    let r;
    for (let i = 0; i < reps; i++) {
      r?.dispose();
      r = tf.tidy(fn);
    }
    await r.data();
    r.dispose();
    return (performance.now() - t0) / reps / 1000;
  };
  for (const [name, hw, ci, co] of CONVS) {
    const x = tf.randomNormal([B, hw, hw, ci]);
    const f = tf.randomNormal([3, 3, ci, co]);
    const flops = 2 * B * hw * hw * 9 * ci * co;
    const sConv = await time(() => tf.conv2d(x, f, 1, 'same'));
    const a = tf.randomNormal([B * hw * hw, 9 * ci]);
    const b = tf.randomNormal([9 * ci, co]);
    const sMm = await time(() => tf.matMul(a, b));
    out.push({ name, flops, conv: flops / sConv / 1e9, matmul: flops / sMm / 1e9 });
    tf.dispose([x, f, a, b]);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

const TORCH = `
import json, sys, time, torch
threads, reps, B = int(sys.argv[1]), int(sys.argv[2]), ${B}
torch.set_num_threads(threads)
convs = json.loads(sys.argv[3])
def timeit(fn):
    with torch.no_grad():
        for _ in range(2): fn()
        t0 = time.perf_counter()
        for _ in range(reps): fn()
        return (time.perf_counter() - t0) / reps
out = []
for name, hw, ci, co in convs:
    x = torch.randn(B, ci, hw, hw); w = torch.randn(co, ci, 3, 3)
    flops = 2 * B * hw * hw * 9 * ci * co
    s_conv = timeit(lambda: torch.nn.functional.conv2d(x, w, padding=1))
    a = torch.randn(B * hw * hw, 9 * ci); b = torch.randn(9 * ci, co)
    s_mm = timeit(lambda: a @ b)
    out.append({"name": name, "flops": flops, "conv": flops / s_conv / 1e9, "matmul": flops / s_mm / 1e9})
print(json.dumps(out))
`;

if (args[0] === '--child') {
  await wasmChild(Number(args[1]));
} else {
  const self = fileURLToPath(import.meta.url);
  console.log(`GFLOP/s of the paper CNN's convolutions (batch ${B}), ${reps} reps each; higher is better`);
  for (const threads of threadList) {
    const w = spawnSync(process.execPath, [self, '--child', String(threads), '--reps', String(reps)], { encoding: 'utf8' });
    if (w.status !== 0) throw new Error(`wasm child failed: ${w.stderr}`);
    const wasm = JSON.parse(w.stdout.trim().split('\n').pop());
    const t = spawnSync(python, ['-c', TORCH, String(threads), String(reps), JSON.stringify(CONVS)], { encoding: 'utf8' });
    const torch = t.status === 0 ? JSON.parse(t.stdout.trim().split('\n').pop()) : null;
    if (!torch) console.log(`(PyTorch unavailable with ${python}: ${t.stderr.trim().split('\n').pop()})`);
    console.log(`\n${threads} thread(s)`);
    console.log('op'.padEnd(22), 'wasm conv', 'torch conv', ' ratio', '| wasm mm', 'torch mm', ' ratio');
    for (let i = 0; i < wasm.length; i++) {
      const a = wasm[i];
      const b = torch?.[i];
      const r = (x, y) => (y ? (x / y).toFixed(2) : '  -').padStart(6);
      console.log(
        a.name.padEnd(22),
        a.conv.toFixed(1).padStart(9),
        (b ? b.conv.toFixed(1) : '-').padStart(10),
        r(a.conv, b?.conv),
        '|',
        a.matmul.toFixed(1).padStart(7),
        (b ? b.matmul.toFixed(1) : '-').padStart(8),
        r(a.matmul, b?.matmul),
      );
    }
  }
}
