import type { DatasetMeta } from '../dataset-io.js';
import { CIFAR10_CLASSES } from './constants.js';

/**
 * What the real CIFAR-10 must look like: 5,000 training and 1,000 test
 * images per class, and training-set channel means of 0.4914, 0.4822,
 * 0.4465 (of 255). A canonical set decoded from full-size batches is checked
 * against this before anything is committed, so a source that decodes to the
 * wrong pixels (channel order, planar vs interleaved) or the wrong labels
 * cannot slip into the cache.
 */

export const REFERENCE = {
  trainPerClass: 5000,
  testPerClass: 1000,
  trainChannelMeanUnit: [0.4914, 0.4822, 0.4465],
  tolerance: 5e-4,
} as const;

/** Lines for the log; throws when the data set is not the real CIFAR-10. */
export function checkAgainstReference(meta: DatasetMeta): string[] {
  const problems: string[] = [];
  const lines: string[] = [];
  for (const [split, expected] of [
    ['train', REFERENCE.trainPerClass],
    ['test', REFERENCE.testPerClass],
  ] as const) {
    const counts = meta.splits[split]?.counts ?? {};
    const off = CIFAR10_CLASSES.filter((c) => counts[c] !== expected);
    if (off.length) problems.push(`${split}: ${off.map((c) => `${c} ${counts[c] ?? 0}`).join(', ')} (expected ${expected} per class)`);
    else lines.push(`check ${split}: ${expected} images per class, as in CIFAR-10`);
  }
  const means = meta.splits.train?.channel_mean_unit ?? [];
  const bad = REFERENCE.trainChannelMeanUnit.some((m, c) => !(Math.abs((means[c] ?? NaN) - m) <= REFERENCE.tolerance));
  const shown = `${means.map((m) => m.toFixed(4)).join(', ')} (expected ${REFERENCE.trainChannelMeanUnit.join(', ')} ± ${REFERENCE.tolerance})`;
  if (bad) problems.push(`train channel means ${shown}`);
  else lines.push(`check train channel means: ${shown}`);
  if (problems.length) throw new Error(`decoded data is not CIFAR-10 as published: ${problems.join('; ')}`);
  return lines;
}
