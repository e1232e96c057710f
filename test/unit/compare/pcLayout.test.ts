import assert from 'node:assert/strict';
import { test } from 'node:test';
import { axisLabels, intersects, LABEL_GAP, labelReserve, parallelNote, type PcPlot } from '../../../webview/compare/pcLayout.ts';

const measure = (s: string) => s.length * 6;
const LH = 13;

test('the note agrees in number: 1 param that differs, 2 params that differ', () => {
  assert.match(parallelNote(1, null), /^1 param that differs\. /);
  assert.match(parallelNote(2, 'val_loss (best, min)'), /^2 params that differ, then val_loss \(best, min\)\. /);
  assert.match(parallelNote(0, null), /^0 params that differ\. /);
});

test('end labels sit outside the plot, inside the reserved space; inner labels are boxed', () => {
  const plot: PcPlot = { left: 40, right: 900, top: 60, bottom: 360 };
  const whole = { x: plot.left, y: plot.top, w: plot.right - plot.left, h: plot.bottom - plot.top };
  const axes: [string, number][][] = [
    [['0.003', 1], ['0.0001', 0], ['0.001', 0.6]],
    [['adam', 0], ['adamw', 0.5], ['sgd', 1]],
    [['0.02', 0.5]],
    [['a', 0], ['b', 1]],
  ];
  for (let k = 0; k < axes.length; k++) {
    const x = plot.left + (k * (plot.right - plot.left)) / (axes.length - 1);
    const labels = axisLabels(axes[k]!, x, plot, measure, LH, k === 0, k === axes.length - 1);
    for (const l of labels) {
      const end = l.text !== '0.001' && l.text !== 'adamw' && l.text !== '0.02';
      assert.equal(l.boxed, !end, l.text);
      if (end) {
        assert.ok(!intersects(l.box, whole), `${l.text} overlaps the plot`);
        const gap = Math.max(plot.top - (l.box.y + l.box.h), l.box.y - plot.bottom);
        assert.ok(gap >= LABEL_GAP, `${l.text} is ${gap}px from the plot`);
        assert.ok(l.box.y >= plot.top - labelReserve(LH) && l.box.y + l.box.h <= plot.bottom + labelReserve(LH), `${l.text} outside the reserve`);
      }
    }
  }
});

test('end labels of the first and last axes stay inside the plot\'s width', () => {
  const plot: PcPlot = { left: 40, right: 900, top: 60, bottom: 360 };
  const [a] = axisLabels([['0.527', 1]], plot.left, plot, measure, LH, true, false);
  const [b] = axisLabels([['0.2305', 0]], plot.right, plot, measure, LH, false, true);
  assert.ok(a!.box.x >= plot.left - 2 && b!.box.x + b!.box.w <= plot.right + 2);
});

test('many categories are thinned so boxed labels do not overlap each other', () => {
  const plot: PcPlot = { left: 0, right: 100, top: 20, bottom: 120 };
  const ticks: [string, number][] = Array.from({ length: 40 }, (_, i) => [`c${i}`, i / 39]);
  const labels = axisLabels(ticks, 50, plot, measure, LH, false, false).filter((l) => l.boxed);
  assert.ok(labels.length > 1);
  for (let i = 1; i < labels.length; i++) assert.ok(!intersects(labels[i - 1]!.box, labels[i]!.box), `${labels[i]!.text} overlaps`);
});
