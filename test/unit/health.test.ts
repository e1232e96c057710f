import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Columns } from '../../src/core/store/chunks.ts';
import { Store } from '../../src/core/store/store.ts';
import { type Alert, type RunHealth, checkStall, evaluate, newRunHealth, noteActivity, stallAfter } from '../../src/core/health/evaluate.ts';
import { HealthMonitor } from '../../src/core/health/healthMonitor.ts';
import { type HealthRules, isLossName, parseAlerts, resolveRules } from '../../src/core/health/rules.ts';
import { parseRunConfig } from '../../src/core/config/runConfig.ts';
import { series, tempDir } from './helpers.ts';

const T0 = 1_700_000_000_000;
const cols = (steps: number[], values: number[], dt = 1000): Columns => ({
  steps: Float64Array.from(steps), times: Float64Array.from(steps, (s) => T0 + s * dt), values: Float64Array.from(values),
});
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
/** Feeds `c` in pieces cut at `cuts` (indexes), as ingest commits would. */
function feed(state: RunHealth, rules: HealthRules, key: string, c: Columns, cuts: number[] = []): Alert[] {
  const out: Alert[] = [];
  const bounds = [0, ...cuts, c.values.length];
  for (let i = 0; i + 1 < bounds.length; i++) out.push(...evaluate(state, rules, key, c, { from: bounds[i], to: bounds[i + 1] }));
  return out;
}
const roundTrip = (s: RunHealth): RunHealth => JSON.parse(JSON.stringify(s)) as RunHealth;

// ---------------------------------------------------------------- NaN and infinities

test('a NaN raises one alert at its step, also when it is the first or last point of a commit', () => {
  const rules = resolveRules(undefined);
  for (const cut of [0, 5, 6, 11]) {
    const values = range(0, 12).map((s) => (s === 5 ? NaN : 1 / (s + 1)));
    const alerts = feed(newRunHealth(), rules, 'loss', cols(range(0, 12), values), cut ? [cut] : []);
    assert.equal(alerts.length, 1, `cut at ${cut}`);
    assert.deepEqual({ rule: alerts[0]!.rule, key: alerts[0]!.key, step: alerts[0]!.step, time: alerts[0]!.time, severity: alerts[0]!.severity },
      { rule: 'nan', key: 'loss', step: 5, time: T0 + 5000, severity: 'error' });
    assert.equal(alerts[0]!.message, 'loss is NaN at step 5');
  }
});

test('±Inf counts; later NaNs of the same key stay quiet; another key has its own alert', () => {
  const rules = resolveRules(undefined);
  const s = newRunHealth();
  const a = evaluate(s, rules, 'grad_norm', cols([1, 2, 3], [1, Infinity, NaN]));
  assert.deepEqual(a.map((x) => [x.step, x.message]), [[2, 'grad_norm is +Inf at step 2']]);
  assert.deepEqual(evaluate(s, rules, 'grad_norm', cols([4], [-Infinity])), []);
  assert.deepEqual(evaluate(s, rules, 'acc', cols([4], [-Infinity])).map((x) => x.message), ['acc is -Inf at step 4']);
  assert.deepEqual(evaluate(newRunHealth(), resolveRules(undefined, { nan: { enabled: false } }), 'x', cols([1], [NaN])), [], 'off');
});

// ---------------------------------------------------------------- divergence

const noSmoothing = (over: object = {}) => resolveRules(undefined, { divergence: { smoothing: 0, ...over } });

test('divergence: a loss above factor × its best after the warm-up, once', () => {
  const rules = noSmoothing({ factor: 3, warmup: 10 });
  // best after warm-up is 1 (step 12); 3.5 at step 20 is above 3 × 1
  const values = range(0, 30).map((s) => (s < 12 ? 2 : s < 20 ? 1 : s === 20 ? 3.5 : 5));
  const alerts = feed(newRunHealth(), rules, 'loss', cols(range(0, 30), values), [20]);
  assert.deepEqual(alerts.map((a) => [a.rule, a.step, a.value]), [['divergence', 20, 3.5]]);
  assert.equal(alerts[0]!.message, 'loss rose to 3.5 at step 20, above 3 × its best 1');
});

test('divergence: nothing before the warm-up, and exactly factor × best is not above it', () => {
  const rules = noSmoothing({ factor: 3, warmup: 100 });
  const spike = range(0, 100).map((s) => (s === 50 ? 1000 : 1));
  assert.deepEqual(feed(newRunHealth(), rules, 'loss', cols(range(0, 100), spike)), [], 'a spike during the warm-up');
  const after = range(0, 120).map((s) => (s >= 110 ? 3 : 1));
  assert.deepEqual(feed(newRunHealth(), rules, 'loss', cols(range(0, 120), after)), [], '3 is not above 3 × 1');
});

test('divergence watches losses by name and a primary metric to minimise; not accuracies, not negative losses', () => {
  assert.ok(isLossName('loss') && isLossName('train_loss') && isLossName('val/loss') && isLossName('train.loss'));
  assert.ok(!isLossName('lossy') && !isLossName('val_acc') && !isLossName('closs'));
  const up = cols(range(0, 40), range(0, 40).map((s) => (s < 20 ? 1 : 10)));
  const rules = resolveRules({ name: 'val_err', goal: 'min' }, { divergence: { smoothing: 0 } });
  assert.equal(evaluate(newRunHealth(), rules, 'val_err', up).length, 1, 'the primary metric, goal min');
  assert.equal(evaluate(newRunHealth(), rules, 'acc', up).length, 0);
  const negative = cols(range(0, 40), range(0, 40).map((s) => (s < 20 ? -2 : 5)));
  assert.equal(evaluate(newRunHealth(), rules, 'nll_loss', negative).length, 0, 'a best at or below 0 has no ratio');
  const named = resolveRules(undefined, { divergence: { smoothing: 0, metrics: ['acc'] } });
  assert.equal(evaluate(newRunHealth(), named, 'acc', up).length, 1, 'metrics: names the keys');
  assert.equal(evaluate(newRunHealth(), named, 'loss', up).length, 0);
});

test('divergence smoothing: one noisy batch does not alert; a sustained rise does', () => {
  const rules = resolveRules(undefined, { divergence: { smoothing: 0.9, factor: 3, warmup: 0 } });
  const oneSpike = range(0, 200).map((s) => (s === 150 ? 4 : 1));
  assert.deepEqual(feed(newRunHealth(), rules, 'loss', cols(range(0, 200), oneSpike)), []);
  const rise = range(0, 200).map((s) => (s < 100 ? 1 : 10));
  const alerts = feed(newRunHealth(), rules, 'loss', cols(range(0, 200), rise));
  assert.equal(alerts.length, 1);
  assert.ok(alerts[0]!.step! > 100 && alerts[0]!.step! < 110, `alerted at ${alerts[0]!.step}`);
});

// ---------------------------------------------------------------- plateau

test('plateau: the primary metric flat for `steps` steps, once, again after it improves', () => {
  const rules = resolveRules({ name: 'val_acc', goal: 'max' }, { plateau: { steps: 100, points: 3 } });
  // improves to 0.9 at step 50, flat until 200, improves at 200, flat again
  const steps = range(0, 400).filter((s) => s % 10 === 0);
  const values = steps.map((s) => (s <= 50 ? s / 100 + 0.4 : s < 200 ? 0.9 : 0.95));
  const alerts = feed(newRunHealth(), rules, 'val_acc', cols(steps, values), [7, 20]);
  assert.deepEqual(alerts.map((a) => [a.rule, a.step]), [['plateau', 150], ['plateau', 300]]);
  assert.equal(alerts[0]!.message, 'val_acc has not improved in 100 steps (best 0.9 at step 50)');
  assert.equal(alerts[0]!.severity, 'info');
});

test('plateau: improvements within epsilon do not count, and a goal of min is read from the primary metric', () => {
  const rules = resolveRules({ name: 'val_loss', goal: 'min' }, { plateau: { steps: 50, epsilon: 0.01, points: 1 } });
  const steps = range(0, 100);
  const values = steps.map((s) => 1 - s * 0.0001); // improves by 0.0001 a step: under epsilon for 100 steps
  const alerts = evaluate(newRunHealth(), rules, 'val_loss', cols(steps, values));
  assert.deepEqual(alerts.map((a) => [a.rule, a.step]), [['plateau', 50]]);
  assert.match(alerts[0]!.message, /by more than 0\.01 in 50 steps \(best 1 at step 0\)/);
  assert.deepEqual(evaluate(newRunHealth(), resolveRules(undefined), 'val_loss', cols(steps, values.map(() => 1))), [], 'no primary metric: no plateau');
});

// ---------------------------------------------------------------- a run resumed after a reload

test('the state is plain JSON: evaluating in pieces with a round trip between gives the same alerts as one pass', () => {
  const rules = resolveRules({ name: 'loss', goal: 'min' }, { plateau: { steps: 300, points: 5 } });
  const n = 2000;
  const c = series(0, n, (s) => (s === 1234 ? NaN : s < 900 ? 2 / (1 + s / 50) : s < 1500 ? 0.1 : 0.1 + (s - 1500) / 40));
  const once = evaluate(newRunHealth(), rules, 'loss', c);
  let state = newRunHealth();
  const pieces: Alert[] = [];
  for (const [from, to] of [[0, 333], [333, 1234], [1234, 1235], [1235, n]] as const) {
    pieces.push(...evaluate(state, rules, 'loss', c, { from, to }));
    state = roundTrip(state);
  }
  assert.deepEqual(pieces, once);
  assert.deepEqual(once.map((a) => a.rule).sort(), ['divergence', 'nan', 'plateau']);
  assert.ok(JSON.stringify(state).length < 600, `state ${JSON.stringify(state).length} bytes`);
});

// ---------------------------------------------------------------- stall

test('stall: silent beyond factor × the usual interval (with a floor), not while paused, not after it ended', () => {
  const rules = resolveRules(undefined, { stall: { factor: 10, floor: 60 } });
  const s = newRunHealth();
  evaluate(s, rules, 'loss', cols(range(0, 100), range(0, 100).map(() => 1), 20_000)); // a point every 20 s
  const last = T0 + 99 * 20_000;
  assert.equal(stallAfter(s.run, rules), 10 * 32_768, 'gaps of 20 s fall in the 16.4–32.8 s bucket');
  assert.deepEqual(checkStall(s.run, rules, last + 300_000, { alive: true }), [], '5 min is within 10 × the usual gap');
  assert.deepEqual(checkStall(s.run, rules, last + 400_000, { alive: false }), [], 'a process that ended is not stalled');
  assert.deepEqual(checkStall(s.run, rules, last + 400_000, { alive: true, paused: true }), [], 'at a breakpoint');
  assert.deepEqual(checkStall(s.run, rules, last + 400_000 + 300_000, { alive: true }), [], 'the pause restarted the clock');
  const raised = checkStall(s.run, rules, last + 400_000 + 400_000, { alive: true });
  assert.deepEqual(raised.map((a) => [a.rule, a.key, a.severity, a.value]), [['stall', null, 'warning', 400]]);
  assert.equal(raised[0]!.message, 'no new points or output for 6m 40s (usually within 32.8s)');
  assert.deepEqual(checkStall(s.run, rules, last + 2_000_000, { alive: true }), [], 'once per silence');
  noteActivity(s.run, last + 2_000_000); // output: it goes on
  assert.equal(checkStall(s.run, rules, last + 2_000_000 + 400_000, { alive: true }).length, 1, 'a new silence');
});

test('stall: the floor holds for a chatty run, and a run with no history waits 3 × the floor', () => {
  const rules = resolveRules(undefined, { stall: { factor: 10, floor: 120 } });
  const s = newRunHealth();
  evaluate(s, rules, 'loss', cols(range(0, 50), range(0, 50).map(() => 1), 100)); // every 0.1 s
  assert.equal(stallAfter(s.run, rules), 120_000);
  const fresh = newRunHealth();
  assert.equal(stallAfter(fresh.run, rules), 360_000);
  assert.deepEqual(checkStall(fresh.run, rules, T0 + 300_000, { alive: true, since: T0 }), []);
  assert.equal(checkStall(fresh.run, rules, T0 + 400_000, { alive: true, since: T0 }).length, 1, 'nothing since it started');
});

// ---------------------------------------------------------------- slow

test('slow: time per step far above the median of the experiment, once', () => {
  const rules = resolveRules(undefined, { slow: { factor: 3, runs: 3, warmup: 10 } });
  const s = newRunHealth();
  const c = cols(range(0, 100), range(0, 100).map(() => 1), 2000); // 2 s a step
  assert.deepEqual(evaluate(s, rules, 'loss', c, { experimentPace: { median: 500, runs: 2 } }), [], 'too few other runs');
  assert.equal(s.run.pace, 2000);
  const alerts = evaluate(s, rules, 'loss', cols([100], [1], 2000), { experimentPace: { median: 500, runs: 5 } });
  assert.deepEqual(alerts.map((a) => [a.rule, a.value]), [['slow', 2]]);
  assert.equal(alerts[0]!.message, '2s per step, 4× the median of 5 other runs of the experiment (500ms)');
  assert.deepEqual(evaluate(s, rules, 'loss', cols([101], [1], 2000), { experimentPace: { median: 500, runs: 5 } }), []);
  const ok = newRunHealth();
  assert.deepEqual(evaluate(ok, rules, 'loss', c, { experimentPace: { median: 1000, runs: 5 } }), [], '2× is not far');
});

// ---------------------------------------------------------------- with the store

test('HealthMonitor: alerts and state commit with the points; a rollback undoes both; a reopened store goes on', () => {
  const dir = join(tempDir(), '.runlens');
  let store = Store.open(dir);
  const rules = resolveRules({ name: 'val_acc', goal: 'max' }, { plateau: { steps: 100, points: 3 } });
  const run = store.runs.create({ name: 'r', experiment: 'e' });
  const append = (s: Store, m: HealthMonitor, batch: [string, Columns][]) => s.transaction(() => {
    s.metrics.appendMany(run.id, batch);
    return m.ingest(batch);
  });
  let monitor = new HealthMonitor(store, run, rules);
  assert.deepEqual(append(store, monitor, [['loss', series(0, 50, () => 1)], ['val_acc', series(0, 60, (s) => Math.min(s, 40) / 100)]]), []);
  // A commit that fails: neither its alert nor its state is kept.
  assert.throws(() => store.transaction(() => {
    store.metrics.appendMany(run.id, [['loss', series(50, 1, () => NaN)]]);
    assert.equal(monitor.ingest([['loss', series(50, 1, () => NaN)]]).length, 1);
    throw new Error('disk full');
  }), /disk full/);
  assert.deepEqual(store.alerts.list(run.id), []);
  // Again, for real; then the window reloads.
  const nan = append(store, monitor, [['loss', series(50, 1, () => NaN)]]);
  assert.deepEqual(nan.map((a) => [a.rule, a.key, a.step, a.runId]), [['nan', 'loss', 50, run.id]]);
  store.close();
  store = Store.open(dir);
  monitor = new HealthMonitor(store, run, rules);
  assert.deepEqual(append(store, monitor, [['loss', series(51, 1, () => NaN)]]), [], 'the NaN was raised before the reload');
  // The plateau began before the reload (best 0.4 at step 40): step 140 is 100 steps on.
  const flat = append(store, monitor, [['val_acc', series(60, 90, () => 0.4)]]);
  assert.deepEqual(flat.map((a) => [a.rule, a.step]), [['plateau', 140]]);
  assert.deepEqual(store.alerts.list(run.id).map((a) => a.rule), ['nan', 'plateau']);
  assert.deepEqual(store.alerts.since(nan[0]!.id).map((a) => a.rule), ['plateau']);
  const summary = store.alerts.summaries([run.id]).get(run.id)!;
  assert.deepEqual([summary.count, summary.severity, summary.latest.rule], [2, 'error', 'plateau']);
  // A stall checked by another instance (the window's timer) while the worker ingests.
  const timer = new HealthMonitor(store, run, rules);
  const last = T0 + 149_000;
  assert.deepEqual(timer.check({ alive: true }, last + 60_000), []);
  assert.equal(timer.check({ alive: true }, last + 3_600_000).length, 1);
  assert.equal(timer.check({ alive: true }, last + 7_200_000).length, 0);
  store.runs.delete(run.id);
  assert.deepEqual(store.alerts.list(run.id), [], 'deleted with the run');
  store.close();
});

test('the experiment median pace comes from the other runs\' stored state', () => {
  const store = Store.open(join(tempDir(), '.runlens'));
  const rules = resolveRules(undefined, { slow: { runs: 3, factor: 3 } });
  const ingest = (runId: number, experimentId: number, msPerStep: number) => {
    const m = new HealthMonitor(store, { id: runId, experimentId }, rules);
    const batch: [string, Columns][] = [['loss', cols(range(0, 100), range(0, 100).map(() => 1), msPerStep)]];
    return store.transaction(() => { store.metrics.appendMany(runId, batch); return m.ingest(batch); });
  };
  const runs = [400, 500, 600, 5000].map(() => store.runs.create({ experiment: 'e' }));
  const other = store.runs.create({ experiment: 'other' });
  ingest(other.id, other.experimentId, 10);
  for (const [i, pace] of [400, 500, 600].entries()) assert.deepEqual(ingest(runs[i]!.id, runs[i]!.experimentId, pace), []);
  assert.deepEqual(store.alerts.medianPace(runs[0]!.experimentId, runs[3]!.id), { median: 500, runs: 3 });
  const slow = ingest(runs[3]!.id, runs[3]!.experimentId, 5000);
  assert.deepEqual(slow.map((a) => a.rule), ['slow']);
  store.close();
});

// ---------------------------------------------------------------- runlens.yaml

test('alerts: settings are read and checked; per run configuration over the project', () => {
  const { alerts, problems } = parseAlerts({ nan: false, divergence: { factor: 5, warmup: 200, metrics: 'train_loss' }, stall: true, plateau: { steps: -1 }, slow: { speed: 2 }, oops: 1 });
  assert.deepEqual(alerts, { nan: { enabled: false }, divergence: { enabled: true, factor: 5, warmup: 200, metrics: ['train_loss'] }, stall: { enabled: true }, plateau: { enabled: true }, slow: { enabled: true } });
  assert.deepEqual(problems.map((p) => [p.path.join('.'), p.message]), [
    ['plateau.steps', 'plateau: `steps` must be a whole number, 0 or more'],
    ['slow.speed', 'slow: unknown setting `speed`; expected one of enabled, factor, runs, warmup'],
    ['oops', 'unknown rule `oops`; expected one of nan, divergence, plateau, stall, slow'],
  ]);
  assert.deepEqual(parseAlerts({ divergence: { factor: 1 } }).problems.map((p) => p.message), ['divergence: `factor` must be above 1']);
  assert.ok(Object.values(parseAlerts(false).alerts).every((r) => r.enabled === false), 'alerts: false turns every rule off');

  const text = [
    'primary_metric: { name: val_acc, goal: max }',
    'alerts:',
    '  stall: { floor: 600 }',
    '  plateau: { steps: nine }',
    'runs:',
    '  train:',
    '    command: [python, train.py]',
    '    alerts: { stall: false, divergence: { warmup: 50 }, plateau: { eps: 1 } }',
  ].join('\n');
  const { config, problems: yamlProblems } = parseRunConfig(text);
  assert.deepEqual(yamlProblems.map((p) => [p.line, p.message]), [
    [3, 'alerts: plateau: `steps` must be a whole number, 0 or more'],
    [7, 'run "train": alerts: plateau: unknown setting `eps`; expected one of enabled, steps, points, epsilon, metric, goal'],
  ]);
  const rules = resolveRules(config.primaryMetric, config.alerts, config.runs[0]!.alerts);
  assert.equal(rules.stall.enabled, false, 'the run configuration turns stall off');
  assert.equal(rules.stall.floor, 600, 'from the project');
  assert.equal(rules.divergence.warmup, 50);
  assert.equal(rules.divergence.factor, 3, 'default');
  assert.deepEqual([rules.plateau.metric, rules.plateau.goal], ['val_acc', 'max']);
});
