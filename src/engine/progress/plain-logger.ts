import type { ProgressEvent } from '../exec-node.js';
import type { NodeName } from '../types.js';
import { EtaEstimator, formatDuration, formatMemory, formatProgress, type RunLogger, type RunSummary } from './logger.js';

/** Timestamped lines for CI logs and pipes: no cursor movement, progress at most every `progressEveryMs` per node. */
export class PlainLogger implements RunLogger {
  private readonly lastProgress = new Map<NodeName, number>();
  private readonly eta: EtaEstimator;
  private total = 0;
  private done_ = 0;

  constructor(
    parallelism: number,
    private readonly out: NodeJS.WritableStream = process.stderr,
    private readonly progressEveryMs = 10_000,
  ) {
    this.eta = new EtaEstimator(parallelism);
  }

  private line(text: string): void {
    const t = new Date().toISOString().slice(11, 19);
    this.out.write(`${t} ${text}\n`);
  }

  info(message: string): void {
    this.line(message);
  }
  warn(message: string): void {
    this.line(`warning: ${message}`);
  }
  planned(toRun: NodeName[], cached: number, estimates: Map<NodeName, number>): void {
    this.total = toRun.length;
    this.eta.plan(toRun, estimates);
    this.line(`${toRun.length} node(s) to run, ${cached} cached`);
  }
  reused(node: NodeName): void {
    this.total--;
    this.eta.drop(node);
    this.line(`= ${node} (inputs unchanged after upstream rerun: cached)`);
  }
  started(node: NodeName): void {
    // The first progress line comes one interval in: short nodes print none.
    this.lastProgress.set(node, performance.now());
    this.eta.start(node);
    this.line(`▶ ${node}`);
  }
  progress(node: NodeName, event: ProgressEvent): void {
    this.eta.progress(node, event.done, event.total);
    const now = performance.now();
    const last = this.lastProgress.get(node);
    if (last !== undefined && now - last < this.progressEveryMs) return;
    this.lastProgress.set(node, now);
    this.line(`  ${node} ${formatProgress(event)}`);
  }
  finished(node: NodeName, durationMs: number, peakRssMb?: number): void {
    this.done_++;
    this.eta.finish(node, durationMs);
    this.lastProgress.delete(node);
    const eta = this.eta.label();
    this.line(`✓ ${node} ${formatDuration(durationMs)}${formatMemory(peakRssMb)} [${this.done_}/${this.total}${eta && this.done_ < this.total ? `, ${eta}` : ''}]`);
  }
  failed(node: NodeName, error: string, logPath: string, tail: string[]): void {
    this.done_++;
    this.eta.drop(node);
    this.line(`✗ ${node} failed: ${error}`);
    if (logPath) this.line(`  log: ${logPath}`);
    for (const l of tail) this.out.write(`    | ${l}\n`);
  }
  skipped(node: NodeName, because: NodeName): void {
    this.eta.drop(node);
    this.line(`- ${node} skipped (upstream ${because} failed)`);
  }
  done(s: RunSummary): void {
    const what = s.cancelled ? 'interrupted' : s.failed ? 'failed' : 'done';
    this.line(`${what}: ${s.ran} ran, ${s.cached} cached, ${s.failed} failed, ${s.skipped} skipped in ${formatDuration(s.elapsedMs)}`);
  }
}
