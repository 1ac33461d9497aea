import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InputRef } from '../engine/stage.js';
import type { ExperimentTables, Row } from './figure.js';

/** Reads every aggregate node's CSV tables (arquero), keyed by its `experiment` param. */
export async function loadExperiments(refs: InputRef[]): Promise<ExperimentTables[]> {
  const aq = await import('arquero');
  return refs.map((ref) => {
    let experiment = typeof ref.params?.experiment === 'string' ? (ref.params.experiment as string) : undefined;
    if (!experiment) {
      try {
        experiment = (JSON.parse(readFileSync(join(ref.dir, 'inputs.json'), 'utf8')) as { experiment: string }).experiment;
      } catch {
        experiment = ref.node;
      }
    }
    const tables: Record<string, Row[]> = {};
    for (const f of readdirSync(ref.dir).sort()) {
      if (!f.endsWith('.csv')) continue;
      const text = readFileSync(join(ref.dir, f), 'utf8');
      tables[f.slice(0, -4)] = aq.fromCSV(text, { parse: { eval_set: String, dataset: String, model: String, reg: String, line: String, node: String, subsampled: String, second_class: String, majority_class: String, backend: String, backend_version: String } }).objects() as Row[];
    }
    return { experiment: experiment!, node: ref.node, tables };
  });
}
