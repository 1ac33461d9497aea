import type { ExecResult, ProgressEvent } from '../exec-node.js';
import type { NodeKey, NodeName } from '../types.js';

export interface Task {
  key: NodeKey;
  node: NodeName;
  /** Absolute path of the node's spec (cache/specs/<key>.json). */
  specPath: string;
}

/**
 * Runs node specs somewhere and reports back. The scheduler decides what to
 * run and in which order; an executor only decides where. Local worker
 * processes today, cluster jobs later, with the same spec files and the same
 * commit path.
 */
export interface Executor {
  /** How many tasks may be in flight at once. */
  readonly slots: number;
  run(task: Task, onProgress: (event: ProgressEvent) => void): Promise<ExecResult>;
  /** Stops everything in flight now; their run() promises resolve as failures. */
  cancel(): Promise<void>;
  close(): Promise<void>;
}
