import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ago, bytes, dateTime, duration, metricValue, shortSha, middleEllipsis } from '../../src/core/format.ts';
import { formatX, formatXTick } from '../../webview/compare/format.ts';

test('metric values: 4 significant digits, integers in full, exponents below 1e-4 and from 1e6', () => {
  const cases: [number | null | undefined, string][] = [
    [0.123456, '0.1235'], [-0.5, '-0.5'], [0, '0'], [123456, '123456'], [1234.5678, '1235'],
    [0.0005, '0.0005'], [0.0001, '0.0001'], [0.0000123456, '1.235e-5'], [2e6, '2e6'], [-1.5e7, '-1.5e7'],
    [NaN, 'NaN'], [Infinity, '+Inf'], [-Infinity, '-Inf'], [null, ''], [undefined, ''],
  ];
  for (const [v, text] of cases) assert.equal(metricValue(v), text, String(v));
  assert.equal(metricValue(0.123456, { digits: 5 }), '0.12346');
  assert.equal(metricValue(null, { missing: '—' }), '—');
});

test('durations: ms, then seconds with decimals, then two units with a space', () => {
  const cases: [number | null, string][] = [
    [850, '850ms'], [5250, '5.25s'], [12_500, '12.5s'], [64_000, '1m 04s'], [60_000, '1m 00s'],
    [3_900_000, '1h 05m'], [27 * 3_600_000, '1d 03h'], [-90_000, '−1m 30s'], [NaN, ''], [null, ''],
  ];
  for (const [ms, text] of cases) assert.equal(duration(ms), text, String(ms));
});

test('relative times go through Intl in the user\'s language, with the same cut-offs as before', () => {
  const now = 1_700_000_000_000;
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
  assert.equal(ago(now - 44_000, now), rtf.format(0, 'second'));
  assert.equal(ago(now - 5 * 60_000, now), rtf.format(-5, 'minute'));
  assert.equal(ago(now - 90 * 60_000, now), rtf.format(-2, 'hour'));
  assert.equal(ago(now - 4 * 86_400_000, now), rtf.format(-4, 'day'));
  assert.equal(ago(now - 40 * 86_400_000, now), new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(now - 40 * 86_400_000));
});

test('dates and times go through Intl with the time zone; the chart tooltip uses the same', () => {
  const t = 1_700_000_000_000;
  assert.equal(dateTime(t), new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' }).format(t));
  assert.equal(dateTime(NaN), '');
  assert.equal(formatX('time', t), dateTime(t));
  assert.equal(formatX('relative', 64_000), '+1m 04s');
  assert.equal(formatXTick('relative', 1500, 2000), '1.5s');
});

test('short hashes: 12 hex digits, without an algo: prefix', () => {
  assert.equal(shortSha('0123456789abcdef0123456789abcdef01234567'), '0123456789ab');
  assert.equal(shortSha('sha256:9f2c4e1a7b3d5f60c1e2'), '9f2c4e1a7b3d');
  assert.equal(shortSha('abc'), 'abc');
  assert.equal(bytes(1536), '1.5 KB');
});

test('long names are cut in the middle, keeping both ends', () => {
  assert.equal(middleEllipsis('short-run', 28), 'short-run');
  const long = 'train-lr0.001-hidden64-dropout0.1-seed7';
  const cut = middleEllipsis(long, 28);
  assert.equal([...cut].length, 28);
  assert.ok(cut.startsWith('train-lr0.001') && cut.endsWith('seed7') && cut.includes('…'), cut);
  assert.equal([...middleEllipsis('😀'.repeat(40), 10)].length, 10, 'code points, not UTF-16 units');
});
