import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { parseHparamsConfig } from '../../../src/core/hparams/hparamsConfig.ts';
import { parseSweepConfig } from '../../../src/core/hparams/sweepConfig.ts';

const YAML = `
sweeps:
  lr-grid:
    run: train
    params:
      train.lr: [1e-3, 3e-3, 1e-2]
      model.hidden: "8:32:8"
      seed: 1
    concurrency: 2
    early_stop: { patience: 4, min_steps: 100 }
  random-search:
    run: train
    method: random
    count: 20
    seed: 5
    params:
      train.lr: { min: 1e-4, max: 1e-1, log: true }
      train.l2: "log(1e-5, 1e-2, 4)"
      model.hidden: { min: 4, max: 64, int: true }
    early_stop: true
`;

test('sweeps: grid and random, with lists, ranges, fixed values and early stopping', () => {
  const { sweeps, problems } = parseSweepConfig(parse(YAML).sweeps, ['train', 'train-copy']);
  assert.deepEqual(problems, []);
  assert.deepEqual(sweeps, [
    {
      name: 'lr-grid', run: 'train', method: 'grid', concurrency: 2, earlyStop: { patience: 4, minSteps: 100 },
      params: { 'train.lr': [0.001, 0.003, 0.01], 'model.hidden': [8, 16, 24, 32], seed: [1] },
    },
    {
      name: 'random-search', run: 'train', method: 'random', count: 20, seed: 5, concurrency: 1, earlyStop: { patience: 3, minSteps: 0 },
      params: { 'train.lr': { min: 1e-4, max: 1e-1, log: true }, 'train.l2': [1e-5, 1e-4, 1e-3, 1e-2], 'model.hidden': { min: 4, max: 64, int: true } },
    },
  ]);
});

test('sweep problems name the sweep and the key; a sweep with a problem is left out', () => {
  const { sweeps, problems } = parseSweepConfig({
    ok: { run: 'train', params: { lr: [0.1] } },
    a: { run: 'nope', params: { lr: [0.1] } },
    b: { run: 'train', method: 'bayes', params: { lr: [0.1] } },
    c: { run: 'train', params: { lr: { min: 0, max: 1 } } },
    d: { run: 'train', method: 'random', params: { lr: [0.1] } },
    e: { run: 'train', params: {}, count: 3, colour: 'red' },
    f: { run: 'train', params: { lr: '5..1', wd: [], x: [{}], y: null } },
    g: { run: 'train', params: { lr: [0.1] }, concurrency: 0, early_stop: { patience: 0, min_steps: -1, when: 1 } },
    h: 'train',
    i: { run: 'train', method: 'random', count: 2, params: { lr: { min: 0, max: 1, log: true }, wd: { min: 1, max: 2, step: 1 } } },
  }, ['train']);
  assert.deepEqual(sweeps.map((s) => s.name), ['ok']);
  assert.deepEqual(problems.map((p) => [p.path.join('/'), p.message]), [
    ['a/run', 'sweep "a": no run configuration named "nope" (there are: train)'],
    ['b/method', 'sweep "b": `method` must be grid or random'],
    ['c/params/lr', 'sweep "c": lr: a grid needs a list of values; a { min, max } range is for method: random'],
    ['d/count', 'sweep "d": a random sweep needs `count`: how many trials, a whole number from 1'],
    ['e/colour', 'sweep "e": unknown key `colour`; expected one of run, method, params, count, seed, concurrency, early_stop'],
    ['e/params', 'sweep "e": `params` must map param keys to values to try'],
    ['e/count', 'sweep "e": `count` is for random sweeps; a grid runs every combination'],
    ['f/params/lr', 'sweep "f": lr: range "5..1" never reaches its stop: start is above stop'],
    ['f/params/wd', 'sweep "f": wd: a list of values must hold numbers, strings or booleans, at least one'],
    ['f/params/x', 'sweep "f": x: a list of values must hold numbers, strings or booleans, at least one'],
    ['f/params/y', 'sweep "f": y: give a list, a range like "1..10", "0:1:0.25" or "log(1e-4, 1e-1, 4)", or { min, max }'],
    ['g/concurrency', 'sweep "g": `concurrency` must be a whole number from 1'],
    ['g/early_stop', 'sweep "g": unknown key `when` in early_stop; expected patience, min_steps'],
    ['g/early_stop/patience', 'sweep "g": `patience` must be a whole number from 1'],
    ['g/early_stop/min_steps', 'sweep "g": `min_steps` must be a number from 0'],
    ['h', 'sweep "h": must be a mapping with `run` and `params`'],
    ['i/params/lr', 'sweep "i": lr: a log range needs `min` above 0'],
    ['i/params/wd', 'sweep "i": wd: unknown key `step` in a range; expected min, max, log, int'],
  ]);
  assert.deepEqual(parseSweepConfig(undefined), { sweeps: [], problems: [] });
  assert.deepEqual(parseSweepConfig([1]).problems, [{ path: [], message: '`sweeps` must map sweep names to sweeps' }]);
});

test('hparams: map, entry points and extra config files', () => {
  const section = parse(`
hparams:
  map: { LR: train.lr, BATCH: " train.batch_size " }
  entry_points: [train, main]
  files: [conf/*.yaml, { path: conf/model/*.yaml, prefix: model }]
`).hparams;
  assert.deepEqual(parseHparamsConfig(section), {
    config: {
      map: { LR: 'train.lr', BATCH: 'train.batch_size' },
      entryPoints: ['train', 'main'],
      files: [{ path: 'conf/*.yaml' }, { path: 'conf/model/*.yaml', prefix: 'model' }],
    },
    problems: [],
  });
  assert.deepEqual(parseHparamsConfig(undefined), { config: { map: {}, entryPoints: [], files: [] }, problems: [] });
  assert.deepEqual(parseHparamsConfig({ map: { LR: 3 }, entry_points: ['not a name'], files: [7], other: 1 }).problems.map((p) => p.path.join('/')),
    ['other', 'map', 'entry_points', 'files/0']);
  assert.deepEqual(parseHparamsConfig('x').problems.length, 1);
});
