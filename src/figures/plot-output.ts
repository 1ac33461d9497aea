import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InputRef } from '../engine/stage.js';
import { figureData, type Figure } from './figure.js';
import { renderSpec } from './render.js';
import { loadExperiments } from './tables.js';

export interface PlotMeta {
  id: string;
  title: string;
  caption: string;
  profile: string;
  experiments: Array<{ experiment: string; node: string; present: boolean }>;
  missing: string[];
  backends: string[];
  provenance: Array<{ node: string; files: Record<string, string>; upstream: Array<{ node: string; files: Record<string, string> }> }>;
  /** Training seconds per train stage, summed over its nodes (from their meta.json). */
  train_seconds: Record<string, { nodes: number; seconds: number }>;
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export async function writePlot(figure: Figure, refs: InputRef[], outDir: string, o: { profile: string; pngScale: number; log(line: string): void }): Promise<PlotMeta> {
  const experiments = await loadExperiments(refs);
  const present = new Set(experiments.map((e) => e.experiment));
  const spec = figure.spec(figureData(experiments));
  const rendered = await renderSpec(spec, { scale: o.pngScale });
  const id = figure.id;
  writeFileSync(join(outDir, `${id}.vl.json`), JSON.stringify(spec, null, 1) + '\n');
  writeFileSync(join(outDir, `${id}.vg.json`), JSON.stringify(rendered.vega) + '\n');
  writeFileSync(join(outDir, `${id}.svg`), rendered.svg);
  writeFileSync(join(outDir, `${id}.png`), rendered.png);
  const backends = new Set<string>();
  const trainSeconds: PlotMeta['train_seconds'] = {};
  for (const e of experiments) {
    for (const r of e.tables.runs ?? []) {
      backends.add(`${r.backend} ${r.backend_version}`.trim());
      const stage = String(r.node).split('@')[0]!;
      const t = (trainSeconds[stage] ??= { nodes: 0, seconds: 0 });
      t.nodes += 1;
      t.seconds += typeof r.seconds === 'number' ? r.seconds : 0;
    }
  }
  const provenance = refs.map((r) => {
    let upstream: PlotMeta['provenance'][number]['upstream'] = [];
    const files: Record<string, string> = {};
    try {
      upstream = (JSON.parse(readFileSync(join(r.dir, 'inputs.json'), 'utf8')) as { inputs: typeof upstream }).inputs;
    } catch {
      /* not an aggregate node */
    }
    for (const e of experiments.filter((x) => x.node === r.node)) for (const t of Object.keys(e.tables)) files[`${t}.csv`] = sha(join(r.dir, `${t}.csv`));
    try {
      files['inputs.json'] = sha(join(r.dir, 'inputs.json'));
    } catch {
      /* absent */
    }
    return { node: r.node, files, upstream };
  });
  const meta: PlotMeta = {
    id,
    title: figure.title,
    caption: figure.caption,
    profile: o.profile,
    experiments: figure.experiments.map((x) => ({ experiment: x, node: experiments.find((e) => e.experiment === x)?.node ?? '', present: present.has(x) })),
    missing: figure.experiments.filter((x) => !present.has(x)),
    backends: [...backends].sort(),
    provenance,
    train_seconds: trainSeconds,
  };
  writeFileSync(join(outDir, `${id}.json`), JSON.stringify(meta, null, 1) + '\n');
  o.log(`${id}: ${rendered.svg.length} bytes of SVG, ${rendered.png.length} bytes of PNG${meta.missing.length ? `; not measured: ${meta.missing.join(', ')}` : ''}`);
  return meta;
}
