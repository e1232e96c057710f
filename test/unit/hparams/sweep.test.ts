import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CurvePoint, gridSweep, medianStop, parseSweepValues, randomSweep, SweepError } from '../../../src/core/hparams/sweep.ts';

test('sweep values: lists, ranges, stepped ranges, log ranges', () => {
  assert.deepEqual(parseSweepValues('1e-3, 3e-3, 1e-2'), [0.001, 0.003, 0.01]);
  assert.deepEqual(parseSweepValues('[adam, "s,gd", \'x y\', true, False, 1_000]'), ['adam', 's,gd', 'x y', true, false, 1000]);
  assert.deepEqual(parseSweepValues('42'), [42]);
  assert.deepEqual(parseSweepValues('1..5'), [1, 2, 3, 4, 5]);
  assert.deepEqual(parseSweepValues(' -2 .. 1 '), [-2, -1, 0, 1]);
  assert.deepEqual(parseSweepValues('0.5..2'), [0.5, 1.5]);
  assert.deepEqual(parseSweepValues('0:1:0.25'), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(parseSweepValues('0:1:0.3'), [0, 0.3, 0.6, 0.9], 'stop is left out when no step lands on it');
  assert.deepEqual(parseSweepValues('0:0.3:0.1'), [0, 0.1, 0.2, 0.3], 'float noise does not lose the stop');
  assert.deepEqual(parseSweepValues('10:0:-2.5'), [10, 7.5, 5, 2.5, 0]);
  assert.deepEqual(parseSweepValues('log(1e-4, 1e-1, 4)'), [1e-4, 1e-3, 1e-2, 1e-1]);
  assert.deepEqual(parseSweepValues('LOG( 1, 100, 3 )'), [1, 10, 100]);
  assert.deepEqual(parseSweepValues('log(2, 32, 5)'), [2, 4, 8, 16, 32]);
});

test('bad sweep values say what is wrong', () => {
  const bad: [string, RegExp][] = [
    ['', /no values/],
    ['1..', /stop in "1.." must be a number/],
    ['a..b', /start in "a..b" must be a number, not "a"/],
    ['1..2..3', /a range is start\.\.stop/],
    ['5..1', /never reaches its stop: start is above stop/],
    ['0:1:0', /step of 0/],
    ['0:1:-1', /never reaches its stop/],
    ['0:1', /start:stop:step/],
    ['cuda:0', /quote a string that has a colon/],
    ['0:1e9:1', /more than 10000 values/],
    ['log(1e-4, 1e-1)', /takes 3 numbers/],
    ['log(0, 1, 3)', /above 0/],
    ['log(1, 10, 1)', /at least 2/],
    ['log(1, 10, 2.5)', /whole count/],
    ['1, , 2', /empty value/],
    ['"open, 2', /unclosed "/],
  ];
  for (const [text, message] of bad) assert.throws(() => parseSweepValues(text), (err: Error) => err instanceof SweepError && message.test(err.message), text);
});

test('grid: every combination, the first key varying slowest', () => {
  assert.deepEqual(gridSweep({ lr: [0.1, 0.01], opt: ['adam', 'sgd'], amp: [true] }), [
    { lr: 0.1, opt: 'adam', amp: true }, { lr: 0.1, opt: 'sgd', amp: true },
    { lr: 0.01, opt: 'adam', amp: true }, { lr: 0.01, opt: 'sgd', amp: true },
  ]);
  assert.throws(() => gridSweep({ lr: [] }), /"lr" has no values/);
  assert.throws(() => gridSweep({ a: parseSweepValues('1..100'), b: parseSweepValues('1..100'), c: parseSweepValues('1..2') }), /more than 10000 combinations/);
});

test('random: deterministic for a seed, within bounds, log ranges spread over decades', () => {
  const space = { lr: { min: 1e-4, max: 1e-1, log: true }, width: { min: 4, max: 8, int: true }, drop: { min: 0, max: 0.5 }, opt: ['adam', 'sgd'] };
  const a = randomSweep(space, 1000, 7);
  assert.deepEqual(randomSweep(space, 1000, 7), a);
  assert.notDeepEqual(randomSweep(space, 1000, 8), a);
  assert.deepEqual(randomSweep(space, 3, 1), [
    { lr: 0.00760714723035, width: 4, drop: 0.26372351998, opt: 'sgd' },
    { lr: 0.0803773520391, width: 5, drop: 0.306419430301, opt: 'sgd' },
    { lr: 0.00189404745642, width: 8, drop: 0.227635563584, opt: 'adam' },
  ], 'the same sequence on every platform (mulberry32)');
  for (const p of a) {
    assert.ok((p.lr as number) >= 1e-4 && (p.lr as number) <= 1e-1);
    assert.ok(Number.isInteger(p.width) && (p.width as number) >= 4 && (p.width as number) <= 8);
    assert.ok((p.drop as number) >= 0 && (p.drop as number) < 0.5);
    assert.ok(p.opt === 'adam' || p.opt === 'sgd');
  }
  const belowMilli = a.filter((p) => (p.lr as number) < 1e-3).length / a.length;
  assert.ok(belowMilli > 0.28 && belowMilli < 0.39, `a third of log-uniform samples fall in the first decade (${belowMilli})`);
  assert.deepEqual(new Set(a.map((p) => p.width)), new Set([4, 5, 6, 7, 8]));
  assert.throws(() => randomSweep(space, 0, 1), /whole number above 0/);
  assert.throws(() => randomSweep({ lr: { min: 0, max: 1, log: true } }, 1, 1), /min must be above 0/);
  assert.throws(() => randomSweep({ lr: { min: 2, max: 1 } }, 1, 1), /min ≤ max/);
});

const curve = (values: number[], from = 1): CurvePoint[] => values.map((value, i) => ({ step: from + i, value }));

test('median stopping: a member worse than the median of the others for `patience` evaluations is stopped', () => {
  const members = [
    curve([0.5, 0.6, 0.7, 0.8, 0.9]),
    curve([0.5, 0.6, 0.7, 0.8, 0.85]),
    curve([0.4, 0.5, 0.6, 0.65, 0.7]), // level with the median's running average: kept
    curve([0.1, 0.1, 0.1, 0.1, 0.1]),
  ];
  assert.deepEqual(medianStop(members, 'max', 5, 3), [3]);
  assert.deepEqual(medianStop(members.map((c) => c.map((p) => ({ step: p.step, value: 1 - p.value }))), 'min', 5, 3), [3]);
  assert.deepEqual(medianStop(members, 'max', 5, 6), [], 'not enough evaluations for that patience');
  assert.deepEqual(medianStop(members, 'max', 5, 3, { minSteps: 10 }), [], 'too early');
  assert.deepEqual(medianStop(members, 'max', 2, 2), [2, 3], 'only evaluations up to the step count: C trails early');
  assert.deepEqual(medianStop(members, 'max', 2, 3), []);
});

test('median stopping compares the best so far, needs others at the same step, and counts NaN as worst', () => {
  const good = [curve([0.5, 0.6, 0.7, 0.8]), curve([0.5, 0.6, 0.7, 0.8])];
  assert.deepEqual(medianStop([...good, curve([0.9, 0.9, 0.2, 0.2])], 'max', 4, 2), [], 'a member that once did well is kept');
  assert.deepEqual(medianStop([...good, curve([0.1, 0.1, 0.1, 0.1], 10)], 'max', 13, 2), [], 'no other member reached steps 10..13');
  assert.deepEqual(medianStop([curve([0.1, 0.1, 0.1])], 'max', 3, 1), [], 'alone');
  assert.deepEqual(medianStop([...good, curve([NaN, NaN, NaN, NaN])], 'max', 4, 2), [2]);
  assert.deepEqual(medianStop([...good, curve([0.1, 0.1, 0.1, 0.1])], 'max', 4, 0), [], 'patience 0 stops nothing');
});
