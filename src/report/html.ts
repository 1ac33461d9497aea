import type { Claim } from './claims.js';

/**
 * reports/index.html: every figure embedded interactively with vega-embed
 * (bundled under assets/, so the page works offline from file://), its
 * caption, profile, backend and provenance; the claims table; the DAG of
 * the run and training time per stage. Specs are inlined in the page (no
 * fetch, which file:// pages cannot do).
 */

export interface ReportFigure {
  id: string;
  title: string;
  caption: string;
  spec: unknown;
  backends: string[];
  missing: string[];
  plotNode: string;
  /** rel file -> SHA-256, of the plot node's outputs. */
  files: Record<string, string>;
  provenance: Array<{ node: string; files: Record<string, string>; upstream: Array<{ node: string; files: Record<string, string> }> }>;
}

export interface StageTiming {
  stage: string;
  nodes: number;
  seconds: number;
  max_seconds: number;
}

export interface DagEdge {
  from: string;
  to: string;
}

export interface ReportInput {
  title: string;
  profile: string;
  backends: string[];
  figures: ReportFigure[];
  claims: Claim[];
  timing: StageTiming[];
  dag: { columns: string[][]; edges: DagEdge[] };
  assets: string[];
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON inside <script type="application/json">: no "</" can close the tag. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

const short = (d: string) => d.slice(0, 12);

function provenanceHtml(f: ReportFigure): string {
  const files = (m: Record<string, string>) =>
    Object.entries(m)
      .map(([k, v]) => `<li><code>${esc(k)}</code> <code title="${esc(v)}">${short(v)}</code></li>`)
      .join('');
  const agg = f.provenance
    .map(
      (p) =>
        `<li><code>${esc(p.node)}</code><ul>${files(p.files)}</ul><details><summary>${p.upstream.length} upstream node(s)</summary><ul>${p.upstream
          .map((u) => `<li><code>${esc(u.node)}</code>: ${Object.keys(u.files).length} files, metrics.csv <code>${short(u.files['metrics.csv'] ?? '')}</code></li>`)
          .join('')}</ul></details></li>`,
    )
    .join('');
  return `<details class="prov"><summary>provenance</summary><p>plot node <code>${esc(f.plotNode)}</code>:</p><ul>${files(f.files)}</ul><p>drawn from:</p><ul>${agg}</ul></details>`;
}

/** A layered DAG as inline SVG: one column per layer, edges as curves. */
export function dagSvg(columns: string[][], edges: DagEdge[]): string {
  const colW = 230;
  const rowH = 24;
  const boxW = 200;
  const pos = new Map<string, { x: number; y: number }>();
  const height = Math.max(...columns.map((c) => c.length), 1) * rowH + 20;
  columns.forEach((col, i) => {
    const off = (height - col.length * rowH) / 2;
    col.forEach((n, j) => pos.set(n, { x: 10 + i * colW, y: off + j * rowH }));
  });
  const paths = edges
    .filter((e) => pos.has(e.from) && pos.has(e.to))
    .map((e) => {
      const a = pos.get(e.from)!;
      const b = pos.get(e.to)!;
      const x1 = a.x + boxW;
      const y1 = a.y + rowH / 2 - 2;
      const x2 = b.x;
      const y2 = b.y + rowH / 2 - 2;
      const mx = (x1 + x2) / 2;
      return `<path d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}" fill="none" stroke="#999" stroke-width="0.8"/>`;
    })
    .join('');
  const boxes = [...pos.entries()]
    .map(([n, p]) => `<g><rect x="${p.x}" y="${p.y}" width="${boxW}" height="${rowH - 4}" rx="4" fill="#eef3fb" stroke="#6b8fc7"/><text x="${p.x + 6}" y="${p.y + 14}" font-size="11" font-family="sans-serif">${esc(n.length > 32 ? n.slice(0, 31) + '…' : n)}</text><title>${esc(n)}</title></g>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" class="dag" width="${columns.length * colW}" height="${height}" viewBox="0 0 ${columns.length * colW} ${height}">${paths}${boxes}</svg>`;
}

export function mermaidOf(edges: DagEdge[]): string {
  const id = (n: string) => n.replace(/[^A-Za-z0-9_]/g, '_');
  const nodes = new Set(edges.flatMap((e) => [e.from, e.to]));
  return ['flowchart LR', ...[...nodes].sort().map((n) => `  ${id(n)}["${n}"]`), ...edges.map((e) => `  ${id(e.from)} --> ${id(e.to)}`)].join('\n');
}

const CSS = `body{font-family:system-ui,sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#222}
figure{margin:2em 0;padding:1em;border:1px solid #ddd;border-radius:6px;overflow-x:auto}
figcaption{font-size:0.9em;color:#333;margin-top:0.5em}
.meta{color:#666;font-size:0.85em}
table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
.v-reproduced{background:#e3f4e1}.v-not-reproduced{background:#fbe3e1}.v-inconclusive,.v-not-comparable{background:#fff6d9}.v-not-measured{background:#eee}
code{font-size:0.85em}.prov{font-size:0.8em}nav a{margin-right:0.8em}`;

export function reportHtml(r: ReportInput): string {
  const figures = r.figures
    .map(
      (f) => `<figure id="${esc(f.id)}">
<div class="vis" id="vis-${esc(f.id)}" data-figure="${esc(f.id)}"></div>
<script type="application/json" id="spec-${esc(f.id)}">${scriptJson(f.spec)}</script>
<figcaption><strong>${esc(f.title)}.</strong> ${esc(f.caption)}
<div class="meta">profile <code>${esc(r.profile)}</code> · backend ${f.backends.map((b) => `<code>${esc(b)}</code>`).join(', ') || '—'}${f.missing.length ? ` · <strong>not measured:</strong> ${f.missing.map(esc).join(', ')}` : ''} · files: <a href="figures/${esc(f.id)}.svg">SVG</a> <a href="figures/${esc(f.id)}.png">PNG</a> <a href="figures/${esc(f.id)}.vl.json">Vega-Lite</a></div>
${provenanceHtml(f)}</figcaption>
</figure>`,
    )
    .join('\n');
  const claims = r.claims
    .map((c) => `<tr class="v-${c.verdict.replace(/ /g, '-')}"><td>${esc(c.claim)}</td><td>${c.figures.map((f) => `<a href="#${esc(f)}">${esc(f)}</a>`).join(' ')}</td><td>${esc(c.measured)}</td><td><strong>${esc(c.verdict)}</strong></td><td class="meta">${esc(c.rule)}</td></tr>`)
    .join('\n');
  const timing = r.timing.map((t) => `<tr><td><code>${esc(t.stage)}</code></td><td>${t.nodes}</td><td>${t.seconds.toFixed(1)}</td><td>${t.max_seconds.toFixed(1)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>${CSS}</style>
${r.assets.map((a) => `<script src="${esc(a)}"></script>`).join('\n')}
</head><body>
<h1>${esc(r.title)}</h1>
<p class="meta">profile <code>${esc(r.profile)}</code> · backends ${r.backends.map((b) => `<code>${esc(b)}</code>`).join(', ') || '—'} · ${r.figures.length} figures</p>
<nav>${r.figures.map((f) => `<a href="#${esc(f.id)}">${esc(f.title)}</a>`).join('')}<a href="#claims">claims</a><a href="#dag">DAG</a></nav>
<h2 id="claims">Claims</h2>
${claimsIntro(r.profile, r.claims)}
<table><thead><tr><th>finding of the paper</th><th>figures</th><th>this run measured</th><th>verdict</th><th>rule</th></tr></thead><tbody>
${claims}
</tbody></table>
<h2>Figures</h2>
${figures}
<h2 id="dag">DAG of this run</h2>
${dagSvg(r.dag.columns, r.dag.edges)}
<details><summary>Mermaid</summary><pre>${esc(mermaidOf(r.dag.edges))}</pre></details>
<h3>Training time per stage</h3>
<p class="meta">Compute seconds reported by the train nodes (meta.json); the engine's pipeline.lock records every node's wall time.</p>
<table><thead><tr><th>stage</th><th>nodes</th><th>seconds (sum)</th><th>seconds (max node)</th></tr></thead><tbody>
${timing}
</tbody></table>
<script>
(function () {
  var figs = document.querySelectorAll('.vis');
  var pending = figs.length;
  document.body.dataset.rendered = '0';
  figs.forEach(function (el) {
    var spec = JSON.parse(document.getElementById('spec-' + el.dataset.figure).textContent);
    vegaEmbed(el, spec, { renderer: 'svg', actions: false })
      .then(function () { el.dataset.rendered = '1'; })
      .catch(function (err) { el.dataset.rendered = 'error'; console.error('figure ' + el.dataset.figure + ': ' + err); })
      .finally(function () { if (--pending === 0) document.body.dataset.rendered = '1'; });
  });
})();
</script>
</body></html>
`;
}

/**
 * What the verdicts mean at this scale. A smaller profile shrinks data,
 * widths, epochs and grids, so a finding may not show; the table reports
 * what was measured rather than a verdict tuned to agree with the paper.
 */
function claimsIntro(profile: string, claims: Claim[]): string {
  const count = (v: string) => claims.filter((c) => c.verdict === v).length;
  const notShown = claims.filter((c) => c.verdict === 'not reproduced' || c.verdict === 'inconclusive');
  const summary = `${count('reproduced')} of ${claims.length} findings reproduced, ${count('not reproduced')} not reproduced, ${count('inconclusive')} inconclusive, ${count('not measured') + count('not comparable')} not measured or not comparable at this scale.`;
  const scale =
    profile === 'paper'
      ? "Measured at the paper's protocol (profile <code>paper</code>)."
      : `Measured at the reduced scale of profile <code>${esc(profile)}</code> (smaller training sets, narrower networks, fewer epochs, weights and seeds; see <code>pipeline.yaml</code>), not at the paper's protocol.`;
  const caveat = notShown.length
    ? ` Not shown at this scale: ${notShown.map((c) => esc(c.claim)).join('; ')}. These are reported as measured; the data were not tuned to make them show.`
    : '';
  return `<p class="claims-summary">${scale} ${summary}${caveat}</p>`;
}
