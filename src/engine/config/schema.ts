import { z } from 'zod';

/**
 * The shape of pipeline.yaml. Objects are strict: an unknown key is almost
 * always a typo (`need:` for `needs:`) and silently ignoring it would run the
 * wrong pipeline.
 */

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

const stageName = z.string().regex(NAME, 'stage names start with a letter and use letters, digits, _ and -');

const needsValue = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/**
 * How an audit compares a re-executed output with the recorded one. The
 * default is byte identity; a tolerance is declared for outputs whose last
 * bits legitimately vary (floating-point metrics across machines).
 */
export const toleranceSchema = z
  .object({
    files: z.string().min(1),
    format: z.enum(['csv', 'json', 'npy']),
    abs: z.number().nonnegative(),
    columns: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

export const auditSchema = z.object({ tolerances: z.array(toleranceSchema).min(1) }).strict();

export type Tolerance = z.infer<typeof toleranceSchema>;

/** Cluster resources of a stage's jobs (Slurm). Ignored by the local executor. */
export const resourcesSchema = z
  .object({
    partition: z.string().min(1).optional(),
    time: z.string().regex(/^(\d+-)?\d+(:\d+){0,2}$/, 'a Slurm time limit such as 30, 1:00:00 or 2-00:00:00').optional(),
    cpus: z.number().int().positive().optional(),
    mem: z.string().regex(/^\d+[KMGT]?$/, 'a Slurm memory size such as 4G or 2048M').optional(),
    gres: z.string().min(1).optional(),
    extra: z.array(z.string().min(1)).optional(),
  })
  .strict();

export type Resources = z.infer<typeof resourcesSchema>;

export const stageSchema = z
  .object({
    module: z.string().min(1, 'module must name a stage module, e.g. stages/train.ts'),
    desc: z.string().optional(),
    params: z.record(z.unknown()).optional(),
    needs: z.record(needsValue).optional(),
    matrix: z.union([z.record(z.unknown()), z.string()]).optional(),
    foreach: z.union([z.array(z.unknown()), z.record(z.unknown()), z.string()]).optional(),
    name: z.string().min(1).optional(),
    audit: auditSchema.optional(),
    resources: resourcesSchema.optional(),
    publish: z
      .string()
      .min(1)
      .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..') && !/^(cache|artifacts)(\/|$)/.test(p), {
        message: 'publish must be a directory inside the project (relative, no "..", not cache/ or artifacts/), e.g. reports',
      })
      .optional(),
  })
  .strict();

export const pipelineSchema = z
  .object({
    version: z.literal(1).optional(),
    default_profile: z.string().min(1).optional(),
    vars: z.record(z.unknown()).optional(),
    profiles: z.record(z.record(z.unknown())).optional(),
    /** Where nodes run unless --executor says otherwise. */
    executor: z.enum(['local', 'slurm']).optional(),
    /** Default Slurm resources of every stage. */
    slurm: resourcesSchema.optional(),
    stages: z.record(z.unknown()),
  })
  .strict();

export type StageConfig = z.infer<typeof stageSchema>;
export type PipelineConfig = z.infer<typeof pipelineSchema>;
export { stageName, NAME };
