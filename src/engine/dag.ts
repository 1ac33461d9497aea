import type { Pipeline } from './config/load-pipeline.js';
import type { NodeName } from './types.js';

export type DagFormat = 'mermaid' | 'dot';

/**
 * The DAG as text for Mermaid or Graphviz. `collapse` draws one box per
 * stage (with its node count), which is what a 1,000-node grid needs.
 */
export function renderDag(pipeline: Pipeline, format: DagFormat, collapse: boolean): string {
  const edges = new Set<string>();
  const labels = new Map<string, string>();
  const ids = new Map<string, string>();
  const id = (name: string): string => {
    let v = ids.get(name);
    if (!v) {
      v = `n${ids.size}`;
      ids.set(name, v);
    }
    return v;
  };
  if (collapse) {
    for (const stage of pipeline.stages.values()) {
      labels.set(stage.name, stage.nodes.length > 1 ? `${stage.name} ×${stage.nodes.length}` : stage.name);
      id(stage.name);
    }
    for (const node of pipeline.nodes.values()) {
      for (const ups of Object.values(node.needs)) {
        for (const up of ups) edges.add(`${pipeline.nodes.get(up as NodeName)!.stage}\u0000${node.stage}`);
      }
    }
  } else {
    for (const name of pipeline.order) {
      labels.set(name, name);
      id(name);
    }
    for (const node of pipeline.nodes.values()) {
      for (const ups of Object.values(node.needs)) for (const up of ups) edges.add(`${up}\u0000${node.name}`);
    }
  }
  const pairs = [...edges].map((e) => e.split('\u0000') as [string, string]);
  if (format === 'mermaid') {
    const lines = ['flowchart LR'];
    for (const [name, label] of labels) lines.push(`  ${id(name)}["${label.replace(/"/g, '#quot;')}"]`);
    for (const [a, b] of pairs) lines.push(`  ${id(a)} --> ${id(b)}`);
    return lines.join('\n') + '\n';
  }
  const q = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;
  const lines = ['digraph pipeline {', '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
  for (const [name, label] of labels) lines.push(`  ${q(name)} [label=${q(label)}];`);
  for (const [a, b] of pairs) lines.push(`  ${q(a)} -> ${q(b)};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
