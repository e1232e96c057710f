import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { XAxis } from '../../../src/core/compare/protocol.ts';
import { logTickLabelled, MAX_X_TICKS, xTicks, xTickTarget, yTickLimit } from '../../../webview/compare/ticks.ts';

const AXES: XAxis[] = ['step', 'time', 'relative'];

/** A seeded random number in [0, 1). */
function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

test('about one x tick per 90 px, 2 to 8', () => {
  assert.equal(xTickTarget(0), 4, 'unknown width: as if 400 px');
  assert.equal(xTickTarget(100), 2);
  assert.equal(xTickTarget(450), 5);
  assert.equal(xTickTarget(5000), MAX_X_TICKS);
});

test('x ticks never exceed the target plus one, and stay inside the range, on every axis', () => {
  const r = rng(7);
  for (let i = 0; i < 3000; i++) {
    const axis = AXES[i % 3]!;
    const scale = axis === 'step' ? 10 ** (r() * 7) : 10 ** (2 + r() * 9);
    const min = axis === 'time' ? 1.7e12 + r() * 1e10 : r() * scale;
    const max = min + r() * scale + 1e-9;
    const width = r() * 1600;
    const ticks = xTicks(axis, min, max, width);
    assert.ok(ticks.length <= xTickTarget(width) + 1, `${axis} ${min}..${max} at ${width}px: ${ticks.length} ticks`);
    assert.ok(ticks.length <= MAX_X_TICKS + 1);
    for (const t of ticks) assert.ok(t >= min - 1e-6 * scale && t <= max + 1e-6 * scale, `${t} outside ${min}..${max}`);
    for (let j = 1; j < ticks.length; j++) assert.ok(ticks[j]! > ticks[j - 1]!);
  }
});

test('step ticks are whole numbers at round intervals', () => {
  assert.deepEqual(xTicks('step', 0, 10_000, 720), [0, 2000, 4000, 6000, 8000, 10_000]);
  assert.deepEqual(xTicks('step', 0, 3, 720), [0, 1, 2, 3]);
  for (const t of xTicks('step', 3, 977, 900)) assert.ok(Number.isInteger(t));
});

test('relative ticks fall on round durations, time ticks on round local clock times', (t) => {
  const MIN = 60_000;
  assert.deepEqual(xTicks('relative', 0, 60 * MIN, 450), [0, 15 * MIN, 30 * MIN, 45 * MIN, 60 * MIN]);
  // A zone 5:45 off UTC, so local and UTC round hours differ.
  const tz = process.env.TZ;
  process.env.TZ = 'Asia/Kathmandu';
  t.after(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });
  const start = new Date(2026, 2, 1, 9, 7, 13).getTime();
  const ticks = xTicks('time', start, start + 6 * 3_600_000, 450);
  assert.ok(ticks.length >= 2);
  for (const v of ticks) {
    const d = new Date(v);
    assert.equal(d.getMinutes(), 0, d.toString());
    assert.equal(d.getHours() % 2, 0, d.toString());
  }
});

test('a log axis labels every power of ten, and 2× and 5× it, nothing else', () => {
  for (let e = -12; e <= 12; e++) {
    for (const m of [1, 2, 5]) {
      // As written, and as chart.js computes a tick (rounded at the exponent's precision).
      const p = e >= 0 ? 1 : 10 ** -e;
      for (const v of [Number(`${m}e${e}`), Math.round(m * 10 ** e * p) / p]) assert.ok(logTickLabelled(v), `${v} should be labelled`);
    }
    for (const m of [3, 4, 6, 7, 8, 9, 1.5]) assert.equal(logTickLabelled(Number(`${m}e${e}`)), false, `${m}e${e}`);
  }
});

test('a log y axis allows all its gridlines, a linear one 7 ticks', () => {
  assert.equal(yTickLimit(false), 7);
  assert.ok(yTickLimit(true) >= 27, 'three decades of 1..9 gridlines');
});

test('y tick labels along a narrow axis never read the same (10.55 and 10.6, not 10.6 twice)', async () => {
  const { formatTick } = await import('../../../webview/compare/format.ts');
  const ticks = [10.5, 10.55, 10.6, 10.65, 10.7];
  const labels = ticks.map((v) => formatTick(v, 10.7, 0.05));
  assert.deepEqual(labels, ['10.5', '10.55', '10.6', '10.65', '10.7']);
  assert.equal(new Set(ticks.map((v) => formatTick(v, 10.7))).size < ticks.length, true, 'without the step they would clash');
  assert.deepEqual([0, 2.5, 5].map((v) => formatTick(v, 5, 2.5)), ['0', '2.5', '5']);
  assert.equal(formatTick(12_000, 20_000, 2_000), '12k');
  assert.equal(formatTick(0.003, 0.005, 0.001), '3e-3');
});
