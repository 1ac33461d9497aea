import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as aq from 'arquero';
import type { InputRef } from '../engine/stage.js';
import { figureData } from '../figures/figure.js';
import { FIGURE_IDS } from '../figures/ids.js';
import type { PlotMeta } from '../figures/plot-output.js';
import { loadExperiments } from '../figures/tables.js';
import { packageDir } from '../figures/versions.js';
import { computeClaims } from './claims.js';
import { reportHtml, type DagEdge, type ReportFigure, type StageTiming } from './html.js';

/**
 * The report stage's work. Writes the whole reports/ tree into outDir:
 *   index.html, claims.json,
 *   figures/<id>.{vl.json,svg,png,json}  (copied from the plot nodes),
 *   assets/{vega,vega-lite,vega-embed}.min.js (from node_modules: offline).
 */

export const BUNDLES = [
  { pkg: 'vega', file: 'build/vega.min.js', as: 'vega.min.js' },
  { pkg: 'vega-lite', file: 'build/vega-lite.min.js', as: 'vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'build/vega-embed.min.js', as: 'vega-embed.min.js' },
];

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

export async function buildReport(o: { figures: InputRef[]; tables: InputRef[]; outDir: string; profile: string; title: string; log(line: string): void }): Promise<void> {
  mkdirSync(join(o.outDir, 'figures'), { recursive: true });
  mkdirSync(join(o.outDir, 'assets'), { recursive: true });
  const assets: string[] = [];
  for (const b of BUNDLES) {
    copyFileSync(join(packageDir(b.pkg), b.file), join(o.outDir, 'assets', b.as));
    assets.push(`assets/${b.as}`);
  }
  const figures: ReportFigure[] = [];
  for (const ref of o.figures) {
    for (const f of readdirSync(ref.dir).sort()) {
      if (!f.endsWith('.json') || f.endsWith('.vl.json') || f.endsWith('.vg.json')) continue;
      const id = f.slice(0, -5);
      const meta = JSON.parse(readFileSync(join(ref.dir, f), 'utf8')) as PlotMeta;
      const files: Record<string, string> = {};
      for (const ext of ['vl.json', 'svg', 'png', 'json']) {
        const src = join(ref.dir, `${id}.${ext}`);
        if (!existsSync(src)) continue;
        copyFileSync(src, join(o.outDir, 'figures', `${id}.${ext}`));
        files[`${id}.${ext}`] = sha(src);
      }
      figures.push({
        id,
        title: meta.title,
        caption: meta.caption,
        spec: JSON.parse(readFileSync(join(ref.dir, `${id}.vl.json`), 'utf8')),
        backends: meta.backends,
        missing: meta.missing,
        plotNode: ref.node,
        files,
        provenance: meta.provenance,
      });
    }
  }
  const order = (id: string) => {
    const i = (FIGURE_IDS as readonly string[]).indexOf(id);
    return i < 0 ? 1000 : i;
  };
  figures.sort((a, b) => order(a.id) - order(b.id) || a.id.localeCompare(b.id));

  const experiments = await loadExperiments(o.tables);
  const claims = computeClaims(figureData(experiments), o.profile);

  // Training time per train stage, from every experiment's runs.csv.
  const runRows = experiments.flatMap((e) => (e.tables.runs ?? []).map((r) => ({ node: String(r.node), seconds: typeof r.seconds === 'number' ? r.seconds : 0, backend: `${r.backend} ${r.backend_version ?? ''}`.trim() })));
  let timing: StageTiming[] = [];
  if (runRows.length) {
    timing = aq
      .from(runRows)
      .dedupe('node')
      .derive({ stage: aq.escape((d: { node: string }) => d.node.split('@')[0]!) })
      .groupby('stage')
      .rollup({ nodes: aq.op.count(), seconds: (d: { seconds: number }) => aq.op.sum(d.seconds), max_seconds: (d: { seconds: number }) => aq.op.max(d.seconds) })
      .orderby('stage')
      .objects() as unknown as StageTiming[];
  }
  const backends = [...new Set(runRows.map((r) => r.backend))].sort();

  // The DAG, from provenance: train stages -> aggregate nodes -> plot nodes -> report.
  const edges: DagEdge[] = [];
  const trainCols = new Set<string>();
  const aggCol = new Set<string>();
  for (const e of experiments) {
    aggCol.add(e.node);
    try {
      const ins = (JSON.parse(readFileSync(join(o.tables.find((t) => t.node === e.node)!.dir, 'inputs.json'), 'utf8')) as { inputs: Array<{ node: string }> }).inputs;
      const counts = new Map<string, number>();
      for (const i of ins) counts.set(i.node.split('@')[0]!, (counts.get(i.node.split('@')[0]!) ?? 0) + 1);
      for (const [stage, n] of counts) {
        const label = `${stage} (${n} nodes)`;
        trainCols.add(label);
        edges.push({ from: label, to: e.node });
      }
    } catch {
      /* no provenance */
    }
  }
  const plotCol = figures.map((f) => f.plotNode);
  for (const f of figures) for (const p of f.provenance) edges.push({ from: p.node, to: f.plotNode });
  const reportNode = 'report';
  for (const p of plotCol) edges.push({ from: p, to: reportNode });
  for (const e of experiments) edges.push({ from: e.node, to: reportNode });

  writeFileSync(
    join(o.outDir, 'index.html'),
    reportHtml({ title: o.title, profile: o.profile, backends, figures, claims, timing, dag: { columns: [[...trainCols].sort(), [...aggCol].sort(), plotCol, [reportNode]], edges }, assets }),
  );
  writeFileSync(join(o.outDir, 'claims.json'), JSON.stringify({ profile: o.profile, claims }, null, 1) + '\n');
  o.log(`report: ${figures.length} figures, ${claims.length} claims (${claims.filter((c) => c.verdict === 'reproduced').length} reproduced)`);
}
