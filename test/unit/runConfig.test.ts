import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRunConfig } from '../../src/core/config/runConfig.ts';

test('the demo runlens.yaml reads without problems', () => {
  const { config, problems } = parseRunConfig(readFileSync(join(import.meta.dirname, '..', '..', 'demo', 'runlens.yaml'), 'utf8'));
  assert.deepEqual(problems, []);
  assert.equal(config.experiment, 'demo');
  assert.deepEqual(config.primaryMetric, { name: 'val_acc', goal: 'max' });
  assert.deepEqual(config.runs.map((r) => r.name), ['train', 'train-copy']);
  assert.equal(config.runs[1]!.overrideStyle, 'file');
  const train = config.runs[0]!;
  assert.deepEqual(train.command, ['python3', 'train.py']);
  assert.deepEqual(train.params, ['params.yaml']);
  assert.deepEqual(train.datasets, ['data']);
  assert.equal(train.overrideStyle, 'argparse');
});

test('mistakes are reported at their line, and the valid runs are still read', () => {
  const text = [
    'experiment: demo',
    'runs:',
    '  good:',
    '    command: python train.py --fast',
    '  bad:',
    '    command: 42',
    '    overide_style: hydra',
    'colour: blue',
  ].join('\n');
  const { config, problems } = parseRunConfig(text);
  assert.deepEqual(config.runs.map((r) => r.name), ['good']);
  assert.equal(config.runs[0]!.command, 'python train.py --fast', 'a string runs through the shell');
  const byLine = Object.fromEntries(problems.map((p) => [p.line, p.message]));
  assert.match(byLine[5]!, /run "bad": `command` must be a list/);
  assert.match(byLine[6]!, /unknown key `overide_style`/);
  assert.match(byLine[7]!, /unknown key `colour`/);
});

test('broken YAML gives a located error instead of an exception', () => {
  const { config, problems } = parseRunConfig('runs:\n  train:\n    command: [python3, train.py\n');
  assert.equal(config.runs.length, 0);
  assert.ok(problems.length > 0);
  assert.ok(problems[0]!.line >= 2);
});

test('a bad metric regex and a bad primary metric are reported', () => {
  const { config, problems } = parseRunConfig('primary_metric: {name: acc, goal: up}\nmetric_patterns: ["(?<loss>[0-9.]+", "loss (?<loss>[0-9.]+)"]\nruns: {}\n');
  assert.equal(config.primaryMetric, undefined);
  assert.deepEqual(config.metricPatterns, ['loss (?<loss>[0-9.]+)']);
  assert.equal(problems.length, 2);
  assert.match(problems.map((p) => p.message).join('\n'), /goal: max.*[\s\S]*metric pattern/);
});

test('the shipped JSON schema knows every key the parser accepts', () => {
  const schema = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'media', 'runlens.schema.json'), 'utf8'));
  assert.deepEqual(Object.keys(schema.properties).sort(), ['alerts', 'executor', 'experiment', 'gates', 'hparams', 'metric_patterns', 'primary_metric', 'runs', 'sweeps']);
  assert.deepEqual(Object.keys(schema.properties.runs.additionalProperties.properties).sort(),
    ['alerts', 'capture', 'command', 'cwd', 'datasets', 'env', 'executor', 'experiment', 'outputs', 'override_style', 'params']);
});

test('hparams and sweeps sections are read, and a mistake inside a sweep is reported at its line', () => {
  const text = [
    'runs:', '  train: { command: [python3, train.py] }',
    'hparams:', '  map: { LR: train.lr }', '  entry_points: [main]',
    'sweeps:', '  lr-grid:', '    run: train', '    params:', '      train.lr: [0.01, 0.1]', '      train.epochs: "2..3"',
    '  broken:', '    run: nowhere', '    params: { train.lr: [0.1] }', '',
  ].join('\n');
  const { config, problems } = parseRunConfig(text);
  assert.deepEqual(config.hparams.map, { LR: 'train.lr' });
  assert.deepEqual(config.hparams.entryPoints, ['main']);
  assert.deepEqual(config.sweeps.map((s) => [s.name, s.run, s.params]), [['lr-grid', 'train', { 'train.lr': [0.01, 0.1], 'train.epochs': [2, 3] }]]);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /^sweeps: .*nowhere/);
  assert.equal(problems[0]!.line, 12, 'at the `run: nowhere` line');
});
