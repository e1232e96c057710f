import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { overridesText, sweepId, trialName, trialsOf } from '../../../src/core/hparams/sweepTrials.ts';
import { parseOverrides } from '../../../src/core/config/overrides.ts';
import { SweepError } from '../../../src/core/hparams/sweep.ts';
import { Store } from '../../../src/core/store/store.ts';
import { SWEEP_TAG } from '../../../src/core/types.ts';
import { launch } from '../../../src/core/runs/launch.ts';
import { runFolder } from '../../../src/core/runs/runProcess.ts';
import { tempDir } from '../helpers.ts';

test('trials: a grid is every combination, random is seeded', () => {
  assert.deepEqual(trialsOf({ method: 'grid', params: { 'train.lr': [0.1, 0.3], 'model.hidden': [8, 16] } }), [
    { 'train.lr': 0.1, 'model.hidden': 8 }, { 'train.lr': 0.1, 'model.hidden': 16 },
    { 'train.lr': 0.3, 'model.hidden': 8 }, { 'train.lr': 0.3, 'model.hidden': 16 },
  ]);
  const random = { method: 'random' as const, params: { lr: { min: 1e-4, max: 1, log: true }, opt: ['adam', 'sgd'] }, count: 5, seed: 7 };
  assert.equal(trialsOf(random).length, 5);
  assert.deepEqual(trialsOf(random), trialsOf(random));
  assert.notDeepEqual(trialsOf(random), trialsOf({ ...random, seed: 8 }));
  assert.throws(() => trialsOf({ method: 'grid', params: { lr: { min: 0, max: 1 } } }), SweepError);
});

test('sweep ids: name and minute, made unique', () => {
  const when = new Date(2026, 10, 23, 15, 20, 59);
  assert.equal(sweepId('lr-search', when, () => false), 'lr-search 2026-11-23 15:20');
  const taken = new Set(['lr-search 2026-11-23 15:20', 'lr-search 2026-11-23 15:20 (2)']);
  assert.equal(sweepId('lr-search', when, (id) => taken.has(id)), 'lr-search 2026-11-23 15:20 (3)');
});

test('trial names: the values, by the last part of each key unless two clash', () => {
  assert.equal(trialName({ 'train.lr': 0.1, 'model.hidden': 8 }), 'lr=0.1 hidden=8');
  assert.equal(trialName({ 'a.size': 1, 'b.size': 2, seed: 3 }), 'a.size=1 b.size=2 seed=3');
  assert.equal(trialName({}), 'trial');
  assert.ok(trialName({ note: 'x'.repeat(200) }).length <= 80);
});

test('overrides text reads back as the same values', () => {
  const trial = { 'train.lr': 0.001, 'model.hidden': 16, opt: 'adam', name: 'two words', code: '8', flag: true, off: 'false', quote: 'say "hi"', tiny: 1e-7 };
  const text = overridesText(trial);
  assert.match(text, /^train\.lr=0\.001 model\.hidden=16 opt=adam /);
  assert.deepEqual(parseOverrides(text), trial);
});

test('store: sweep members, runs in no sweep, sweeps with counts and best metric', () => {
  let clock = 1_000;
  const store = Store.open(join(tempDir(), '.runlens'), { now: () => clock++ });
  const loose = store.runs.create({ name: 'alone', experiment: 'demo', status: 'finished' });
  const trials = [0, 1, 2, 3].map((i) => store.runs.create({
    name: `t${i}`, experiment: 'demo', status: i < 2 ? 'finished' : i === 2 ? 'running' : 'queued', tags: { [SWEEP_TAG]: 'lr 2026-01-01 10:00' },
  }));
  const other = store.runs.create({ name: 'o', experiment: 'other', status: 'finished', tags: { [SWEEP_TAG]: 'a 2026-01-02 10:00' } });
  store.metrics.append(trials[0]!.id, 'val_acc', { steps: Float64Array.of(1), times: Float64Array.of(1), values: Float64Array.of(0.7) });
  store.metrics.append(trials[1]!.id, 'val_acc', { steps: Float64Array.of(1), times: Float64Array.of(1), values: Float64Array.of(0.9) });
  const demo = store.runs.ensureExperiment('demo');

  assert.deepEqual(store.runs.list({ experimentId: demo, sweep: null }).map((r) => r.name), ['alone']);
  assert.deepEqual(store.runs.list({ sweep: 'lr 2026-01-01 10:00' }).map((r) => r.name), ['t3', 't2', 't1', 't0']);
  assert.equal(store.runs.count({ sweep: 'a 2026-01-02 10:00' }), 1);

  assert.deepEqual(store.runs.sweeps({ experimentId: demo }, { key: 'val_acc', goal: 'max' }),
    [{ id: 'lr 2026-01-01 10:00', experimentId: demo, runs: 4, running: 1, queued: 1, best: 0.9 }]);
  assert.equal(store.runs.sweeps({ experimentId: demo }, { key: 'val_acc', goal: 'min' })[0]!.best, 0.7);
  assert.deepEqual(store.runs.sweeps({ experimentId: demo, status: ['finished'] }).map((w) => [w.id, w.runs]), [['lr 2026-01-01 10:00', 2]], 'filters apply inside sweeps');
  assert.deepEqual(store.runs.sweeps().map((w) => w.id), ['a 2026-01-02 10:00', 'lr 2026-01-01 10:00'], 'newest first');
  assert.equal(store.runs.sweeps({ experimentId: store.runs.ensureExperiment('other') })[0]!.experimentId, other.experimentId);

  // a queued trial starts in place; one that is no longer queued cannot
  const queued = trials[3]!;
  const started = store.runs.begin(queued.id, {
    startedAt: 123, command: ['python3', 'train.py', '--lr', '0.1'], cwd: '/w', git: { commit: 'abc', branch: 'main', dirty: false },
    params: { 'train.lr': 0.1 }, tags: { extra: 'x' },
  });
  assert.equal(started.id, queued.id);
  assert.equal(started.status, 'running');
  assert.equal(started.startedAt, 123);
  assert.deepEqual(started.command, ['python3', 'train.py', '--lr', '0.1']);
  assert.deepEqual(started.git, { commit: 'abc', branch: 'main', dirty: false });
  assert.deepEqual(store.runs.params(queued.id), { 'train.lr': 0.1 });
  assert.equal(store.runs.tags(queued.id)[SWEEP_TAG], 'lr 2026-01-01 10:00', 'the sweep tag is kept');
  assert.throws(() => store.runs.begin(queued.id, { startedAt: 1, command: ['x'], cwd: '/' }), /no longer queued/);

  // only runs still queued are stopped
  const more = store.runs.create({ experiment: 'demo', status: 'queued' });
  assert.deepEqual(store.runs.stopQueued([more.id, queued.id, loose.id], { why: 'closed' }), [more.id]);
  const stopped = store.runs.get(more.id)!;
  assert.equal(stopped.status, 'stopped');
  assert.ok(stopped.endedAt !== null);
  assert.equal(store.runs.tags(more.id).why, 'closed');
  assert.equal(store.runs.get(queued.id)!.status, 'running');
  store.close();
});

test('launch starts a queued trial in place: same run, now running, with its command; a cancelled one is not started', () => {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  const store = Store.open(storeDir);
  const wrapper = join(import.meta.dirname, '..', '..', '..', 'media', 'run-wrapper.cjs');
  const spec = { command: process.execPath, args: ['-e', 'process.exit(0)'], shell: false, cwd: dir, env: { ...process.env } };
  const queued = store.runs.create({ name: 'lr=0.1', experiment: 'demo', status: 'queued', tags: { [SWEEP_TAG]: 's' } });
  const run = launch(store, storeDir, wrapper, { spec, queued: queued.id, params: { lr: 0.1 }, outputs: ['out'] });
  assert.equal(run.id, queued.id);
  assert.equal(run.name, 'lr=0.1');
  assert.equal(run.status, 'running');
  assert.deepEqual(run.command, [process.execPath, '-e', 'process.exit(0)']);
  assert.equal(store.runs.count(), 1, 'no second run');
  assert.ok(existsSync(runFolder(storeDir, run.uid).process), 'its process was started');

  const cancelled = store.runs.create({ experiment: 'demo', status: 'queued' });
  store.runs.stopQueued([cancelled.id]);
  assert.throws(() => launch(store, storeDir, wrapper, { spec, queued: cancelled.id }), /no longer queued/);
  assert.ok(!existsSync(runFolder(storeDir, cancelled.uid).dir), 'no process for a cancelled trial');
  store.close();
});
