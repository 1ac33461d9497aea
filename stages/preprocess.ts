import { z } from 'zod';
import { defineStage } from '../src/engine/stage.js';
import { CIFAR10_CLASSES, IMAGES_PER_BATCH } from '../src/data/cifar/constants.js';

/**
 * preprocess: builds one derived data set in the pipeline's single on-disk
 * layout (see src/data/dataset-io.ts): `<split>_x.npy` (uint8 NHWC images,
 * float32 points or int32 token ids), `<split>_y.npy` (int32 labels) and
 * meta.json with per-class counts and channel means, also printed to the log.
 *
 * Params: `{ dataset: { kind, ...options } }`. Kinds and the input
 * (`needs: { source: ... }`) each takes:
 *   cifar10           a CIFAR-10 download   -> the canonical full set (train 50,000, test 10,000)
 *   cifar-binary      cifar10 (or download) -> two classes + other-class test images + noise images
 *   cifar-multiclass  cifar10 (or download) -> all ten classes
 *   mrpc              an MRPC download      -> tokenized pairs + vocab.json
 *   linear-2d, moons-2d, gaussians-2d       -> no input, generated from a seed
 */

const count = z.number().int().positive().nullable().default(null);
const seed = z.number().int();
const cifarClass = z.enum(CIFAR10_CLASSES);
const point = z.tuple([z.number(), z.number()]);

const cifar10 = z
  .object({
    kind: z.literal('cifar10'),
    /** Images per batch file: 10,000 for the real data (then checked against the published statistics); tests use fixtures. */
    images_per_batch: z.number().int().positive().default(IMAGES_PER_BATCH),
  })
  .strict();

const cifarBinary = z
  .object({
    kind: z.literal('cifar-binary'),
    classes: z.tuple([cifarClass, cifarClass]),
    train_per_class: count,
    test_per_class: count,
    other_per_class: z.number().int().nonnegative().nullable().default(null),
    noise: z.object({ n: z.number().int().nonnegative(), seed }).strict().nullable().default(null),
    label_noise: z.object({ fraction: z.number().min(0).lt(1), seed }).strict().nullable().default(null),
    subsample: z.object({ class: cifarClass, ratio: z.number().gt(0).max(1), seed }).strict().nullable().default(null),
  })
  .strict();

const cifarMulticlass = z.object({ kind: z.literal('cifar-multiclass'), train_per_class: count, test_per_class: count }).strict();

const mrpc = z
  .object({
    kind: z.literal('mrpc'),
    max_len: z.number().int().min(5).default(64),
    min_count: z.number().int().positive().default(1),
    max_vocab: z.number().int().min(5).nullable().default(null),
    lowercase: z.boolean().default(true),
    train_limit: count,
    test_limit: count,
  })
  .strict();

const nPerClass = z.number().int().positive().default(512);

const linear2d = z
  .object({
    kind: z.literal('linear-2d'),
    n_per_class: nPerClass,
    seed,
    std: point.default([1, 0.5]),
    truncate: z.number().positive().default(2),
    rotate_deg: z.number().default(60),
    translate: point.default([3.5, 3.5]),
  })
  .strict();

const moons2d = z.object({ kind: z.literal('moons-2d'), n_per_class: nPerClass, seed, noise: z.number().nonnegative().default(0.2) }).strict();

const gaussians2d = z
  .object({
    kind: z.literal('gaussians-2d'),
    n_per_class: nPerClass,
    seed,
    means: z.tuple([point, point]).default([
      [-1, 0],
      [1, 0],
    ]),
    std: z.number().positive().default(1),
  })
  .strict();

export default defineStage({
  // One key holding the whole spec, so a pipeline can write `params: { dataset: "${item.dataset}" }` under a foreach.
  params: z.object({ dataset: z.discriminatedUnion('kind', [cifar10, cifarBinary, cifarMulticlass, mrpc, linear2d, moons2d, gaussians2d]) }).strict(),
  async run(ctx) {
    const { datasetMeta, describeDataset, writeDataset } = await import('../src/data/dataset-io.js');
    const p = ctx.params.dataset;
    let dataset: import('../src/data/dataset-io.js').DatasetInput;
    let after: ((meta: import('../src/data/dataset-io.js').DatasetMeta) => string[]) | undefined;

    switch (p.kind) {
      case 'cifar10':
      case 'cifar-binary':
      case 'cifar-multiclass': {
        const { loadCifar10 } = await import('../src/data/cifar/cifar10.js');
        const derived = await import('../src/data/cifar/derived.js');
        const source = ctx.input('source');
        const data = await loadCifar10(source, {
          imagesPerBatch: p.kind === 'cifar10' ? p.images_per_batch : undefined,
          onProgress: (done, total, file) => ctx.progress(done, total, file ? { file } : undefined),
        });
        ctx.log(`loaded CIFAR-10 (${data.from}): train ${data.train.n}, test ${data.test.n} images`);
        if (p.kind === 'cifar10') {
          dataset = derived.canonicalDataset(data);
          if (p.images_per_batch === IMAGES_PER_BATCH) {
            const { checkAgainstReference } = await import('../src/data/cifar/reference.js');
            after = checkAgainstReference;
          }
        } else if (p.kind === 'cifar-binary') {
          dataset = derived.binaryDataset(data, {
            classes: p.classes,
            trainPerClass: p.train_per_class,
            testPerClass: p.test_per_class,
            otherPerClass: p.other_per_class,
            noise: p.noise,
            labelNoise: p.label_noise,
            subsample: p.subsample,
          });
        } else {
          dataset = derived.multiclassDataset(data, { trainPerClass: p.train_per_class, testPerClass: p.test_per_class });
        }
        break;
      }
      case 'mrpc': {
        const { readFileSync, writeFileSync } = await import('node:fs');
        const { join } = await import('node:path');
        const { readProvenance, RAW_DIR } = await import('../src/data/provenance.js');
        const m = await import('../src/data/mrpc.js');
        const source = ctx.input('source');
        const provenance = readProvenance(source);
        if (provenance?.format !== m.MRPC_FORMAT) throw new Error(`${source}: not an MRPC download (provenance.json format ${provenance?.format})`);
        const parse = (split: 'train' | 'test') => {
          const path = join(source, RAW_DIR, m.MRPC_FILES[split].name);
          const parsed = m.parseMrpc(readFileSync(path), path);
          for (const s of parsed.skipped) ctx.log(`${m.MRPC_FILES[split].name}:${s.line}: skipped ${s.reason}`);
          return parsed;
        };
        const built = m.mrpcDataset(parse('train'), parse('test'), {
          maxLen: p.max_len,
          minCount: p.min_count,
          maxVocab: p.max_vocab,
          lowercase: p.lowercase,
          trainLimit: p.train_limit,
          testLimit: p.test_limit,
        });
        dataset = built.dataset;
        writeFileSync(join(ctx.outDir, 'vocab.json'), JSON.stringify(built.vocab) + '\n');
        ctx.log(`vocabulary: ${built.vocab.length} tokens (from the training split only)`);
        break;
      }
      case 'linear-2d':
      case 'moons-2d':
      case 'gaussians-2d': {
        const s = await import('../src/data/synthetic-2d.js');
        if (p.kind === 'linear-2d') {
          dataset = s.linearlySeparable({ nPerClass: p.n_per_class, seed: p.seed, std: p.std, truncate: p.truncate, rotateDeg: p.rotate_deg, translate: p.translate });
        } else if (p.kind === 'moons-2d') {
          dataset = s.moons({ nPerClass: p.n_per_class, seed: p.seed, noise: p.noise });
        } else {
          dataset = s.overlappingGaussians({ nPerClass: p.n_per_class, seed: p.seed, means: p.means, std: p.std });
        }
        break;
      }
    }

    // Check before writing: a data set that fails its checks is never committed.
    const meta = datasetMeta(dataset);
    for (const line of describeDataset(meta)) ctx.log(line);
    if (after) for (const line of after(meta)) ctx.log(line);
    writeDataset(ctx.outDir, dataset, meta);
  },
});
