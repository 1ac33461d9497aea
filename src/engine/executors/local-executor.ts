import { execaNode, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';
import type { ExecResult, ProgressEvent } from '../exec-node.js';
import type { Executor, Task } from './executor.js';

const WORKER_OPTIONS = {
  ipc: true,
  serialization: 'json',
  stdin: 'ignore',
  stdout: 'pipe',
  stderr: 'pipe',
  reject: false,
  cleanup: true,
  buffer: false,
} as const;

interface Worker {
  process: ResultPromise<typeof WORKER_OPTIONS & { env: Record<string, string> }>;
  busy: boolean;
  current?: { task: Task; resolve: (r: ExecResult) => void; onProgress: (e: ProgressEvent) => void };
  dead: boolean;
  stderrTail: string;
}

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

/** A pool of reusable worker processes on this machine. */
export class LocalExecutor implements Executor {
  private readonly workers: Worker[] = [];
  private closed = false;

  constructor(
    readonly slots: number,
    private readonly projectRoot: string,
    private readonly cacheRoot: string,
    /** Threads each worker may use; workers x threads = cores. */
    private readonly threads: number,
  ) {}

  run(task: Task, onProgress: (event: ProgressEvent) => void): Promise<ExecResult> {
    const worker = this.idleWorker();
    worker.busy = true;
    return new Promise<ExecResult>((resolve) => {
      worker.current = { task, resolve, onProgress };
      worker.process
        .sendMessage({
          type: 'run',
          specPath: task.specPath,
          projectRoot: this.projectRoot,
          cacheRoot: this.cacheRoot,
          threads: this.threads,
        } as never)
        .catch((err: Error) => this.finish(worker, { ok: false, error: `could not reach worker: ${err.message}`, logPath: '' }));
    });
  }

  async cancel(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => this.kill(w)));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.workers) {
      if (!w.dead) w.process.disconnect();
    }
    await Promise.all(this.workers.map((w) => w.process.catch(() => undefined)));
  }

  private idleWorker(): Worker {
    const idle = this.workers.find((w) => !w.busy && !w.dead);
    if (idle) return idle;
    if (this.closed) throw new Error('executor is closed');
    const proc = execaNode(WORKER, [], {
      ...WORKER_OPTIONS,
      env: { IWDL_THREADS: String(this.threads), IWDL_WORKER: '1' } as Record<string, string>,
    });
    const worker: Worker = { process: proc, busy: false, dead: false, stderrTail: '' };
    const keepTail = (chunk: Buffer): void => {
      worker.stderrTail = (worker.stderrTail + chunk.toString()).slice(-2000);
    };
    proc.stdout?.on('data', keepTail);
    proc.stderr?.on('data', keepTail);
    void (async () => {
      try {
        for await (const raw of proc.getEachMessage()) {
          const msg = raw as unknown as { type: string; key: string; result?: ExecResult } & ProgressEvent;
          if (!worker.current || worker.current.task.key !== msg.key) continue;
          if (msg.type === 'progress') worker.current.onProgress({ done: msg.done, total: msg.total, info: msg.info });
          else if (msg.type === 'result') this.finish(worker, msg.result!);
        }
      } catch {
        /* channel closed: handled by the exit below */
      }
    })();
    void proc.then((result) => {
      worker.dead = true;
      if (worker.current) {
        const how = result.signal ? `signal ${result.signal}` : `exit code ${result.exitCode}`;
        const tail = worker.stderrTail.trim().split('\n').slice(-5).join('\n');
        this.finish(worker, {
          ok: false,
          error: `worker process died (${how})${tail ? `: ${tail}` : ''}`,
          logPath: '',
        });
      }
      const i = this.workers.indexOf(worker);
      if (i >= 0) this.workers.splice(i, 1);
    });
    this.workers.push(worker);
    return worker;
  }

  private finish(worker: Worker, result: ExecResult): void {
    const current = worker.current;
    if (!current) return;
    worker.current = undefined;
    worker.busy = false;
    current.resolve(result);
  }

  private async kill(worker: Worker): Promise<void> {
    if (worker.dead) return;
    worker.process.kill('SIGKILL');
    await worker.process.catch(() => undefined);
  }
}
