#!/usr/bin/env node
/**
 * Time and memory per stage of the last run, from pipeline.lock (every node's
 * wall time `duration_s` and its worker's peak memory `peak_rss_mb`), as a
 * Markdown table: what README's "The default run" table is made of.
 *
 *   node bench/stage-times.mjs                 # ./pipeline.lock
 *   node bench/stage-times.mjs path/to/pipeline.lock --workers 2
 *
 * "node-seconds" is the sum over the stage's nodes; divided by the number of
 * workers it approximates the stage's share of the run's wall time (nodes of
 * different stages overlap, so the shares do not add up exactly).
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const wi = args.indexOf('--workers');
const workers = wi >= 0 ? Number(args.splice(wi, 2)[1]) : 2;
const path = args[0] ?? 'pipeline.lock';
const lock = JSON.parse(readFileSync(path, 'utf8'));
const stages = new Map();
for (const entry of Object.values(lock.nodes)) {
  const s = stages.get(entry.stage) ?? { nodes: 0, seconds: 0, max: 0, rss: 0 };
  s.nodes++;
  s.seconds += entry.duration_s ?? 0;
  s.max = Math.max(s.max, entry.duration_s ?? 0);
  s.rss = Math.max(s.rss, entry.peak_rss_mb ?? 0);
  stages.set(entry.stage, s);
}
const total = [...stages.values()].reduce((a, s) => a + s.seconds, 0);
console.log(`profile ${lock.profile}, ${Object.keys(lock.nodes).length} nodes, ${total.toFixed(0)} node-seconds (/${workers} workers = ${(total / workers / 60).toFixed(1)} min)\n`);
console.log('| stage | nodes | node-seconds | slowest node (s) | peak worker memory (MiB) |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name, s] of stages) {
  console.log(`| \`${name}\` | ${s.nodes} | ${s.seconds.toFixed(0)} | ${s.max.toFixed(1)} | ${s.rss || '-'} |`);
}
