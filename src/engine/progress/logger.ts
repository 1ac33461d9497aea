import type { ProgressEvent } from '../exec-node.js';
import type { NodeName } from '../types.js';

export interface RunSummary {
  ran: number;
  cached: number;
  failed: number;
  skipped: number;
  cancelled: boolean;
  elapsedMs: number;
}

/**
 * What a run tells the person watching it. Two implementations: a live
 * display for terminals, timestamped lines for CI and pipes. Both write to
 * stderr so stdout stays free for `--json`.
 */
export interface RunLogger {
  info(message: string): void;
  warn(message: string): void;
  /** `estimates` are expected seconds per node to run (from pipeline.lock), used for the ETA. */
  planned(toRun: NodeName[], cached: number, estimates: Map<NodeName, number>): void;
  /** A node found in the cache once its inputs were known (after an upstream rerun gave identical outputs). */
  reused(node: NodeName): void;
  started(node: NodeName): void;
  progress(node: NodeName, event: ProgressEvent): void;
  /** `peakRssMb`: the peak memory of the process that ran it, when known. */
  finished(node: NodeName, durationMs: number, peakRssMb?: number): void;
  failed(node: NodeName, error: string, logPath: string, tail: string[]): void;
  skipped(node: NodeName, because: NodeName): void;
  done(summary: RunSummary): void;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** " · 312 MiB", or nothing when unknown. */
export function formatMemory(peakRssMb: number | undefined): string {
  return peakRssMb === undefined ? '' : ` · ${peakRssMb >= 1024 ? `${(peakRssMb / 1024).toFixed(2)} GiB` : `${peakRssMb} MiB`}`;
}

export function formatProgress(event: ProgressEvent): string {
  const pct = event.total > 0 ? ` (${Math.floor((100 * event.done) / event.total)}%)` : '';
  const info = event.info
    ? ' ' +
      Object.entries(event.info)
        .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : v}`)
        .join(' ')
    : '';
  return `${event.done}/${event.total}${pct}${info}`;
}

/**
 * Remaining time: expected seconds of every node not yet finished (the
 * previous run's duration when pipeline.lock has one, else the mean of this
 * run's finished nodes of the same stage, else of all), divided by parallelism.
 */
export class EtaEstimator {
  private readonly pending = new Map<NodeName, number | undefined>();
  private readonly startedAt = new Map<NodeName, number>();
  private readonly fraction = new Map<NodeName, number>();
  private readonly stageDurations = new Map<string, number[]>();
  private readonly all: number[] = [];

  constructor(
    private readonly parallelism: number,
  ) {}

  plan(nodes: NodeName[], estimates: Map<NodeName, number>): void {
    this.cached = undefined;
    for (const n of nodes) this.pending.set(n, estimates.get(n));
  }

  start(node: NodeName): void {
    this.cached = undefined;
    this.startedAt.set(node, performance.now());
  }

  /** Progress a running node reported: its rate predicts its own end and, until one finishes, its stage's. */
  progress(node: NodeName, done: number, total: number): void {
    if (total > 0 && done > 0) this.fraction.set(node, Math.min(done / total, 1));
  }

  finish(node: NodeName, durationMs: number): void {
    this.cached = undefined;
    this.pending.delete(node);
    this.startedAt.delete(node);
    this.fraction.delete(node);
    const stage = node.split('@')[0]!;
    const list = this.stageDurations.get(stage) ?? [];
    list.push(durationMs / 1000);
    this.stageDurations.set(stage, list);
    this.all.push(durationMs / 1000);
  }

  drop(node: NodeName): void {
    this.cached = undefined;
    this.pending.delete(node);
    this.startedAt.delete(node);
    this.fraction.delete(node);
  }

  private cached: { at: number; value: number | undefined; rough: boolean } | undefined;
  private roughNow = false;

  /** Seconds, or undefined when nothing is known yet. Between node events, recomputed at most every 250 ms: it walks every pending node. */
  remaining(): number | undefined {
    const at = performance.now();
    if (this.cached && at - this.cached.at < 250) return this.cached.value;
    this.roughNow = false;
    const value = this.compute();
    this.cached = { at, value, rough: this.roughNow };
    return value;
  }

  /**
   * Whether the last estimate guessed some node from other stages' times
   * (no earlier run, nothing of its stage finished or reporting progress):
   * on a first run the cheap early stages say little about the later ones.
   */
  rough(): boolean {
    this.remaining();
    return this.cached?.rough ?? false;
  }

  /** "ETA 3m10s", "ETA ~3m10s" when rough, or '' when unknown. */
  label(): string {
    const eta = this.remaining();
    return eta === undefined ? '' : `ETA ${this.rough() ? '~' : ''}${formatDuration(eta * 1000)}`;
  }

  private compute(): number | undefined {
    const stageMeans = new Map<string, number | undefined>();
    const stageMean = (stage: string): number | undefined => {
      if (!stageMeans.has(stage)) stageMeans.set(stage, mean(this.stageDurations.get(stage)));
      return stageMeans.get(stage);
    };
    const allMean = mean(this.all);
    let total = 0;
    const now = performance.now();
    // Projected durations of running nodes that report progress, per stage.
    const projected = new Map<string, number[]>();
    for (const [node, f] of this.fraction) {
      const started = this.startedAt.get(node);
      if (started === undefined) continue;
      const stage = node.split('@')[0]!;
      const list = projected.get(stage) ?? [];
      list.push((now - started) / 1000 / f);
      projected.set(stage, list);
    }
    for (const [node, known] of this.pending) {
      const stage = node.split('@')[0]!;
      const started = this.startedAt.get(node);
      const f = this.fraction.get(node);
      if (started !== undefined && f !== undefined) {
        const elapsed = (now - started) / 1000;
        total += (elapsed * (1 - f)) / f;
        continue;
      }
      const est = known ?? stageMean(stage) ?? mean(projected.get(stage)) ?? allMean;
      if (est === undefined) return undefined;
      if (known === undefined && stageMean(stage) === undefined && projected.get(stage) === undefined) this.roughNow = true;
      total += started === undefined ? est : Math.max(est - (now - started) / 1000, 0);
    }
    return total / Math.max(1, Math.min(this.parallelism, this.pending.size || 1));
  }
}

function mean(xs: number[] | undefined): number | undefined {
  if (!xs || xs.length === 0) return undefined;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
