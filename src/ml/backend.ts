/**
 * Choice and initialization of the tfjs compute backend.
 *
 *   node  @tensorflow/tfjs-node: native TensorFlow (optional dependency; its
 *         install downloads libtensorflow, so it is absent without internet)
 *   wasm  @tensorflow/tfjs-backend-wasm: XNNPACK, SIMD, threads, plus the
 *         training kernels of ./kernels
 *   cpu   tfjs's pure-JavaScript backend: a last resort, far too slow for
 *         convolutional training
 *
 * `auto` (the default) takes the first usable one in that order. The choice
 * can be forced by the `requested` argument or the environment variable
 * IWDL_BACKEND (node|wasm|cpu|auto); a forced backend that is not usable is an
 * error, never a silent fallback.
 *
 * `backendFacts()` decides without importing tfjs (package.json lookups and
 * file checks only, memoized), so the engine can call it while planning;
 * `initBackend()` initializes exactly the backend that `backendFacts()` names
 * and returns the same facts.
 */
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { WASM_KERNELS_REVISION } from './kernels/revision.js';

export type BackendName = 'node' | 'wasm' | 'cpu';
export type BackendRequest = BackendName | 'auto';

export const BACKEND_NAMES: readonly BackendName[] = ['node', 'wasm', 'cpu'];

/** What a result computed on this backend depends on (part of cache keys). */
export interface BackendFacts {
  backend: BackendName;
  /**
   * node: the @tensorflow/tfjs-node version; cpu: the
   * @tensorflow/tfjs-backend-cpu version; wasm: the
   * @tensorflow/tfjs-backend-wasm version plus `+kernels.<revision>` of our
   * training kernels (./kernels), which change the float summation order.
   */
  version: string;
}

/** Run-time details that do not change results (for logs). */
export interface BackendRuntime extends BackendFacts {
  /** The tfjs backend name: 'tensorflow', 'wasm' or 'cpu'. */
  tfjsBackend: string;
  /** Threads the backend computes with (XNNPACK pool incl. the main thread; TF intra-op). */
  threads: number;
  /** wasm only: SIMD build in use. */
  simd?: boolean;
  /** Free-form notes (e.g. why fewer threads than requested). */
  notes: string[];
}

export class BackendUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

const requireHere = createRequire(import.meta.url);

interface PackageInfo {
  dir: string;
  version: string;
}

/** Finds an installed package's directory and version, or null. */
function findPackage(name: string, from: NodeRequire = requireHere): PackageInfo | null {
  let dir: string | null = null;
  try {
    dir = dirname(from.resolve(`${name}/package.json`));
  } catch {
    // Packages with an "exports" map may hide package.json: resolve the main
    // entry and walk up to the package root.
    try {
      let d = dirname(from.resolve(name));
      for (;;) {
        const pj = join(d, 'package.json');
        if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === name) {
          dir = d;
          break;
        }
        const up = dirname(d);
        if (up === d) break;
        d = up;
      }
    } catch {
      return null;
    }
  }
  if (!dir) return null;
  try {
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string };
    return { dir, version: pj.version ?? '0.0.0' };
  } catch {
    return null;
  }
}

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

interface Availability {
  ok: boolean;
  version: string;
  why: string;
}

function nodeAvailability(): Availability {
  const pkg = findPackage('@tensorflow/tfjs-node');
  if (!pkg) {
    return {
      ok: false,
      version: '',
      why:
        '@tensorflow/tfjs-node is not installed (it is an optional dependency whose install downloads ' +
        'libtensorflow, which needs internet access; install it with `npm install @tensorflow/tfjs-node`)',
    };
  }
  // The native addon lives in lib/napi-v<N>/tfjs_binding.node; a package
  // whose install script failed or was skipped lacks it.
  const lib = join(pkg.dir, 'lib');
  let binding = false;
  try {
    binding = readdirSync(lib).some((d) => d.startsWith('napi-v') && existsSync(join(lib, d, 'tfjs_binding.node')));
  } catch {
    binding = false;
  }
  if (!binding) {
    return {
      ok: false,
      version: pkg.version,
      why:
        `@tensorflow/tfjs-node ${pkg.version} is installed without its native addon ` +
        `(${join(lib, 'napi-v*', 'tfjs_binding.node')}); its install script did not complete ` +
        '(run `npm rebuild @tensorflow/tfjs-node` with internet access)',
    };
  }
  // tfjs-node registers its backend in the tfjs-core that *its* @tensorflow/tfjs
  // loads; it must be the one we import, or we would never see the backend.
  const ours = findPackage('@tensorflow/tfjs');
  const theirsTfjs = findPackage('@tensorflow/tfjs', createRequire(join(pkg.dir, 'package.json')));
  const oursCore = ours ? findPackage('@tensorflow/tfjs-core', createRequire(join(ours.dir, 'package.json'))) : null;
  const theirsCore = theirsTfjs
    ? findPackage('@tensorflow/tfjs-core', createRequire(join(theirsTfjs.dir, 'package.json')))
    : null;
  if (!oursCore || !theirsCore || realpathOrSelf(oursCore.dir) !== realpathOrSelf(theirsCore.dir)) {
    return {
      ok: false,
      version: pkg.version,
      why:
        `@tensorflow/tfjs-node ${pkg.version} uses a different @tensorflow/tfjs-core ` +
        `(${theirsCore?.version ?? '?'}) than @tensorflow/tfjs (${oursCore?.version ?? '?'}); ` +
        'install matching versions so npm deduplicates them',
    };
  }
  return { ok: true, version: pkg.version, why: '' };
}

function wasmAvailability(): Availability {
  const pkg = findPackage('@tensorflow/tfjs-backend-wasm');
  if (!pkg) return { ok: false, version: '', why: '@tensorflow/tfjs-backend-wasm is not installed' };
  if (!existsSync(join(pkg.dir, 'dist', 'tfjs-backend-wasm.wasm'))) {
    return { ok: false, version: pkg.version, why: `@tensorflow/tfjs-backend-wasm ${pkg.version} lacks its .wasm binaries` };
  }
  return { ok: true, version: `${pkg.version}+kernels.${WASM_KERNELS_REVISION}`, why: '' };
}

function cpuAvailability(): Availability {
  const tfjs = findPackage('@tensorflow/tfjs');
  const cpu = tfjs ? findPackage('@tensorflow/tfjs-backend-cpu', createRequire(join(tfjs.dir, 'package.json'))) : null;
  if (!cpu) return { ok: false, version: '', why: '@tensorflow/tfjs (with @tensorflow/tfjs-backend-cpu) is not installed' };
  return { ok: true, version: cpu.version, why: '' };
}

const availabilityCache = new Map<BackendName, Availability>();

function availability(name: BackendName): Availability {
  let a = availabilityCache.get(name);
  if (!a) {
    a = name === 'node' ? nodeAvailability() : name === 'wasm' ? wasmAvailability() : cpuAvailability();
    availabilityCache.set(name, a);
  }
  return a;
}

/** The request after applying IWDL_BACKEND; validates the value. */
export function resolveRequest(requested?: string | null): BackendRequest {
  const raw = (requested ?? process.env.IWDL_BACKEND ?? 'auto').trim().toLowerCase() || 'auto';
  const alias: Record<string, BackendRequest> = { tensorflow: 'node', 'tfjs-node': 'node', native: 'node' };
  const r = alias[raw] ?? raw;
  if (r === 'auto' || (BACKEND_NAMES as readonly string[]).includes(r)) return r as BackendRequest;
  const src = requested != null ? 'requested backend' : 'IWDL_BACKEND';
  throw new BackendUnavailableError(`${src} '${raw}' is not one of node, wasm, cpu, auto`);
}

/**
 * The backend a run would use and its version, without importing tfjs.
 * Throws BackendUnavailableError when a forced backend is not usable (or,
 * with `auto`, when none is).
 */
export function backendFacts(requested?: string | null): BackendFacts {
  const req = resolveRequest(requested);
  if (req !== 'auto') {
    const a = availability(req);
    if (!a.ok) {
      const how = requested != null ? `backend '${req}' was requested` : `IWDL_BACKEND=${req}`;
      throw new BackendUnavailableError(`${how}, but it is not usable: ${a.why}`);
    }
    return { backend: req, version: a.version };
  }
  const whyNot: string[] = [];
  for (const name of BACKEND_NAMES) {
    const a = availability(name);
    if (a.ok) return { backend: name, version: a.version };
    whyNot.push(`${name}: ${a.why}`);
  }
  throw new BackendUnavailableError(`no compute backend is usable:\n  ${whyNot.join('\n  ')}`);
}

/** Threads to use when the caller does not say: IWDL_THREADS, else all cores. */
export function defaultThreads(): number {
  const env = Number(process.env.IWDL_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

let current: { promise: Promise<BackendRuntime>; facts: BackendFacts; threads: number } | null = null;

/**
 * Initializes tfjs on the backend that `backendFacts(requested)` names, with
 * `threads` compute threads (default: IWDL_THREADS, else all cores), and
 * returns the same facts. Once per process: later calls with the same
 * backend return the first initialization (the thread count of a wasm or
 * native backend cannot change after it starts); a different backend is an
 * error.
 */
export async function initBackend(requested?: string | null, threads?: number): Promise<BackendFacts> {
  const rt = await initBackendRuntime(requested, threads);
  return { backend: rt.backend, version: rt.version };
}

/** As initBackend, with run-time details (threads, SIMD, notes). */
export function initBackendRuntime(requested?: string | null, threads?: number): Promise<BackendRuntime> {
  const facts = backendFacts(requested);
  const n = Math.max(1, Math.floor(threads ?? defaultThreads()));
  if (current) {
    if (current.facts.backend !== facts.backend || current.facts.version !== facts.version) {
      throw new BackendUnavailableError(
        `initBackend: this process already runs on ${current.facts.backend}; cannot switch to ${facts.backend}`,
      );
    }
    return current.promise;
  }
  const promise = start(facts, n);
  current = { promise, facts, threads: n };
  promise.catch(() => {
    if (current?.promise === promise) current = null;
  });
  return promise;
}

async function start(facts: BackendFacts, threads: number): Promise<BackendRuntime> {
  switch (facts.backend) {
    case 'node':
      return startNode(facts, threads);
    case 'wasm':
      return startWasm(facts, threads);
    case 'cpu':
      return startCpu(facts);
  }
}

async function startNode(facts: BackendFacts, threads: number): Promise<BackendRuntime> {
  // TensorFlow reads its thread pools' sizes from the environment when the
  // eager context is created, i.e. when the addon loads: set them first
  // (unless the user did). oneDNN builds also honour OMP_NUM_THREADS.
  const env = process.env;
  env.TF_NUM_INTRAOP_THREADS ??= String(threads);
  env.TF_NUM_INTEROP_THREADS ??= '1';
  env.OMP_NUM_THREADS ??= String(threads);
  env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const spec = '@tensorflow/tfjs-node';
  try {
    await import(spec);
  } catch (err) {
    throw new BackendUnavailableError(
      `@tensorflow/tfjs-node ${facts.version} is installed but failed to load: ${(err as Error).message}. ` +
        'Set IWDL_BACKEND=wasm to use the WebAssembly backend instead.',
    );
  }
  const tf = await import('@tensorflow/tfjs');
  if (!tf.findBackend('tensorflow') && !tf.engine().registryFactory['tensorflow']) {
    throw new BackendUnavailableError(
      '@tensorflow/tfjs-node loaded but registered no `tensorflow` backend with our @tensorflow/tfjs ' +
        '(duplicate @tensorflow/tfjs-core installs?)',
    );
  }
  if (!(await tf.setBackend('tensorflow'))) {
    throw new BackendUnavailableError('@tensorflow/tfjs-node: the tensorflow backend failed to initialize');
  }
  await tf.ready();
  return {
    ...facts,
    tfjsBackend: tf.getBackend(),
    threads: Number(env.TF_NUM_INTRAOP_THREADS) || threads,
    notes: [],
  };
}

async function startCpu(facts: BackendFacts): Promise<BackendRuntime> {
  const tf = await import('@tensorflow/tfjs');
  if (!(await tf.setBackend('cpu'))) throw new BackendUnavailableError('the tfjs cpu backend failed to initialize');
  await tf.ready();
  return { ...facts, tfjsBackend: tf.getBackend(), threads: 1, notes: ['the cpu backend is single-threaded'] };
}

async function startWasm(facts: BackendFacts, threads: number): Promise<BackendRuntime> {
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const { registerWasmTrainingKernels } = await import('./kernels/index.js');
  const notes: string[] = [];

  let threaded = false;
  if (threads > 1) {
    const why = installWasmThreadSupport();
    if (why) notes.push(`wasm threads unavailable (${why}); running single-threaded`);
    else threaded = true;
  }
  // Register before initializing: our overrides carry the original kernels'
  // setup hooks, which the engine runs when the backend starts.
  registerWasmTrainingKernels();

  const tryInit = async (withThreads: boolean): Promise<boolean> => {
    // tfjs-backend-wasm reports no thread support under Node (its flag is
    // hard-wired to false there); with the Worker shim below it works.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', withThreads);
    wasm.setThreadsCount(withThreads ? threads : 1);
    const restore = withThreads ? liftCoreCap(threads) : () => {};
    try {
      return await tf.setBackend('wasm');
    } finally {
      restore();
    }
  };
  let ok = await tryInit(threaded);
  if (!ok && threaded) {
    // The engine keeps the factory after a failed start; retry plain SIMD.
    notes.push('threaded wasm failed to initialize; running single-threaded');
    threaded = false;
    ok = await tryInit(false);
  }
  if (!ok) throw new BackendUnavailableError('the wasm backend failed to initialize');
  await tf.ready();
  const actual = wasm.getThreadsCount();
  if (threaded && actual < threads) notes.push(`asked for ${threads} wasm threads, XNNPACK uses ${actual}`);
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  return { ...facts, tfjsBackend: tf.getBackend(), threads: actual, simd, notes };
}

/**
 * The wasm module caps its thread pool at (logical cores / 2), assuming two
 * hyper-threads per core (tfjs-backend-wasm's backend.cc), counting cores
 * with os.cpus() when the module is instantiated: 1 thread on a 2-core
 * machine. During initialization only, report enough cores for `threads`.
 */
function liftCoreCap(threads: number): () => void {
  const real = os.cpus;
  const want = 2 * threads;
  const patched = function cpus(): os.CpuInfo[] {
    const list = real.call(os);
    if (list.length >= want || list.length === 0) return list;
    const out: os.CpuInfo[] = [];
    for (let i = 0; i < want; i++) out.push(list[i % list.length]!);
    return out;
  };
  const target = os as { cpus: typeof os.cpus };
  try {
    target.cpus = patched;
  } catch {
    return () => {};
  }
  return () => {
    target.cpus = real;
  };
}

let threadSupport: string | null | undefined;

/**
 * Makes tfjs-backend-wasm's multi-threaded build start under Node. Returns
 * null on success, else why not.
 *
 * The threaded build runs XNNPACK's thread pool on Emscripten pthreads, i.e.
 * worker_threads. tfjs hands Emscripten the pthread worker script as a
 * `blob:` URL, which Node's Worker rejects, and the worker then loads the
 * main script from a Blob, which its importScripts (fs.readFileSync) cannot.
 * Emscripten's Node glue sets `global.Worker = worker_threads.Worker` and
 * constructs workers through it, so we own that global: a Worker subclass
 * that runs the same worker script (shipped in the package) with eval:true,
 * loads the main script from the package's file instead of the Blob, and
 * never keeps the process alive (pool threads only ever run while the main
 * thread waits for them).
 */
function installWasmThreadSupport(): string | null {
  if (threadSupport !== undefined) return threadSupport;
  threadSupport = (() => {
    if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') {
      return 'no SharedArrayBuffer';
    }
    const pkg = findPackage('@tensorflow/tfjs-backend-wasm');
    if (!pkg) return '@tensorflow/tfjs-backend-wasm not found';
    const workerJs = join(pkg.dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js');
    const mainJs = join(pkg.dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
    if (!existsSync(workerJs) || !existsSync(mainJs)) return 'the threaded build is not in the package';
    let contents: unknown;
    try {
      contents = (requireHere(workerJs) as { wasmWorkerContents?: unknown }).wasmWorkerContents;
    } catch (err) {
      return `cannot load the pthread worker script: ${(err as Error).message}`;
    }
    if (typeof contents !== 'string') return 'unexpected pthread worker script';
    const existing = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
    if (existing && !existing.configurable) return 'globalThis.Worker is not configurable';

    // The worker script's source holds "\n" escapes inside string literals
    // (it is shipped inside a template literal); re-escape them as tfjs does.
    const boot =
      contents.replace(/\n/g, '\\n') +
      `;(function () {
  var fs = require('fs');
  var mainJs = ${JSON.stringify(mainJs)};
  var load = global.importScripts;
  global.importScripts = function (f) {
    if (String(f).indexOf('blob:') === 0) { (0, eval)(fs.readFileSync(mainJs, 'utf8') + '\\n//# sourceURL=' + mainJs); }
    else { load(f); }
  };
})();`;

    const RealWorker = requireHere('node:worker_threads').Worker as typeof import('node:worker_threads').Worker;
    class EmscriptenPthreadWorker extends RealWorker {
      constructor(file: string | URL, options?: import('node:worker_threads').WorkerOptions) {
        if (typeof file === 'string' && file.startsWith('blob:')) {
          // The boot script is CommonJS: drop flags that would make an eval'd
          // worker script an ES module (inherited from the parent by default).
          const execArgv = process.execArgv.filter(
            (a) => !a.startsWith('--input-type') && !a.startsWith('--experimental-default-type'),
          );
          super(boot, { ...options, eval: true, execArgv });
        } else super(file, options);
        this.unref();
      }
      override ref(): void {}
    }
    let assigned: unknown = existing?.value ?? existing?.get?.call(globalThis);
    Object.defineProperty(globalThis, 'Worker', {
      configurable: true,
      enumerable: false,
      get() {
        // Only the Emscripten glue ever assigned it (to worker_threads.Worker):
        // give it the shim. Anything else someone assigned is returned as is.
        return assigned === undefined || assigned === RealWorker ? EmscriptenPthreadWorker : assigned;
      },
      set(v: unknown) {
        assigned = v;
      },
    });
    return null;
  })();
  return threadSupport;
}
