import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

/**
 * One writer per cache. Two runs committing into one cache could each
 * rewrite pipeline.lock with half the picture, so the second run is refused
 * with a message that says who holds the cache. A holder that died (kill -9,
 * power loss) leaves its file behind; on the same host we can tell that its
 * pid is gone and take over.
 */
export interface RunLockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  /** Set when a `--detach`ed cluster run holds the cache after its client exited. */
  detached?: string;
}

export type LockResult =
  | { ok: true; release: () => void; detach: (runId: string) => void; tookOverFrom?: RunLockHolder }
  | { ok: false; holder: RunLockHolder | undefined; message: string };

export function acquireRunLock(path: string, command: string, options: { takeOverDetached?: string } = {}): LockResult {
  mkdirSync(dirname(path), { recursive: true });
  let tookOverFrom: RunLockHolder | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(path);
      if (holder?.detached) {
        if (options.takeOverDetached === holder.detached) {
          rmSync(path, { force: true });
          continue;
        }
        return {
          ok: false,
          holder,
          message: `a detached cluster run (${holder.detached}, submitted ${holder.startedAt}) holds the cache; \`iwdl status\` collects it once its jobs finish (scancel them first to abandon it)`,
        };
      }
      if (holder && holder.host === hostname() && !isAlive(holder.pid)) {
        rmSync(path, { force: true });
        tookOverFrom = holder;
        continue;
      }
      if (!holder) {
        // Being written right now, or garbage; let a retry decide.
        if (attempt < 2) continue;
      }
      return {
        ok: false,
        holder,
        message: holder
          ? `another run holds the cache: pid ${holder.pid} on ${holder.host} (\`${holder.command}\`, started ${holder.startedAt}). Wait for it to finish; if that process no longer exists, delete ${path}`
          : `the cache is locked by ${path}, which is unreadable; if no other run is active, delete it`,
      };
    }
    const holder: RunLockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command };
    writeSync(fd, JSON.stringify(holder) + '\n');
    closeSync(fd);
    let released = false;
    return {
      ok: true,
      tookOverFrom,
      // Hands the cache to a detached run: the lock outlives this process.
      detach: (runId: string) => {
        released = true;
        writeFileSync(path, JSON.stringify({ ...holder, detached: runId }) + '\n');
      },
      release: () => {
        if (released) return;
        released = true;
        const current = readHolder(path);
        if (current && current.pid === process.pid && current.host === holder.host) rmSync(path, { force: true });
      },
    };
  }
  return { ok: false, holder: undefined, message: `could not acquire ${path}` };
}

function readHolder(path: string): RunLockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunLockHolder;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
