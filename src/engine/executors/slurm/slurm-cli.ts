import { execa } from 'execa';
import type { Resources } from '../../config/schema.js';

/**
 * The Slurm commands the engine uses (sbatch, squeue, sacct, scancel), each
 * a subprocess through execa. Nothing here knows about nodes or caches.
 */

export type JobState =
  | 'PENDING'
  | 'CONFIGURING'
  | 'RUNNING'
  | 'COMPLETING'
  | 'COMPLETED'
  | 'FAILED'
  | 'TIMEOUT'
  | 'OUT_OF_MEMORY'
  | 'CANCELLED'
  | 'NODE_FAIL'
  | 'PREEMPTED'
  | 'BOOT_FAIL'
  | 'DEADLINE'
  | 'SUSPENDED'
  | 'UNKNOWN';

export const FINAL_STATES = new Set<JobState>(['COMPLETED', 'FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'CANCELLED', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

export interface JobInfo {
  state: JobState;
  reason: string;
}

export interface SubmitOptions {
  name: string;
  command: string;
  output: string;
  cwd: string;
  dependsOn: string[];
  resources?: Resources;
  env?: Record<string, string>;
}

/** `sbatch --parsable`; returns the job id. */
export async function submitJob(o: SubmitOptions): Promise<string> {
  const args = ['--parsable', `--job-name=${o.name}`, `--output=${o.output}`, `--chdir=${o.cwd}`, '--kill-on-invalid-dep=yes'];
  if (o.dependsOn.length) args.push(`--dependency=afterok:${o.dependsOn.join(':')}`);
  const r = o.resources ?? {};
  if (r.partition) args.push(`--partition=${r.partition}`);
  if (r.time) args.push(`--time=${r.time}`);
  if (r.cpus) args.push(`--cpus-per-task=${r.cpus}`);
  if (r.mem) args.push(`--mem=${r.mem}`);
  if (r.gres) args.push(`--gres=${r.gres}`);
  args.push(...(r.extra ?? []));
  args.push(`--wrap=${o.command}`);
  const result = await execa('sbatch', args, { reject: false, env: o.env, stdin: 'ignore' });
  if (result.exitCode !== 0) {
    throw new Error(`sbatch failed (exit ${result.exitCode}): ${String(result.stderr || result.stdout).trim() || 'no output'}${(result as { code?: string }).code === 'ENOENT' ? ' (is Slurm installed? sbatch is not on PATH)' : ''}`);
  }
  const id = String(result.stdout).trim().split(';')[0]!;
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: ${String(result.stdout)}`);
  return id;
}

/**
 * States of `ids`: squeue (which lists finished jobs for MinJobAge), then
 * sacct for jobs squeue has forgotten, where accounting is configured.
 */
export async function jobStates(ids: string[]): Promise<Map<string, JobInfo>> {
  const out = new Map<string, JobInfo>();
  if (ids.length === 0) return out;
  const q = await execa('squeue', ['-h', '-t', 'all', '-j', ids.join(','), '-o', '%i|%T|%r'], { reject: false, stdin: 'ignore' });
  if (q.exitCode === 0) {
    for (const line of String(q.stdout).split('\n')) {
      const [id, state, reason] = line.trim().split('|');
      if (id && state) out.set(id, { state: state as JobState, reason: reason ?? '' });
    }
  }
  const missing = ids.filter((id) => !out.has(id));
  if (missing.length) {
    const a = await execa('sacct', ['-n', '-P', '-X', '-j', missing.join(','), '-o', 'JobID,State,Reason'], { reject: false, stdin: 'ignore' });
    if (a.exitCode === 0) {
      for (const line of String(a.stdout).split('\n')) {
        const [id, state, reason] = line.trim().split('|');
        if (id && state) out.set(id, { state: state.split(' ')[0] as JobState, reason: reason ?? '' });
      }
    }
  }
  return out;
}

export async function cancelJobs(ids: string[]): Promise<void> {
  if (ids.length) await execa('scancel', ids, { reject: false, stdin: 'ignore' });
}
