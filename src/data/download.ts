import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { formatExpected, verifyFile, type Expected } from './integrity.js';

/**
 * HTTP(S) download of one file, resumable and verified:
 *
 * - bytes go to `<dest>.part` (callers put it in the node's checkpoint
 *   directory, which survives a killed attempt); a later attempt resumes it
 *   with a `Range` request (`If-Range` on the validator seen first) and
 *   starts over when the server ignores the range or the file changed;
 * - the checksum is verified before the file is renamed to `dest`, so `dest`
 *   either does not exist or is exactly the expected bytes;
 * - a file that fails verification is deleted (it cannot be resumed into
 *   anything right);
 * - failures are thrown as `DownloadError` with a one-line reason (network
 *   error, HTTP status, stall, truncation, checksum mismatch).
 *
 * Node's fetch does not read HTTP(S)_PROXY; a proxy-only network needs the
 * npm source (npm applies its own proxy settings) or a mirror directory.
 */

export class DownloadError extends Error {
  override name = 'DownloadError';
}

export interface DownloadProgress {
  url: string;
  done: number;
  /** Total bytes, when the server says. */
  total?: number;
}

/** Checks a complete file; throws a one-line reason when it is not the expected bytes. */
export type Verifier = (path: string, label: string) => Promise<VerifiedFile>;

export interface VerifiedFile {
  size: number;
  sha256: string;
  /** How it was verified, e.g. `md5:...` or `sha512-...`. */
  verified: string;
}

/** A verifier for one pinned checksum. */
export function checksum(expected: Expected): Verifier {
  return async (path, label) => ({ ...(await verifyFile(path, expected, label)), verified: formatExpected(expected) });
}

export interface DownloadOptions {
  verify: Verifier;
  onProgress?: (p: DownloadProgress) => void;
  /** Abort when no byte arrives for this long (default 30 s, env IWDL_DOWNLOAD_IDLE_TIMEOUT_S). */
  idleTimeoutMs?: number;
  log?: (line: string) => void;
}

interface PartInfo {
  url: string;
  validator?: string;
}

export function defaultIdleTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.IWDL_DOWNLOAD_IDLE_TIMEOUT_S);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 30_000;
}

/** Downloads `url` to `dest` (verified). Returns the verified file's size and SHA-256. */
export async function downloadFile(url: string, dest: string, options: DownloadOptions): Promise<VerifiedFile & { resumedFrom: number }> {
  mkdirSync(dirname(dest), { recursive: true });
  if (existsSync(dest)) {
    // Verified by an earlier attempt that died before using it; verify again (cheap next to a download).
    try {
      return { ...(await options.verify(dest, url)), resumedFrom: statSync(dest).size };
    } catch {
      rmSync(dest, { force: true });
    }
  }
  const part = `${dest}.part`;
  const infoPath = `${dest}.part.json`;
  let info: PartInfo | undefined;
  try {
    info = JSON.parse(readFileSync(infoPath, 'utf8')) as PartInfo;
  } catch {
    info = undefined;
  }
  let have = existsSync(part) ? statSync(part).size : 0;
  if (have > 0 && info?.url !== url) {
    // A partial file of some other URL: not ours to resume.
    rmSync(part, { force: true });
    have = 0;
  }
  const resumedFrom = have;
  const idle = options.idleTimeoutMs ?? defaultIdleTimeoutMs();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new DownloadError(`stalled: no data for ${Math.round(idle / 1000)} s`)), idle);
  };

  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (have > 0) {
    headers.range = `bytes=${have}-`;
    if (info?.validator) headers['if-range'] = info.validator;
  }
  let response: Response;
  arm();
  try {
    response = await fetch(url, { headers, signal: controller.signal, redirect: 'follow' });
  } catch (err) {
    clearTimeout(timer);
    throw new DownloadError(networkReason(err, controller.signal));
  }

  try {
    let append = false;
    let total: number | undefined;
    if (response.status === 206 && have > 0) {
      const range = /bytes\s+(\d+)-(\d+)\/(\d+|\*)/.exec(response.headers.get('content-range') ?? '');
      if (!range || Number(range[1]) !== have) {
        throw new DownloadError(`server answered range ${response.headers.get('content-range')} to a request from byte ${have}`);
      }
      append = true;
      total = range[3] === '*' ? undefined : Number(range[3]);
      options.log?.(`resuming ${url} at byte ${have}${total ? ` of ${total}` : ''}`);
    } else if (response.status === 416 && have > 0) {
      // The part may already be complete (killed between download and rename).
      await response.body?.cancel();
      clearTimeout(timer);
      return { ...(await verifyOrDiscard(part, dest, url, options.verify)), resumedFrom };
    } else if (response.status === 200) {
      if (have > 0) options.log?.(`server ignored the range request for ${url}; starting over`);
      have = 0;
      const length = response.headers.get('content-length');
      total = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
    } else {
      await response.body?.cancel().catch(() => undefined);
      throw new DownloadError(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    }
    if (!response.body) throw new DownloadError('empty response body');

    const validator = response.headers.get('etag') ?? response.headers.get('last-modified') ?? undefined;
    writeFileSync(infoPath, JSON.stringify({ url, validator: append ? (info?.validator ?? validator) : validator } satisfies PartInfo));

    let done = have;
    options.onProgress?.({ url, done, total });
    const file = createWriteStream(part, { flags: append ? 'a' : 'w' });
    const body = response.body as unknown as AsyncIterable<Uint8Array>;
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Uint8Array>) {
          for await (const chunk of source) {
            done += chunk.length;
            arm();
            options.onProgress?.({ url, done, total });
            yield chunk;
          }
        },
        file,
      );
    } catch (err) {
      throw new DownloadError(`${networkReason(err, controller.signal)} after ${done} bytes${total ? ` of ${total}` : ''} (partial file kept for resuming)`);
    }
    clearTimeout(timer);
    if (total !== undefined && done !== total) {
      throw new DownloadError(`truncated: received ${done} of ${total} bytes (partial file kept for resuming)`);
    }
    return { ...(await verifyOrDiscard(part, dest, url, options.verify)), resumedFrom };
  } finally {
    clearTimeout(timer);
  }
}

async function verifyOrDiscard(part: string, dest: string, url: string, verify: Verifier): Promise<VerifiedFile> {
  try {
    const result = await verify(part, url);
    renameSync(part, dest);
    rmSync(`${dest}.part.json`, { force: true });
    return result;
  } catch (err) {
    rmSync(part, { force: true });
    rmSync(`${dest}.part.json`, { force: true });
    throw new DownloadError(`${oneLine(err)}; discarded`);
  }
}

function oneLine(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split('\n')[0]!;
}

function networkReason(err: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason instanceof DownloadError) return signal.reason.message;
  if (err instanceof DownloadError) return err.message;
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e?.cause;
  if (cause?.code || cause?.message) return `network error: ${cause.message ?? cause.code}`;
  return `network error: ${e?.message ?? String(err)}`;
}
