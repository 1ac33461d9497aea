import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { FixtureProject } from './helpers/fixture-project.js';

const STAGE = `export default { async run(ctx) {} };\n`;
const STRICT_STAGE = `
import { z } from 'zod';
export default {
  params: z.object({ lr: z.number(), epochs: z.number().int().default(10) }).strict(),
  async run(ctx) {},
};
`;

interface Case {
  name: string;
  yaml: string;
  args?: string[];
  files?: Record<string, string>;
  /** Expected message, including the position. */
  error: RegExp;
}

const cases: Case[] = [
  {
    name: 'unknown top-level key',
    yaml: `stages:\n  a:\n    module: stages/a.mjs\nstagez: {}\n`,
    error: /pipeline\.yaml:4:1: stagez: unknown key 'stagez' \(allowed: version, default_profile, vars, profiles, executor, slurm, stages\)/,
  },
  {
    name: 'unknown stage key',
    yaml: `stages:\n  a:\n    module: stages/a.mjs\n    need: {x: b}\n`,
    error: /pipeline\.yaml:4:5: stages\.a\.need: unknown key 'need' \(allowed: module, desc, params, needs, matrix, foreach, name, audit, resources, publish\)/,
  },
  {
    name: 'wrong type',
    yaml: `stages:\n  a:\n    module: [stages/a.mjs]\n`,
    error: /pipeline\.yaml:3:13: stages\.a\.module: expected string, got array/,
  },
  {
    name: 'missing module key',
    yaml: `stages:\n  a:\n    params: {}\n`,
    error: /pipeline\.yaml:3:5: stages\.a: missing required key 'module'/,
  },
  {
    name: 'need of an unknown stage',
    yaml: `stages:\n  a:\n    module: stages/a.mjs\n    needs:\n      data: prepare\n`,
    error: /pipeline\.yaml:5:13: stages\.a\.needs\.data: 'prepare' \(in node a\) refers to unknown stage 'prepare'; stages: a/,
  },
  {
    name: 'need matching no node',
    yaml: `stages:\n  a:\n    module: stages/a.mjs\n    foreach: [x, y]\n  b:\n    module: stages/a.mjs\n    needs:\n      data: a@z*\n`,
    error: /pipeline\.yaml:8:13: stages\.b\.needs\.data: 'a@z\*' \(in node b\) matches no node of stage 'a'/,
  },
  {
    name: 'dependency cycle',
    yaml: `stages:\n  a:\n    module: stages/a.mjs\n    needs: {x: c}\n  b:\n    module: stages/a.mjs\n    needs: {x: a}\n  c:\n    module: stages/a.mjs\n    needs: {x: b}\n`,
    error: /dependency cycle: a -> c -> b -> a/,
  },
  {
    name: 'matrix that expands to nothing',
    yaml: `vars:\n  seeds: []\nstages:\n  a:\n    module: stages/a.mjs\n    matrix:\n      seed: \${seeds}\n`,
    error: /pipeline\.yaml:7:13: stages\.a\.matrix\.seed: matrix expands to nothing: axis 'seed' is an empty list/,
  },
  {
    name: 'interpolation of an undefined variable',
    yaml: `vars:\n  lr: 0.1\nstages:\n  a:\n    module: stages/a.mjs\n    params:\n      rate: \${learning_rate}\n`,
    error: /pipeline\.yaml:7:13: stages\.a\.params\.rate: \$\{learning_rate\}: undefined variable 'learning_rate' \(defined: lr, profile\)/,
  },
  {
    name: 'undefined item field',
    yaml: `stages:\n  a:\n    module: stages/a.mjs\n    matrix:\n      seed: [1]\n    params:\n      w: \${item.weight}\n`,
    error: /pipeline\.yaml:7:10: stages\.a\.params\.w: \$\{item\.weight\}: undefined 'weight' in \$\{item\} \(defined: seed\)/,
  },
  {
    name: 'missing stage module',
    yaml: `stages:\n  a:\n    module: stages/missing.mjs\n`,
    error: /pipeline\.yaml:3:13: stages\.a\.module: stage module 'stages\/missing\.mjs' does not exist/,
  },
  {
    name: 'module without a stage definition',
    yaml: `stages:\n  a:\n    module: stages/nostage.mjs\n`,
    files: { 'stages/nostage.mjs': 'export const x = 1;\n' },
    error: /stages\.a\.module: stage module 'stages\/nostage\.mjs' must `export default defineStage/,
  },
  {
    name: 'param rejected by the stage schema',
    yaml: `stages:\n  a:\n    module: stages/strict.mjs\n    params:\n      lr: fast\n`,
    error: /pipeline\.yaml:5:11: stages\.a\.params\.lr: param 'lr': expected number, got string \(first in node a\)/,
  },
  {
    name: 'unknown param',
    yaml: `stages:\n  a:\n    module: stages/strict.mjs\n    params:\n      lr: 0.1\n      momentum: 0.9\n`,
    error: /pipeline\.yaml:6:7: stages\.a\.params\.momentum: unknown param\(s\) 'momentum' for stages\/strict\.mjs/,
  },
  {
    name: 'invalid YAML',
    yaml: `stages:\n  a:\n    module: stages/a.mjs\n   params: {\n`,
    error: /pipeline\.yaml:\d+:\d+: invalid YAML/,
  },
  {
    name: 'profile var not declared',
    yaml: `vars:\n  epochs: 1\nprofiles:\n  smoke:\n    epoch: 2\nstages:\n  a:\n    module: stages/a.mjs\n`,
    error: /pipeline\.yaml:5:5: profiles\.smoke\.epoch: profile 'smoke' sets 'epoch', which is not declared under vars:/,
  },
  {
    name: 'duplicate node names',
    yaml: `stages:\n  a:\n    module: stages/a.mjs\n    matrix:\n      x: [1, 2]\n      y: [3]\n    name: n\${item.y}\n`,
    error: /stages\.a\.name: two nodes are both named 'a@n3'/,
  },
  {
    name: 'unknown --stage',
    yaml: `stages:\n  a:\n    module: stages/a.mjs\n`,
    args: ['--stage', 'plot'],
    error: /--stage plot: no stage named 'plot'; stages: a/,
  },
  {
    name: 'unknown --profile',
    yaml: `vars: {n: 1}\nprofiles:\n  smoke: {}\nstages:\n  a:\n    module: stages/a.mjs\n`,
    args: ['--profile', 'huge'],
    error: /--profile: unknown profile 'huge'; \S*pipeline\.yaml defines: smoke/,
  },
  {
    name: '--set of an unknown path',
    yaml: `vars: {n: 1}\nstages:\n  a:\n    module: stages/a.mjs\n`,
    args: ['--set', 'm=2'],
    error: /--set m=2: 'm' is neither a var \(n\) nor a stage \(a\)/,
  },
  {
    name: '--set without a value',
    yaml: `vars: {n: 1}\nstages:\n  a:\n    module: stages/a.mjs\n`,
    args: ['--set', 'n'],
    error: /--set n: expected path=value/,
  },
  {
    name: 'unknown option',
    yaml: `stages:\n  a:\n    module: stages/a.mjs\n`,
    args: ['--frobnicate'],
    error: /arguments: Unknown option '--frobnicate'/,
  },
  {
    name: 'bad --jobs',
    yaml: `stages:\n  a:\n    module: stages/a.mjs\n`,
    args: ['-j', 'many'],
    error: /--jobs: expected a whole number >= 1, got 'many'/,
  },
];

describe('bad configuration is reported with its position, exit code 2, and nothing written', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const p = new FixtureProject({
        'pipeline.yaml': c.yaml,
        'stages/a.mjs': STAGE,
        'stages/strict.mjs': STRICT_STAGE,
        ...(c.files ?? {}),
      });
      try {
        for (const extra of [[], ['--dry-run']]) {
          const r = await p.cli([...(c.args ?? []), ...extra]);
          assert.equal(r.exitCode, 2, `exit code for ${c.name}: ${r.stderr}`);
          assert.match(r.stderr, c.error);
          assert.match(r.stderr, /^error: /);
          assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a user error');
        }
        for (const written of ['cache', 'artifacts', 'pipeline.lock']) {
          assert.equal(existsSync(p.path(written)), false, `${written} must not be created`);
        }
      } finally {
        p.remove();
      }
    });
  }

  test('a valid config with a stage default fills the param and hashes it', async () => {
    const p = new FixtureProject({
      'pipeline.yaml': `stages:\n  a:\n    module: stages/strict.mjs\n    params:\n      lr: 0.1\n`,
      'stages/strict.mjs': STRICT_STAGE,
    });
    try {
      const r = await p.cli([]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.deepEqual(JSON.parse(p.read('pipeline.lock')).nodes.a.params, { epochs: 10, lr: 0.1 });
      // A new default in the stage's code reaches the params although pipeline.yaml did not change
      // (validated params are memoized per stage code fingerprint).
      p.write('stages/strict.mjs', STRICT_STAGE.replace('default(10)', 'default(20)'));
      const again = await p.json([]);
      assert.equal(again.result.exitCode, 0, again.result.stderr);
      assert.deepEqual(again.nodes[0]!.reasons.sort(), ['code changed: stages/strict.mjs', 'params changed: epochs 10 -> 20']);
      assert.deepEqual(JSON.parse(p.read('pipeline.lock')).nodes.a.params, { epochs: 20, lr: 0.1 });
    } finally {
      p.remove();
    }
  });
});
