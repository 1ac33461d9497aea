#!/usr/bin/env node
/**
 * Peak memory of a training worker on CIFAR-10 at the paper's scale: the
 * full-width CNN and ResNet (width 1) on the paper profile's cat/dog data set
 * (5,000 training images per class, all 10,000 test images, 1,000 noise
 * images), run through the engine exactly as a pipeline run does, with the
 * number of SGD steps cut (--set) so that it finishes in minutes. Memory
 * does not grow with steps: images stay uint8 until a batch is formed, and
 * every step's tensors are freed; what remains is the data, the model, the
 * optimizer state and one evaluation batch.
 *
 *   npx tsc -b && node bench/train-memory.mjs            # cnn and resnet-bn
 *   node bench/train-memory.mjs --stages train-catdog
 *
 * It prints each node's peak resident memory as the engine recorded it
 * (`peak_rss_mb` in `--json` and pipeline.lock); target < 1.5 GB per worker.
 * It runs in a scratch project that links this one's code and shares its
 * cache (data already downloaded is reused; `iwdl gc` removes the bench's
 * nodes later), so this project's pipeline.lock and artifacts/ stay as
 * they are.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const i = args.indexOf('--stages');
const stages = i >= 0 ? args[i + 1].split(',') : ['train-catdog', 'train-resnet-bn'];

const cli = join(root, 'dist/src/cli/main.js');
const scratch = mkdtempSync(join(tmpdir(), 'iwdl-train-memory-'));
copyFileSync(join(root, 'pipeline.yaml'), join(scratch, 'pipeline.yaml'));
for (const f of ['stages', 'src', 'dist', 'node_modules', 'package.json', 'tsconfig.json']) symlinkSync(join(root, f), join(scratch, f));
const env = { ...process.env, IWDL_CACHE_DIR: resolve(root, process.env.IWDL_CACHE_DIR ?? 'cache') };
// pipeline.yaml names the MRPC mirror relative to the project: keep pointing at this project's.
const mrpcMirror = resolve(root, '../shared/data/mrpc');
const overrides = [
  ...(existsSync(mrpcMirror) ? [`mrpc_mirror=${mrpcMirror}`] : []),
  'seeds=[1]',
  'seeds_catdog=[1]',
  'weights_pow2=[1]',
  // 10 SGD steps (160 of the 10,000 training images), one evaluation at the end
  // on every eval set at full size.
  ...stages.flatMap((s) => [`${s}.epochs=1`, `${s}.train_limit=160`, `${s}.eval={points: 1}`]),
];
const run = (extra) => {
  const argv = [cli, 'run', '-C', scratch, '-p', 'paper', '-j', '1', '--json', ...extra, ...overrides.flatMap((o) => ['--set', o])];
  console.log(`node ${argv.map((a) => (/[ {}[\]]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const r = spawnSync(process.execPath, argv, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    console.error(`run failed with exit code ${r.status}`);
    rmSync(scratch, { recursive: true, force: true });
    process.exit(1);
  }
  return JSON.parse(r.stdout);
};
// The data first, in a process of its own, so that each training worker below
// is fresh and its peak is the training's alone.
run(['--stage', 'preprocess']);
const rows = [];
for (const stage of stages) rows.push(...run(['--stage', stage]).filter((x) => x.stage === stage));
rmSync(scratch, { recursive: true, force: true });
console.log('\nnode'.padEnd(36), 'status', ' seconds', ' peak MiB');
for (const o of rows) {
  console.log(o.node.padEnd(35), o.status.padEnd(6), String(o.duration_s?.toFixed(1) ?? '-').padStart(8), String(o.peak_rss_mb ?? '(cached: run with --force-stage to remeasure)').padStart(9));
}
