import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clampWeight, ema, emaAppend, emaStart } from '../../webview/compare/smoothing.ts';

const close = (a: number | null, b: number | null, eps = 1e-12) => {
  if (a === null || b === null) return assert.equal(a, b);
  assert.ok(Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);
};

test('weight 0 is the identity (non-finite values still become gaps)', () => {
  assert.deepEqual(ema([1, 5, -2, 3.5], 0), [1, 5, -2, 3.5]);
  assert.deepEqual(ema([1, null, NaN, Infinity, 2], 0), [1, null, null, null, 2]);
});

test('debiasing: the first smoothed value is the first value, not (1-w) of it', () => {
  const s = ema([10, 10, 10, 10], 0.9);
  for (const v of s) close(v, 10);
  const [a, b] = ema([2, 4], 0.5);
  close(a, 2);
  // acc = 0.5*1 + 0.5*4 = 2.5 after two values; debias 1 - 0.25 = 0.75
  close(b, 2.5 / 0.75);
});

test('matches the TensorBoard formula step by step', () => {
  const values = [0.9, 0.7, 0.8, 0.4, 0.5, 0.3];
  const w = 0.6;
  let acc = 0;
  const expected = values.map((v, i) => {
    acc = acc * w + (1 - w) * v;
    return acc / (1 - w ** (i + 1));
  });
  ema(values, w).forEach((v, i) => close(v, expected[i]!));
});

test('nulls are skipped: they stay gaps and do not count towards the debiasing', () => {
  const withGaps = ema([3, null, 5, NaN, 7], 0.8);
  const without = ema([3, 5, 7], 0.8);
  assert.equal(withGaps[1], null);
  assert.equal(withGaps[3], null);
  close(withGaps[0]!, without[0]!);
  close(withGaps[2]!, without[1]!);
  close(withGaps[4]!, without[2]!);
  assert.deepEqual(ema([null, null], 0.9), [null, null]);
});

test('incremental append gives the same result as a full recompute', () => {
  const values: (number | null)[] = [];
  for (let i = 0; i < 1000; i++) values.push(i % 97 === 0 ? null : Math.sin(i / 10) + i / 100);
  const full = ema(values, 0.95);
  const state = emaStart();
  const out: (number | null)[] = [];
  for (const cut of [1, 2, 10, 333, 334, 900, 1000]) {
    emaAppend(values.slice(0, cut), 0.95, state, out, out.length);
  }
  assert.equal(out.length, full.length);
  out.forEach((v, i) => close(v, full[i]!));
});

test('the weight is clamped to [0, 0.999]', () => {
  assert.equal(clampWeight(-1), 0);
  assert.equal(clampWeight(NaN), 0);
  assert.equal(clampWeight(0.5), 0.5);
  assert.equal(clampWeight(1), 0.999);
  for (const v of ema([1, 2, 3], 1)) assert.ok(v !== null && Number.isFinite(v));
});
