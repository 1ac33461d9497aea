import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../cache/local-cache.js';
import type { AuditReport, NodeAudit } from './audit.js';

/** reports/audit.json (for tools) and reports/audit.html (for people); both written atomically. */
export function writeAuditReport(reportsDir: string, report: AuditReport): { json: string; html: string } {
  mkdirSync(reportsDir, { recursive: true });
  const json = join(reportsDir, 'audit.json');
  const html = join(reportsDir, 'audit.html');
  writeFileAtomic(json, JSON.stringify(report, null, 2) + '\n');
  writeFileAtomic(html, renderHtml(report));
  return { json, html };
}

export function summaryLine(report: AuditReport): string {
  const s = report.summary;
  return `audit (${report.mode}${report.sample ? `, sample ${report.sample.n} seed ${report.sample.seed}` : ''}): ${s.identical} identical, ${s['within-tolerance']} within tolerance, ${s.different} different, ${s.failed} failed${s.trusted ? `, ${s.trusted} trusted upstream` : ''}`;
}

export function problemLines(report: AuditReport): string[] {
  const lines: string[] = [];
  for (const n of report.nodes) {
    if (n.mainCache === 'corrupted') lines.push(`${n.node}: cache: ${n.mainCacheDetail}`);
    if (n.verdict === 'failed') lines.push(`${n.node}: failed to re-execute: ${n.audit.error}${n.audit.log ? ` (log ${n.audit.log})` : ''}`);
    if (n.verdict !== 'different') continue;
    for (const f of n.files.filter((x) => x.verdict !== 'identical' && x.verdict !== 'within-tolerance')) {
      lines.push(`${n.node}: ${f.file} ${f.verdict}${f.detail ? `: ${f.detail}` : ''}${n.keyChanged ? ' (its code, params or inputs changed since pipeline.lock was written)' : ''}`);
    }
    if (envDiff(n)) lines.push(`  ${n.node}: ${envDiff(n)}`);
  }
  return lines;
}

function envDiff(n: NodeAudit): string {
  const parts: string[] = [];
  const a = n.original.env ?? {};
  const b = n.audit.env ?? {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (a[k] !== b[k]) parts.push(`${k} ${a[k] ?? '?'} -> ${b[k] ?? '?'}`);
  const ma = n.original.machine;
  const mb = n.audit.machine;
  if (ma && mb) {
    for (const k of ['node', 'os', 'arch', 'cpu'] as const) if (ma[k] !== mb[k]) parts.push(`${k} ${ma[k]} -> ${mb[k]}`);
  }
  return parts.length ? `environment differs: ${parts.join('; ')}` : '';
}

const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function renderHtml(r: AuditReport): string {
  const rows = r.nodes
    .map((n) => {
      const files = n.files
        .filter((f) => f.verdict !== 'identical')
        .map((f) => `${esc(f.file)}: ${esc(f.verdict)}${f.detail ? ` (${esc(f.detail)})` : ''}`)
        .join('<br>');
      const env = (e: Record<string, string> | undefined, m: NodeAudit['original']['machine']): string =>
        [Object.entries(e ?? {}).map(([k, v]) => `${esc(k)}=${esc(v)}`).join(' '), m ? `${esc(m.node)} · ${esc(m.os)} · ${esc(m.cpu)}` : 'machine unknown'].join('<br>');
      return `<tr class="${esc(n.verdict)}"><td>${esc(n.node)}</td><td>${esc(n.verdict)}</td><td>${n.maxDeviation ?? ''}</td><td>${esc(n.mainCache)}${n.mainCacheDetail ? `<br>${esc(n.mainCacheDetail)}` : ''}</td><td>${files || (n.audit.error ? esc(n.audit.error) : '')}</td><td>${env(n.original.env, n.original.machine)}</td><td>${env(n.audit.env, n.audit.machine)}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>iwdl audit</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:4px 6px;vertical-align:top;text-align:left}
tr.identical td:nth-child(2){color:#1a7f37}tr.within-tolerance td:nth-child(2){color:#9a6700}
tr.different td:nth-child(2),tr.failed td:nth-child(2){color:#cf222e;font-weight:bold}
</style></head><body>
<h1>Reproducibility audit</h1>
<p>${esc(summaryLine(r))}</p>
<p>Profile <b>${esc(r.profile)}</b>, ${esc(r.createdAt)}, on ${esc(r.machine.node)} · ${esc(r.machine.os)} · ${esc(r.machine.cpu)} (${r.machine.cores} cores).
Each node was re-executed ${r.mode === 'clean' ? 'from re-derived upstream outputs in a scratch cache' : 'from the cached upstream outputs'} and its outputs compared with the digests in pipeline.lock.</p>
<table><thead><tr><th>node</th><th>verdict</th><th>max deviation</th><th>recorded bytes in cache</th><th>files</th><th>original run</th><th>audit run</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
