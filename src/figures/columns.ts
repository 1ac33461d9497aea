/**
 * The coordinates that tell one curve of an experiment from another. Runs
 * that agree on all of them are replicates (seeds; for multiclass also the
 * focus classes) and are averaged.
 */
export const GROUP_COLUMNS = ['dataset', 'model', 'reg', 'rebalance', 'subsampled', 'ratio', 'rho', 'weight'] as const;
