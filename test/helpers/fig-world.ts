import { join } from 'node:path';
import type { InputRef } from '../../src/engine/stage.js';
import type { JsonObject, NodeName } from '../../src/engine/types.js';
import aggregate from '../../stages/aggregate.js';
import { catdogExperiment, runStageWith, tmp, write2dData, writeRun, type MetricFixtureRow } from './fig-fixtures.js';

/**
 * A whole synthetic run of the paper's experiments at toy size: train-node
 * outputs for every experiment, aggregated by the real aggregate stage.
 * Returns the aggregate nodes as InputRefs (params.experiment set), the way
 * the plot and report stages receive them.
 */
export async function buildWorld(root = tmp('iwdl-world-')): Promise<{ root: string; aggregates: InputRef[] }> {
  const exps: Record<string, { runs: InputRef[]; data?: InputRef[] }> = {};
  const r = (name: string) => join(root, 'train', name);
  exps.catdog = { runs: catdogExperiment(r('catdog')) };
  exps['catdog-l2'] = { runs: catdogExperiment(r('catdog-l2'), 'train-catdog-l2', { l2: 0.001 }) };
  exps['catdog-dropout'] = { runs: catdogExperiment(r('catdog-dropout'), 'train-catdog-dropout', { dropout: 0.5 }) };
  exps['resnet-bn'] = { runs: catdogExperiment(r('resnet-bn'), 'train-resnet-bn', { seeds: [1] }) };
  exps['resnet-nobn'] = { runs: catdogExperiment(r('resnet-nobn'), 'train-resnet-nobn', { seeds: [1] }) };
  exps.labelnoise = { runs: catdogExperiment(r('labelnoise'), 'train-labelnoise', { seeds: [1] }) };
  exps.autotruck = { runs: catdogExperiment(r('autotruck'), 'train-autotruck', { seeds: [1] }) };
  exps.adam = { runs: catdogExperiment(r('adam'), 'train-adam', { seeds: [1] }) };
  exps.mrpc = { runs: catdogExperiment(r('mrpc'), 'train-mrpc', { seeds: [1] }) };
  for (const [name, rebalance] of [['imbalance', false], ['imbalance-rebalanced', true]] as const) {
    const runs: InputRef[] = [];
    for (const cls of ['cat', 'dog']) {
      for (const ratio of [0.5, 0.25, 0.125]) {
        const toward = cls === 'cat' ? 1 : -1;
        const f = 0.5 + toward * (rebalance ? 0.15 : 0.2) * Math.log2(1 / ratio) / 3;
        const rows: MetricFixtureRow[] = [];
        for (const e of [1, 10]) for (const s of ['train', 'test', 'other', 'noise']) rows.push({ epoch: e, eval_set: s, frac_second: f, accuracy: s === 'test' ? 0.75 : null });
        const cw = rebalance ? (cls === 'cat' ? [1, ratio] : [ratio, 1]) : [1, 1];
        runs.push(writeRun(r(name), { node: `train-${name}@${cls}-${ratio}-s1`, item: { class: cls, ratio, seed: 1 }, params: { model: 'cnn', seed: 1, rebalance }, classes: ['cat', 'dog'], classWeights: cw, rows }));
      }
    }
    exps[name] = { runs };
  }
  {
    const runs: InputRef[] = [];
    const classes = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
    for (const rho of [0.2, 0.5, 0.9]) {
      for (const focus of [0, 1, 2]) {
        const rows: MetricFixtureRow[] = [];
        for (const e of [0, 1, 10, 100]) for (const s of ['train', 'test']) rows.push({ epoch: e, eval_set: s, frac_second: 0.1 + (rho - 0.5) / Math.max(e, 1) / 5, accuracy: 0.4, weighted_accuracy: 0.4 + (rho - 0.5) / Math.max(e, 1) / 4 + focus * 0.01 });
        runs.push(writeRun(r('multiclass'), { node: `train-multiclass@rho${rho}-c${focus}`, item: { rho, focus_class: focus }, params: { model: 'mlp', seed: 1, rho, focus_class: focus }, classes, kind: 'cifar-multiclass', classWeights: classes.map((_, c) => (c === focus ? rho : (1 - rho) / 9)), focusClass: focus, rows }));
      }
    }
    exps.multiclass = { runs };
  }
  {
    const runs: InputRef[] = [];
    const data: InputRef[] = [];
    const pts: Array<[number, number]> = [];
    const ys: number[] = [];
    for (let i = 0; i < 20; i++) {
      pts.push([(i % 5) * 0.3, Math.floor(i / 5) * 0.3]);
      ys.push(0);
      pts.push([2 + (i % 5) * 0.3, 2 + Math.floor(i / 5) * 0.3]);
      ys.push(1);
    }
    const twoD = (w: number) => ({ G: 16, x: [-0.5, 3.7] as [number, number], y: [-0.5, 3.7] as [number, number], epochs: [1, 10, 100], surface: (k: number, x: number, y: number) => 1 / (1 + Math.exp(-(x + y - 3.4 + Math.log2(w) * 0.3 / (k + 1)) * 3)) });
    for (const kind of ['linear-2d', 'moons-2d', 'gaussians-2d']) {
      data.push(write2dData(r('2d-data'), kind, pts, ys));
      for (const reg of ['none', 'l2', 'dropout']) {
        for (const w of [1 / 16, 1 / 4, 1, 4, 16]) {
          for (const model of ['mlp2d', 'logistic']) {
            if (model === 'logistic' && reg === 'dropout') continue;
            const params: Record<string, unknown> = { model, seed: 0, weight_ratio: w, l2: reg === 'l2' ? 0.001 : 0, dropout: reg === 'dropout' ? 0.5 : 0 };
            runs.push(
              writeRun(r('2d'), {
                node: `train-2d@${kind}-${model}-${reg}-w${w}`,
                item: { dataset: kind, model, reg, weight: w },
                params,
                kind,
                classes: ['negative', 'positive'],
                classWeights: w < 1 ? [1, w] : [1 / w, 1],
                rows: [{ epoch: 100, eval_set: 'train', frac_second: 0.5, accuracy: 1 }],
                twoD: { ...twoD(w), ...(kind === 'linear-2d' ? { svm: { w: [1, 1], b: -3.4 } } : {}), ...(model === 'logistic' ? { boundary: [1, 10, 100].map((epoch) => ({ epoch, w: [1, 1], b: -3.4 + Math.log2(w) * 0.3 / epoch })) } : {}) },
              }),
            );
          }
        }
      }
    }
    exps['2d'] = { runs, data };
  }
  const aggregates: InputRef[] = [];
  for (const [experiment, { runs, data }] of Object.entries(exps)) {
    const { outDir } = await runStageWith(aggregate, { experiment }, { runs, ...(data ? { data } : {}) }, join(root, 'aggregate', experiment));
    aggregates.push({ node: `aggregate@${experiment}` as NodeName, dir: outDir, item: {}, params: { experiment } as JsonObject });
  }
  return { root, aggregates };
}
