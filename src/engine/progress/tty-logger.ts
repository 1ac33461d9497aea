import { createLogUpdate } from 'log-update';
import type { ProgressEvent } from '../exec-node.js';
import type { NodeName } from '../types.js';
import { EtaEstimator, formatDuration, formatMemory, formatProgress, type RunLogger, type RunSummary } from './logger.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * The live view of a run on a terminal: finished and failed nodes scroll
 * above; below, a status line (done/total, ETA) and one line per running node
 * with the progress its stage reports.
 */
export class TtyLogger implements RunLogger {
  private readonly update: ReturnType<typeof createLogUpdate>;
  private readonly running = new Map<NodeName, { since: number; event?: ProgressEvent }>();
  private readonly eta: EtaEstimator;
  private readonly timer: NodeJS.Timeout;
  private total = 0;
  private finishedCount = 0;
  private failedCount = 0;
  private cachedCount = 0;
  private frame = 0;
  private readonly runStart = performance.now();

  constructor(
    parallelism: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.update = createLogUpdate(stream, { showCursor: true });
    this.eta = new EtaEstimator(parallelism);
    this.timer = setInterval(() => this.render(), 120);
    this.timer.unref();
  }

  private print(text: string): void {
    this.update.clear();
    this.stream.write(text + '\n');
    this.render();
  }

  private render(): void {
    this.frame++;
    const width = this.stream.columns || 100;
    const done = this.finishedCount + this.failedCount;
    const bar = progressBar(this.total ? done / this.total : 0, 24);
    const eta = this.eta.label();
    const lines = [
      `${bar} ${done}/${this.total} nodes · ${this.running.size} running · ${this.cachedCount} cached${this.failedCount ? ` · ${this.failedCount} failed` : ''} · ${formatDuration(performance.now() - this.runStart)}${eta && done < this.total ? ` · ${eta}` : ''}`,
    ];
    const spin = SPINNER[this.frame % SPINNER.length];
    for (const [node, state] of this.running) {
      const p = state.event ? formatProgress(state.event) : 'starting';
      lines.push(`  ${spin} ${node}  ${p}  ${formatDuration(performance.now() - state.since)}`.slice(0, width - 1));
    }
    this.update(lines.join('\n'));
  }

  info(message: string): void {
    this.print(message);
  }
  warn(message: string): void {
    this.print(`warning: ${message}`);
  }
  planned(toRun: NodeName[], cached: number, estimates: Map<NodeName, number>): void {
    this.total = toRun.length;
    this.cachedCount = cached;
    this.eta.plan(toRun, estimates);
    this.render();
  }
  reused(node: NodeName): void {
    this.total--;
    this.cachedCount++;
    this.eta.drop(node);
  }
  started(node: NodeName): void {
    this.running.set(node, { since: performance.now() });
    this.eta.start(node);
    this.render();
  }
  progress(node: NodeName, event: ProgressEvent): void {
    this.eta.progress(node, event.done, event.total);
    const state = this.running.get(node);
    if (state) state.event = event;
  }
  finished(node: NodeName, durationMs: number, peakRssMb?: number): void {
    this.running.delete(node);
    this.finishedCount++;
    this.eta.finish(node, durationMs);
    this.print(`✓ ${node} ${formatDuration(durationMs)}${formatMemory(peakRssMb)}`);
  }
  failed(node: NodeName, error: string, logPath: string, tail: string[]): void {
    this.running.delete(node);
    this.failedCount++;
    this.eta.drop(node);
    this.print([`✗ ${node} failed: ${error}`, ...(logPath ? [`  log: ${logPath}`] : []), ...tail.map((l) => `    | ${l}`)].join('\n'));
  }
  skipped(node: NodeName, because: NodeName): void {
    this.eta.drop(node);
    this.total--;
    this.print(`- ${node} skipped (upstream ${because} failed)`);
  }
  done(s: RunSummary): void {
    clearInterval(this.timer);
    this.update.clear();
    const what = s.cancelled ? 'interrupted' : s.failed ? 'failed' : 'done';
    this.stream.write(`${what}: ${s.ran} ran, ${s.cached} cached, ${s.failed} failed, ${s.skipped} skipped in ${formatDuration(s.elapsedMs)}\n`);
    this.update.done();
  }
}

function progressBar(fraction: number, width: number): string {
  const full = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
  return '━'.repeat(full) + '─'.repeat(width - full);
}
