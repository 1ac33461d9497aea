#!/usr/bin/env node
/**
 * Training throughput (images/s) of the paper's CIFAR-10 CNN on our compute
 * backends, side by side with PyTorch on the same machine in the same run.
 *
 * The network (Byrd & Lipton 2019, Sec. 3): conv3x3 64, conv3x3 64, maxpool 2,
 * 3x conv3x3 128, maxpool 2, dense 512, dense 128, 1 logit; ReLU; SGD without
 * momentum; batch 16; random 32x32x3 inputs. Measured: the whole step
 * (forward + backward + SGD update) after warm-up; no host round trips inside
 * the step.
 *
 * Every approach runs in its own process (the wasm thread pool and the kernel
 * registry are per process), one after another; the list is repeated
 * --cycles times, interleaved, so that load from other processes on a shared
 * machine hits all approaches alike. "best" is the best round (closest to an
 * idle machine), "median" the median over all rounds; "img per CPU-s" divides
 * by the process's CPU time (all its threads) instead of wall time, which is
 * far less sensitive to other load (PyTorch's OpenMP threads spin while they
 * wait, so its multi-threaded CPU time is inflated).
 *
 *   npx tsc -b && node bench/train-throughput.mjs            # default set
 *   node bench/train-throughput.mjs --approaches wasm,pytorch --cycles 3
 *   node bench/train-throughput.mjs --profile wasm           # per-kernel times of one step
 *   node bench/train-throughput.mjs --list
 *
 * Options: --threads N (2) --batch N (16) --warmup N (2) --steps N (6)
 * --rounds N (3) --cycles N (2) --python PATH (/usr/bin/python3, needs torch)
 * --json FILE (write all results).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

/** Every approach measured; `kernels` are registerWasmTrainingKernels options. */
const APPROACHES = {
  // Only what wasm lacks, in the most direct form: filter gradient as one
  // Conv2D over transposed operands; wasm's own scalar Conv2DBackpropInput,
  // BatchMatMul and MaxPoolGrad. (The "quick probe".)
  'wasm-naive': {
    backend: 'wasm',
    kernels: { filterGrad: 'conv', fastInputGrad: false, fastMatMul: false, fastMaxPoolGrad: false },
  },
  // + input gradient as one XNNPACK Conv2D of the flipped filter.
  'wasm-+inputgrad': { backend: 'wasm', kernels: { filterGrad: 'conv', fastMatMul: false, fastMaxPoolGrad: false } },
  // + transposed matrix products routed to XNNPACK.
  'wasm-+matmul': { backend: 'wasm', kernels: { filterGrad: 'conv', fastMaxPoolGrad: false } },
  // + one-pass MaxPoolGrad (all overrides on), filter gradient variants:
  'wasm-filter-conv': { backend: 'wasm', kernels: { filterGrad: 'conv' } },
  'wasm-filter-gemm': { backend: 'wasm', kernels: { filterGrad: 'gemm' } },
  'wasm-filter-im2col': { backend: 'wasm', kernels: { filterGrad: 'im2col' } },
  'wasm-filter-rows': { backend: 'wasm', kernels: { filterGrad: 'conv-rows' } },
  // The defaults (filterGrad 'auto': conv, or per-tap products for Ci < 16).
  wasm: { backend: 'wasm', kernels: {} },
  'wasm-1thread': { backend: 'wasm', threads: 1, kernels: {} },
  // Two independent 1-thread trainings at once (how a pipeline with many
  // runs can use 2 cores): aggregate images/s.
  'wasm-1thread-x2': { backend: 'wasm', threads: 1, kernels: {}, parallel: 2 },
  'wasm-unfused': { backend: 'wasm', model: 'unfused', kernels: {} },
  'wasm-layers': { backend: 'wasm', model: 'layers', kernels: {} },
  'wasm-grads': { backend: 'wasm', step: 'grads', kernels: {} },
  cpu: { backend: 'cpu', steps: 1, rounds: 1, warmup: 1 },
  node: { backend: 'node' },
  pytorch: { python: [] },
  'pytorch-1thread': { python: [], threads: 1 },
  'pytorch-1thread-x2': { python: [], threads: 1, parallel: 2 },
  'pytorch-channels-last': { python: ['--channels-last'] },
};
const DEFAULT_SET = [
  'pytorch',
  'wasm-naive',
  'wasm-+inputgrad',
  'wasm-+matmul',
  'wasm-filter-conv',
  'wasm-filter-gemm',
  'wasm-filter-im2col',
  'wasm',
  'wasm-layers',
  'wasm-grads',
  'wasm-1thread',
  'wasm-1thread-x2',
  'pytorch-1thread',
  'pytorch-1thread-x2',
];

function parseArgs(argv) {
  const o = {
    threads: 2,
    batch: 16,
    warmup: 2,
    steps: 6,
    rounds: 3,
    cycles: 2,
    python: '/usr/bin/python3',
    approaches: DEFAULT_SET,
    child: null,
    profile: null,
    json: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--threads') o.threads = Number(v());
    else if (a === '--batch') o.batch = Number(v());
    else if (a === '--warmup') o.warmup = Number(v());
    else if (a === '--steps') o.steps = Number(v());
    else if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--cycles') o.cycles = Number(v());
    else if (a === '--python') o.python = v();
    else if (a === '--approaches') o.approaches = v().split(',').filter(Boolean);
    else if (a === '--child') o.child = v();
    else if (a === '--profile') o.profile = v();
    else if (a === '--json') o.json = v();
    else if (a === '--list') {
      for (const [k, s] of Object.entries(APPROACHES)) console.log(k.padEnd(20), JSON.stringify(s));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  for (const a of o.approaches) if (!APPROACHES[a]) throw new Error(`unknown approach ${a} (see --list)`);
  return o;
}

// ---------------------------------------------------------------- child ---

async function child(name, o, profile) {
  const spec = APPROACHES[name];
  const threads = spec.threads ?? o.threads;
  const { initBackendRuntime } = await import(join(root, 'dist/src/ml/backend.js'));
  const rt = await initBackendRuntime(spec.backend, threads);
  const tf = await import('@tensorflow/tfjs');
  if (spec.backend === 'wasm') {
    const { registerWasmTrainingKernels } = await import(join(root, 'dist/src/ml/kernels/index.js'));
    registerWasmTrainingKernels(spec.kernels ?? {});
  }
  const B = o.batch;
  const { params, forward } = buildModel(tf, spec.model ?? 'fused', B);
  const opt = tf.train.sgd(0.01);
  const x = tf.randomNormal([B, 32, 32, 3]);
  const y = tf.cast(tf.greater(tf.randomUniform([B, 1]), 0.5), 'float32');
  const w = tf.onesLike(y); // importance weights, as in the real runs
  const lossFn = () => tf.losses.sigmoidCrossEntropy(y, forward(x), w);
  const step =
    spec.step === 'grads'
      ? () =>
          tf.tidy(() => {
            const { grads } = tf.variableGrads(lossFn, params);
            for (const p of params) p.assign(tf.sub(p, tf.mul(grads[p.name], 0.01)));
          })
      : () => opt.minimize(lossFn, false, params);
  const sync = async () => {
    await params[params.length - 1].data();
  };

  const warmup = spec.warmup ?? o.warmup;
  for (let i = 0; i < warmup; i++) step();
  await sync();

  if (profile) {
    // Wrap every kernel of the backend to time it (wall and process CPU time,
    // which includes the wasm pthreads); our kernels call others, so time is
    // attributed to the outermost kernel and nested calls are listed apart.
    const stats = new Map();
    let depth = 0;
    const stack = [];
    const bk = tf.getBackend();
    for (const cfg of tf.getKernelsForBackend(bk)) {
      const inner = cfg.kernelFunc;
      tf.unregisterKernel(cfg.kernelName, bk);
      tf.registerKernel({
        ...cfg,
        kernelFunc: (args) => {
          const key = depth === 0 ? cfg.kernelName : `  ${stack[stack.length - 1]} > ${cfg.kernelName}`;
          stack.push(cfg.kernelName);
          depth++;
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          try {
            return inner(args);
          } finally {
            const wall = performance.now() - t0;
            const c = process.cpuUsage(c0);
            depth--;
            stack.pop();
            const st = stats.get(key) ?? { n: 0, wall: 0, cpu: 0 };
            st.n++;
            st.wall += wall;
            st.cpu += (c.user + c.system) / 1000;
            stats.set(key, st);
          }
        },
      });
    }
    const n = 3;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) step();
    await sync();
    const wall = (performance.now() - t0) / n;
    const cu = process.cpuUsage(c0);
    const cpu = (cu.user + cu.system) / 1000 / n;
    const top = [...stats].filter(([k]) => !k.startsWith(' '));
    const kWall = top.reduce((a, [, v]) => a + v.wall, 0) / n;
    const kCpu = top.reduce((a, [, v]) => a + v.cpu, 0) / n;
    console.log(`# ${name}: ${rt.backend} ${rt.version}, ${rt.threads} thread(s), batch ${B}; per step (mean of ${n}):`);
    console.log(`#   step wall ${wall.toFixed(1)} ms, cpu ${cpu.toFixed(1)} ms; in kernels wall ${kWall.toFixed(1)} ms, cpu ${kCpu.toFixed(1)} ms`);
    console.log('    wall ms   cpu ms  calls  kernel (nested calls indented)');
    const rows = [...stats].sort((a, b) => b[1].cpu - a[1].cpu);
    for (const [k, v] of rows.filter(([k]) => !k.startsWith(' ')).slice(0, 18)) {
      console.log(`${(v.wall / n).toFixed(1).padStart(10)} ${(v.cpu / n).toFixed(1).padStart(8)} ${String(v.n / n).padStart(6)}  ${k}`);
      for (const [k2, v2] of rows.filter(([k2]) => k2.startsWith(`  ${k} >`)).slice(0, 8)) {
        console.log(`${(v2.wall / n).toFixed(1).padStart(10)} ${(v2.cpu / n).toFixed(1).padStart(8)} ${String(v2.n / n).padStart(6)}  ${k2}`);
      }
    }
    return;
  }

  const steps = spec.steps ?? o.steps;
  const rounds = spec.rounds ?? o.rounds;
  const rates = [];
  const cpuRates = [];
  const before = tf.memory().numTensors;
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    await sync();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    rates.push((steps * B) / wall);
    cpuRates.push((steps * B) / ((c.user + c.system) / 1e6));
  }
  const leaked = tf.memory().numTensors - before;
  console.log(
    JSON.stringify({
      name,
      framework: `tfjs ${tf.version.tfjs} ${rt.backend} ${rt.version}`,
      threads: rt.threads,
      notes: rt.notes,
      batch: B,
      rounds: rates,
      cpuRounds: cpuRates,
      leakedTensorsPerStep: leaked / (rounds * steps),
    }),
  );
}

/** The paper's CNN as tfjs ops ('fused' | 'unfused') or tf.layers ('layers'). */
function buildModel(tf, kind, B) {
  const he = (shape, name) => {
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    return tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn)), true, name);
  };
  const zeros = (n, name) => tf.variable(tf.zeros([n]), true, name);
  if (kind === 'layers') {
    const m = tf.sequential();
    const conv = (filters, first) =>
      tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', ...(first ? { inputShape: [32, 32, 3] } : {}) });
    m.add(conv(64, true));
    m.add(conv(64));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(conv(128));
    m.add(conv(128));
    m.add(conv(128));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 512, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 128, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 1 }));
    const params = m.trainableWeights.map((v) => v.read());
    return { params, forward: (x) => m.apply(x, { training: true }) };
  }
  const p = {
    c1: he([3, 3, 3, 64], 'c1'), b1: zeros(64, 'b1'),
    c2: he([3, 3, 64, 64], 'c2'), b2: zeros(64, 'b2'),
    c3: he([3, 3, 64, 128], 'c3'), b3: zeros(128, 'b3'),
    c4: he([3, 3, 128, 128], 'c4'), b4: zeros(128, 'b4'),
    c5: he([3, 3, 128, 128], 'c5'), b5: zeros(128, 'b5'),
    f1: he([8192, 512], 'f1'), g1: zeros(512, 'g1'),
    f2: he([512, 128], 'f2'), g2: zeros(128, 'g2'),
    f3: he([128, 1], 'f3'), g3: zeros(1, 'g3'),
  };
  const fused = kind === 'fused';
  const conv = (x, w, b) =>
    fused
      ? tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: b, activation: 'relu' })
      : tf.relu(tf.add(tf.conv2d(x, w, 1, 'same'), b));
  const dense = (x, w, b, relu) =>
    fused
      ? tf.fused.matMul({ a: x, b: w, bias: b, activation: relu ? 'relu' : 'linear' })
      : relu
        ? tf.relu(tf.add(tf.matMul(x, w), b))
        : tf.add(tf.matMul(x, w), b);
  const forward = (x) => {
    let h = conv(x, p.c1, p.b1);
    h = conv(h, p.c2, p.b2);
    h = tf.maxPool(h, 2, 2, 'valid');
    h = conv(h, p.c3, p.b3);
    h = conv(h, p.c4, p.b4);
    h = conv(h, p.c5, p.b5);
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.reshape(h, [B, 8192]);
    h = dense(h, p.f1, p.g1, true);
    h = dense(h, p.f2, p.g2, true);
    return dense(h, p.f3, p.g3, false);
  };
  return { params: Object.values(p), forward };
}

// --------------------------------------------------------------- parent ---

function commandFor(name, o) {
  const spec = APPROACHES[name];
  const threads = spec.threads ?? o.threads;
  if (spec.python) {
    return [
      o.python,
      [
        join(here, 'train_throughput_torch.py'),
        '--threads', String(threads), '--batch', String(o.batch), '--warmup', String(o.warmup),
        '--steps', String(o.steps), '--rounds', String(o.rounds), ...spec.python,
      ],
    ];
  }
  return [
    process.execPath,
    [fileURLToPath(import.meta.url), '--child', name, '--threads', String(o.threads), '--batch', String(o.batch),
      '--warmup', String(o.warmup), '--steps', String(o.steps), '--rounds', String(o.rounds)],
  ];
}

function runChild(cmd, args) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, IWDL_BACKEND: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 600_000);
    p.on('error', (e) => {
      clearTimeout(timer);
      resolve({ error: e.message });
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').reverse().find((l) => l.startsWith('{'));
      if (code !== 0 || !line) resolve({ error: `exit ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}` });
      else resolve(JSON.parse(line));
    });
  });
}

/** Runs an approach (N copies at once when `parallel`); rates are summed over copies. */
async function runOne(name, o) {
  const spec = APPROACHES[name];
  const n = spec.parallel ?? 1;
  const [cmd, args] = commandFor(name, o);
  const rs = await Promise.all(Array.from({ length: n }, () => runChild(cmd, args)));
  const bad = rs.find((r) => r.error);
  if (bad) return { name, error: bad.error };
  const res = { ...rs[0], name };
  if (n > 1) {
    const sum = (key) => rs[0][key].map((_, i) => rs.reduce((a, r) => a + (r[key][i] ?? 0), 0));
    res.rounds = sum('rounds');
    res.cpuRounds = sum('cpuRounds').map((x) => x / n); // per CPU-second: the mean, not the sum
    res.framework = `${res.framework} x${n} processes`;
  }
  return res;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.child) return child(o.child, o, false);
  if (o.profile) return child(o.profile, o, true);

  const cmd = `node bench/train-throughput.mjs ${process.argv.slice(2).join(' ')}`.trim();
  console.log(`# ${cmd}`);
  console.log(`# ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`# batch ${o.batch}, ${o.threads} threads unless noted, ${o.warmup} warm-up steps, ${o.rounds} rounds x ${o.steps} steps, ${o.cycles} cycles`);
  const all = new Map(o.approaches.map((a) => [a, { rounds: [], cpuRounds: [], errors: [], info: null }]));
  for (let c = 0; c < o.cycles; c++) {
    for (const a of o.approaches) {
      const r = await runOne(a, o);
      const slot = all.get(a);
      if (r.error) {
        slot.errors.push(r.error);
        console.log(`  cycle ${c + 1} ${a}: ERROR ${r.error}`);
        continue;
      }
      slot.rounds.push(...r.rounds);
      slot.cpuRounds.push(...(r.cpuRounds ?? []));
      slot.info = r;
      console.log(
        `  cycle ${c + 1} ${a.padEnd(20)} ${r.rounds.map((x) => x.toFixed(1)).join(' ')} img/s` +
          `   (per CPU-second: ${(r.cpuRounds ?? []).map((x) => x.toFixed(1)).join(' ')})`,
      );
    }
  }
  const ref = all.get('pytorch')?.rounds.length ? Math.max(...all.get('pytorch').rounds) : null;
  console.log(`# load after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('');
  console.log('(x2 rows: two processes at once; img/s summed over them, img per CPU-s averaged)');
  console.log('| approach | framework | threads | best img/s | median img/s | best / PyTorch best | img per CPU-s (best) |');
  console.log('|---|---|---|---|---|---|---|');
  const rows = [];
  for (const [a, s] of all) {
    if (!s.rounds.length) {
      console.log(`| ${a} | (failed: ${s.errors[0] ?? '?'}) | | | | | |`);
      continue;
    }
    const best = Math.max(...s.rounds);
    const med = median(s.rounds);
    const cpuBest = s.cpuRounds.length ? Math.max(...s.cpuRounds) : NaN;
    rows.push({ approach: a, framework: s.info.framework, threads: s.info.threads, best, median: med, cpuBest, rounds: s.rounds, cpuRounds: s.cpuRounds });
    console.log(
      `| ${a} | ${s.info.framework} | ${s.info.threads} | ${best.toFixed(1)} | ${med.toFixed(1)} | ${ref ? (best / ref).toFixed(2) : '-'} | ${cpuBest.toFixed(1)} |`,
    );
  }
  if (o.json) writeFileSync(o.json, JSON.stringify({ command: cmd, results: rows }, null, 2));
}

await main();
