import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './config/config-error.js';
import type { PipelineFile } from './config/pipeline-file.js';
import { isStageDefinition, type StageDefinition } from './stage.js';

/**
 * Where a stage module named in pipeline.yaml is executed from. TypeScript
 * modules run from their compiled output in the build directory (the CLI
 * never type-checks or transpiles on its own: `npm run build` does, and
 * `npm run pipeline` runs it first); `.js`/`.mjs` modules run as they are.
 */
export function compiledPath(projectRoot: string, buildDir: string, module: string): { source: string; compiled: string } {
  const source = resolve(projectRoot, module);
  if (/\.(c|m)?ts$/.test(module)) {
    const compiled = resolve(buildDir, module.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs').replace(/\.cts$/, '.cjs'));
    return { source, compiled };
  }
  return { source, compiled: source };
}

export interface LoadedModule {
  module: string;
  compiled: string;
  definition: StageDefinition<unknown>;
  /** Set when the TypeScript source is newer than what will run. */
  staleWarning?: string;
}

export async function loadStageModule(
  projectRoot: string,
  buildDir: string,
  module: string,
  file?: PipelineFile,
  stage?: string,
): Promise<LoadedModule> {
  // Locating a key parses the YAML with positions: only do it for an error.
  const whereOf = (): string => (file && stage ? file.where(['stages', stage, 'module']) : module);
  const { source, compiled } = compiledPath(projectRoot, buildDir, module);
  if (!existsSync(source)) {
    throw new ConfigError(`stage module '${module}' does not exist (looked for ${source})`, whereOf());
  }
  if (!existsSync(compiled)) {
    throw new ConfigError(`stage module '${module}' has not been built (no ${compiled}); run \`npm run build\``, whereOf());
  }
  let staleWarning: string | undefined;
  if (compiled !== source && statSync(source).mtimeMs > statSync(compiled).mtimeMs + 1) {
    staleWarning = `${module} is newer than its build ${compiled}; running the old build (run \`npm run build\`, which \`npm run pipeline\` does for you)`;
  }
  let exports: { default?: unknown };
  try {
    exports = (await import(pathToFileURL(compiled).href)) as { default?: unknown };
  } catch (err) {
    throw new ConfigError(`stage module '${module}' failed to load: ${(err as Error).message}`, whereOf());
  }
  if (!isStageDefinition(exports.default)) {
    throw new ConfigError(
      `stage module '${module}' must \`export default defineStage({ params, run })\` (its default export has no run function)`,
      whereOf(),
    );
  }
  return { module, compiled, definition: exports.default, staleWarning };
}
