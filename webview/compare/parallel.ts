/**
 * Parallel coordinates with chart.js: a line chart over a category x axis (one category per
 * param that differs, plus the primary metric), y normalised to 0..1 per axis, one polyline per
 * run. A small plugin draws each vertical axis and its min/max or category labels.
 */
import { Chart, type ChartConfiguration, type ChartDataset, type Plugin } from 'chart.js';
import type { CompareModel, CompareRun } from '../../src/core/compare/protocol.ts';
import type { ParamValue } from '../../src/core/types.ts';
import { canvasTooltip, FAST_LINE_OPTIONS } from './chartSetup.ts';
import { formatParam } from './format.ts';
import { metricValue } from '../../src/core/format.ts';
import { withAlpha, type Theme } from './theme.ts';
import { axisLabels, BOX_PAD, labelReserve } from './pcLayout.ts';

export interface PcAxis {
  label: string;
  kind: 'num' | 'cat';
  min: number;
  max: number;
  cats: string[];
  /** Per shown run: the raw value, and its position 0..1 (null: missing). */
  values: (ParamValue | null)[];
  norm: (number | null)[];
  /** Labels drawn along the axis: [text, y 0..1]. */
  ticks: [string, number][];
  metric: boolean;
}

type XY = { x: number; y: number | null };

function distinct(values: (ParamValue | null)[]): number {
  return new Set(values.filter((v) => v !== null).map((v) => `${typeof v}:${String(v)}`)).size
    + (values.some((v) => v === null) ? 1 : 0);
}

export function buildAxis(label: string, values: (ParamValue | null)[], metric = false): PcAxis {
  const present = values.filter((v): v is ParamValue => v !== null);
  const numeric = present.length > 0 && present.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (numeric) {
    const nums = present as number[];
    const min = Math.min(...nums);
    const max = Math.max(...nums);
    // A decade or more of positive values (learning rates, weight decay): a log axis.
    const log = min > 0 && max / min >= 10;
    const f = log ? Math.log10 : (v: number) => v;
    const lo = f(min);
    const span = f(max) - lo;
    const norm = values.map((v) => (v === null ? null : span ? (f(v as number) - lo) / span : 0.5));
    const ticks: [string, number][] = span ? [[metricValue(max), 1], [metricValue(min), 0]] : [[metricValue(min), 0.5]];
    if (log) {
      for (let e = Math.ceil(Math.log10(min)); e <= Math.floor(Math.log10(max)); e++) {
        const p = (e - lo) / span;
        if (p > 0.08 && p < 0.92) ticks.push([metricValue(10 ** e), p]);
      }
    }
    return { label: log ? `${label} (log)` : label, kind: 'num', min, max, cats: [], values, norm, ticks, metric };
  }
  const cats = [...new Set(present.map((v) => formatParam(v)))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const pos = (c: string) => (cats.length === 1 ? 0.5 : cats.indexOf(c) / (cats.length - 1));
  const norm = values.map((v) => (v === null ? null : pos(formatParam(v))));
  return { label, kind: 'cat', min: 0, max: cats.length - 1, cats, values, norm, ticks: cats.map((c) => [c, pos(c)]), metric };
}

/** The axes for the shown runs: params whose values differ, then the primary metric. */
export function parallelAxes(model: CompareModel, shown: number[]): PcAxis[] {
  const axes: PcAxis[] = [];
  for (const p of model.params) {
    const values = shown.map((i) => p.values[i] ?? null);
    if (shown.length > 1 && distinct(values) > 1) axes.push(buildAxis(p.key, values));
  }
  const primary = model.primary;
  const row = model.metrics.find((m) => m.key === (primary?.key ?? model.keys[0]));
  if (row) {
    const values = shown.map((i) => {
      if (primary) return row.atBest[i] ?? (primary.goal === 'min' ? row.min[i] : row.max[i]) ?? null;
      return row.last[i] ?? null;
    });
    const label = primary ? `${row.key} (best${primary.goal === 'min' ? ', min' : ', max'})` : `${row.key} (last)`;
    axes.push(buildAxis(label, values, true));
  }
  return axes;
}

interface PcHost {
  axes: PcAxis[];
  theme: Theme;
  lineColor: string;
}

function labelFont(t: Theme): { font: string; lineHeight: number } {
  const px = Math.max(10, Math.round(t.fontSize * 0.8));
  return { font: `${px}px ${t.fontFamily}`, lineHeight: Math.ceil(px * 1.25) };
}

const pcHosts = new WeakMap<Chart, PcHost>();

const axesPlugin: Plugin<'line'> = {
  id: 'pcAxes',
  beforeDatasetsDraw(chart) {
    const host = pcHosts.get(chart);
    const xs = chart.scales.x;
    if (!host || !xs) return;
    const { ctx, chartArea } = chart;
    ctx.save();
    ctx.strokeStyle = host.lineColor;
    ctx.lineWidth = 1;
    for (let k = 0; k < host.axes.length; k++) {
      const x = Math.round(xs.getPixelForValue(k)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
    }
    ctx.restore();
  },
  afterDatasetsDraw(chart) {
    const host = pcHosts.get(chart);
    const xs = chart.scales.x;
    if (!host || !xs) return;
    const { ctx, chartArea } = chart;
    const t = host.theme;
    const lh = labelFont(t).lineHeight;
    ctx.save();
    ctx.font = labelFont(t).font;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    const last = host.axes.length - 1;
    for (let k = 0; k <= last; k++) {
      const x = xs.getPixelForValue(k);
      const labels = axisLabels(host.axes[k]!.ticks, x, chartArea, (s) => ctx.measureText(s).width, lh, k === 0, k === last);
      for (const { text, box, boxed } of labels) {
        if (boxed) {
          ctx.fillStyle = t.background;
          ctx.fillRect(box.x - BOX_PAD, box.y - BOX_PAD, box.w + BOX_PAD * 2, box.h + BOX_PAD * 2);
        }
        ctx.fillStyle = t.muted;
        ctx.fillText(text, box.x, box.y + box.h / 2);
      }
    }
    ctx.restore();
  },
};

export class ParallelChart {
  readonly canvas: HTMLCanvasElement;
  private chart: Chart<'line', XY[]> | null = null;
  private runs: CompareRun[] = [];
  private axes: PcAxis[] = [];
  private hot = -1;
  private theme!: Theme;

  constructor(canvas: HTMLCanvasElement) {
    this.canvas = canvas;
  }

  render(runs: CompareRun[], axes: PcAxis[], t: Theme): void {
    this.runs = runs;
    this.axes = axes;
    const labels = axes.map((a) => a.label);
    const datasets: ChartDataset<'line', XY[]>[] = runs.map((run, r) => ({
      label: run.name,
      data: axes.map((a, k) => ({ x: k, y: a.norm[r] ?? null })),
      borderColor: this.hot < 0 || this.hot === r ? run.color : withAlpha(run.color, 0.15),
      borderWidth: this.hot === r ? 3 : runs.length > 40 ? 1.25 : 2,
      pointRadius: runs.length > 40 ? 1.5 : 3,
      pointHoverRadius: 5,
      pointBackgroundColor: run.color,
      pointBorderColor: run.color,
      order: this.hot === r ? -1 : 0,
      clip: false,
    }));
    this.theme = t;
    const host: PcHost = { axes, theme: t, lineColor: t.highContrast ? t.foreground : withAlpha(t.foreground, 0.35) };
    if (this.chart) {
      this.chart.data.labels = labels;
      this.chart.data.datasets = datasets;
      this.chart.options.scales!.x!.ticks!.color = t.foreground;
      this.chart.options.plugins!.tooltip = { ...this.chart.options.plugins!.tooltip, ...canvasTooltip(t) };
      pcHosts.set(this.chart as unknown as Chart, host);
      this.chart.update(); // not 'none': that keeps stale point options (animations are off anyway)
      return;
    }
    const reserve = labelReserve(labelFont(t).lineHeight);
    const config: ChartConfiguration<'line', XY[]> = {
      type: 'line',
      data: { labels, datasets },
      plugins: [axesPlugin],
      options: {
        ...FAST_LINE_OPTIONS,
        layout: { padding: { top: 6, bottom: reserve, left: 8, right: 8 } },
        interaction: { mode: 'nearest', intersect: false, axis: 'xy' },
        scales: {
          x: { type: 'category', position: 'top', offset: false, grid: { display: false }, border: { display: false }, ticks: { color: t.foreground, font: { weight: 'bold' }, padding: reserve } },
          // Exactly 0..1: the chart area is the lines' band, the end labels sit outside it.
          y: { type: 'linear', min: 0, max: 1, display: false },
        },
        onHover: (_e, active) => {
          const r = active.length ? active[0]!.datasetIndex : -1;
          if (r !== this.hot) {
            this.hot = r;
            this.render(this.runs, this.axes, this.theme);
          }
        },
        plugins: {
          tooltip: {
            ...canvasTooltip(t),
            mode: 'nearest',
            intersect: false,
            callbacks: {
              title: (items) => (items[0] ? this.runs[items[0].datasetIndex]?.name ?? '' : ''),
              label: () => '',
              afterBody: (items) => {
                const r = items[0]?.datasetIndex ?? -1;
                if (r < 0) return [];
                return this.axes.map((a) => `${a.label}: ${a.metric ? metricValue(a.values[r] as number | null, { missing: '—' }) : formatParam(a.values[r] ?? null)}`);
              },
            },
          },
        },
      },
    };
    this.chart = new Chart(this.canvas, config);
    pcHosts.set(this.chart as unknown as Chart, host);
    this.canvas.addEventListener('mouseleave', () => {
      if (this.hot !== -1) {
        this.hot = -1;
        this.render(this.runs, this.axes, this.theme);
      }
    });
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = null;
  }
}
