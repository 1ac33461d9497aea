import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Extraction of a (gzipped) tar archive that refuses to be tricked: any entry
 * with an absolute path or a `..` segment, and any link, rejects the whole
 * archive, naming the entries. `tar` itself would strip or skip such entries
 * with a warning; a data set archive that contains them is not the archive we
 * pinned, so we fail instead. Only the members asked for are written, into a
 * fresh staging directory, then moved to their flat output names; on any
 * error the staging directory is removed, so nothing partial is left behind.
 */

export class UnsafeArchiveError extends Error {
  override name = 'UnsafeArchiveError';
}

/** Why an entry path is unsafe, or undefined when it is fine. */
export function unsafeEntryReason(path: string): string | undefined {
  if (path.includes('\0')) return 'NUL byte in path';
  if (/^[\\/]/.test(path) || /^[A-Za-z]:/.test(path)) return 'absolute path';
  if (path.split(/[\\/]+/).includes('..')) return "'..' segment";
  return undefined;
}

export interface ExtractOptions {
  /** Archive member path -> output file name (relative to `destDir`). Members not listed are skipped. */
  members: Record<string, string>;
  /** Every listed member must be present (default true). */
  requireAll?: boolean;
}

/** Extracts the listed members of `archive` into `destDir`. Returns the output names written. */
export async function extractTar(archive: string, destDir: string, options: ExtractOptions): Promise<string[]> {
  const { x } = await import('tar');
  const staging = join(destDir, `.extract-${process.pid}-${Date.now()}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const unsafe: string[] = [];
  const found = new Set<string>();
  const wanted = new Map(Object.entries(options.members).map(([member, out]) => [normalizeMember(member), out]));
  try {
    try {
      await x({
        file: archive,
        cwd: staging,
        strict: true,
        preservePaths: false,
        noMtime: true,
        filter: (path, entry) => {
          const reason = unsafeEntryReason(path);
          const type = 'type' in entry ? String(entry.type) : 'File';
          if (reason) {
            unsafe.push(`${JSON.stringify(path)} (${reason})`);
            return false;
          }
          if (type === 'SymbolicLink' || type === 'Link') {
            unsafe.push(`${JSON.stringify(path)} (${type === 'Link' ? 'hard' : 'symbolic'} link)`);
            return false;
          }
          const key = normalizeMember(path);
          if (!wanted.has(key)) return false;
          if (type !== 'File' && type !== 'OldFile' && type !== 'ContiguousFile') {
            unsafe.push(`${JSON.stringify(path)} (a ${type}, expected a regular file)`);
            return false;
          }
          found.add(key);
          return true;
        },
      });
    } catch (err) {
      throw new Error(`${archive}: cannot extract: ${(err as Error).message}`);
    }
    if (unsafe.length) {
      throw new UnsafeArchiveError(`${archive}: unsafe archive entries rejected: ${unsafe.slice(0, 5).join(', ')}${unsafe.length > 5 ? ` and ${unsafe.length - 5} more` : ''}`);
    }
    const missing = [...wanted.keys()].filter((m) => !found.has(m));
    if ((options.requireAll ?? true) && missing.length) {
      throw new Error(`${archive}: missing member${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    }
    const written: string[] = [];
    for (const [member, out] of wanted) {
      if (!found.has(member)) continue;
      const from = join(staging, member);
      if (!statSync(from, { throwIfNoEntry: false })?.isFile()) throw new Error(`${archive}: member ${member} was not extracted as a file`);
      const to = join(destDir, out);
      mkdirSync(join(to, '..'), { recursive: true });
      renameSync(from, to);
      written.push(out);
    }
    return written;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function normalizeMember(path: string): string {
  return path.replace(/^\.\/+/, '').replace(/\/+$/, '');
}
