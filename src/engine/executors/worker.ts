/**
 * A long-lived worker process of the local executor. It runs one node at a
 * time through the same `executeNode` that `iwdl exec <key>` uses, so start-up
 * (Node, module loading, a compute backend's initialization) is paid once per
 * worker, not once per node.
 */
import { getEachMessage, sendMessage } from 'execa';
import { LocalCache } from '../cache/local-cache.js';
import { executeNode, readSpec } from '../exec-node.js';

interface RunMessage {
  type: 'run';
  specPath: string;
  projectRoot: string;
  cacheRoot: string;
  threads: number;
}

// The parent owns interruption: on Ctrl-C the whole process group gets SIGINT,
// and the parent decides to kill us. Exiting on our own would race it.
process.on('SIGINT', () => {});
process.on('disconnect', () => process.exit(1));

const caches = new Map<string, LocalCache>();

for await (const raw of getEachMessage()) {
  const msg = raw as unknown as RunMessage;
  if (msg.type !== 'run') continue;
  let cache = caches.get(msg.cacheRoot);
  if (!cache) {
    cache = new LocalCache(msg.cacheRoot);
    caches.set(msg.cacheRoot, cache);
  }
  const spec = readSpec(msg.specPath);
  const result = await executeNode(msg.projectRoot, cache, spec, {
    threads: msg.threads,
    flushMemos: false,
    onProgress: (event) => {
      void sendMessage({ type: 'progress', key: spec.key, ...event } as never).catch(() => {});
    },
  });
  if (result.ok) result.learned = cache.takeLearned();
  await sendMessage({ type: 'result', key: spec.key, result } as never);
}
