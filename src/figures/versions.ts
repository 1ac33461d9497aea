import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Installed versions of packages, read from node_modules/<name>/package.json
 * along Node's resolution paths (these packages do not export package.json).
 * Cheap: used by stages' environment facts at planning time.
 */
export function packageVersions(names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    out[name] = 'unknown';
    for (const base of require.resolve.paths(name) ?? []) {
      const pj = join(base, name, 'package.json');
      if (existsSync(pj)) {
        out[name] = String((JSON.parse(readFileSync(pj, 'utf8')) as { version?: string }).version ?? 'unknown');
        break;
      }
    }
  }
  return out;
}

/** The directory of an installed package. */
export function packageDir(name: string): string {
  for (const base of require.resolve.paths(name) ?? []) {
    if (existsSync(join(base, name, 'package.json'))) return join(base, name);
  }
  throw new Error(`package ${name} is not installed`);
}
