import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LEGEND_CAP, pngLayout, type PngInput } from '../../../webview/compare/pngLayout.ts';

/** 7 px per character at dpr 1, whatever the font. */
function input(over: Partial<PngInput> = {}, dpr = over.dpr ?? 1): PngInput {
  return {
    title: 'val_loss',
    chartWidth: 600 * dpr,
    chartHeight: 300 * dpr,
    dpr,
    fontSize: 12,
    fontFamily: 'sans-serif',
    runs: Array.from({ length: 12 }, (_, i) => ({ name: `run-${i + 1}`, color: `#00000${i % 10}` })),
    measure: (text) => text.length * 7 * dpr,
    ...over,
  };
}

test('title on top, chart under it, legend under the chart, all inside the image', () => {
  const L = pngLayout(input());
  assert.equal(L.title.text, 'val_loss');
  assert.equal(L.title.font, '600 13px sans-serif');
  assert.ok(L.title.y < L.chart.y);
  assert.equal(L.chart.x, 12);
  assert.equal(L.width, 600 + 2 * 12);
  const chartBottom = L.chart.y + 300;
  assert.equal(L.legend.length, 12);
  for (const e of L.legend) {
    assert.ok(e.swatch);
    assert.ok(e.swatch.y > chartBottom, `${e.text} swatch at ${e.swatch.y}, chart ends at ${chartBottom}`);
    assert.ok(e.y > chartBottom && e.y < L.height - 12, `${e.text} at ${e.y}`);
    assert.ok(e.x > e.swatch.x + e.swatch.w, 'the name right of its colour');
    assert.ok(e.x + 7 * e.text.length <= L.width, 'inside the image');
  }
  assert.equal(L.legend[0]!.swatch!.color, '#000000');
});

test('the legend wraps to the chart width in rows, left to right', () => {
  const L = pngLayout(input());
  const rows = [...new Set(L.legend.map((e) => e.y))];
  assert.ok(rows.length >= 2, 'twelve names do not fit on one 600 px row');
  for (const y of rows) {
    const row = L.legend.filter((e) => e.y === y);
    assert.equal(row[0]!.swatch!.x, 12, 'each row starts at the left padding');
    for (let i = 1; i < row.length; i++) assert.ok(row[i]!.swatch!.x > row[i - 1]!.x + 7 * row[i - 1]!.text.length);
    const last = row.at(-1)!;
    assert.ok(last.x + 7 * last.text.length <= 12 + 600);
  }
  for (let i = 1; i < rows.length; i++) assert.equal(rows[i]! - rows[i - 1]!, 18, 'one line height apart (1.5 × 12 px)');
  assert.equal(L.height, 12 + 24 + 300 + 6 + rows.length * 18 + 12);
});

test('no runs: no legend, and no room kept for one', () => {
  const L = pngLayout(input({ runs: [] }));
  assert.deepEqual(L.legend, []);
  assert.equal(L.height, 12 + 24 + 300 + 12);
});

test(`more than ${LEGEND_CAP} runs: the first ${LEGEND_CAP}, then one "… and N more" line below them`, () => {
  const runs = Array.from({ length: 45 }, (_, i) => ({ name: `r${i}`, color: '#123456' }));
  const L = pngLayout(input({ runs }));
  assert.equal(L.legend.length, LEGEND_CAP + 1);
  const more = L.legend.at(-1)!;
  assert.equal(more.text, '… and 5 more');
  assert.equal(more.swatch, null);
  assert.equal(more.x, 12);
  assert.ok(more.y > Math.max(...L.legend.slice(0, -1).map((e) => e.y)));
});

test('everything scales with the device pixel ratio', () => {
  const one = pngLayout(input({}, 1));
  const two = pngLayout(input({}, 2));
  assert.equal(two.title.font, '600 26px sans-serif');
  assert.equal(two.legendFont, '20px sans-serif');
  assert.equal(one.legendFont, '10px sans-serif');
  const numbers = (L: typeof one) => JSON.stringify(L, (k, v) => (typeof v === 'number' ? v : k.endsWith('font') || k === 'legendFont' ? undefined : v));
  const doubled = JSON.parse(numbers(one), (_k, v) => (typeof v === 'number' ? v * 2 : v));
  assert.deepEqual(JSON.parse(numbers(two)), doubled);
});

test('a missing device pixel ratio counts as 1', () => {
  assert.deepEqual(pngLayout(input({ dpr: 0 }, 1)), pngLayout(input({ dpr: 1 }, 1)));
});
