/**
 * Scatter: one param (x) against one metric's last value (y), one point per run in its colour.
 * Categorical params get a category axis (with a little deterministic jitter so equal values
 * do not hide each other); numeric params spanning several decades get a log axis.
 */
import { Chart, type ChartConfiguration, type ChartDataset } from 'chart.js';
import type { CompareRun } from '../../src/core/compare/protocol.ts';
import type { ParamValue } from '../../src/core/types.ts';
import { canvasTooltip } from './chartSetup.ts';
import { formatCompact, formatParam } from './format.ts';
import { metricValue } from '../../src/core/format.ts';
import { withAlpha, type Theme } from './theme.ts';

export interface ScatterInput {
  runs: CompareRun[];
  paramKey: string;
  metricKey: string;
  x: (ParamValue | null)[];
  y: (number | null)[];
}

type XY = { x: number; y: number | null };

function jitter(i: number): number {
  // Deterministic, small, spread evenly: the golden-ratio sequence.
  return (((i * 0.618033988749895) % 1) - 0.5) * 0.3;
}

export class ScatterChart {
  readonly canvas: HTMLCanvasElement;
  private chart: Chart<'line', XY[]> | null = null;
  private input: ScatterInput | null = null;
  /** What the axes show, for the caption. */
  xLog = false;

  constructor(canvas: HTMLCanvasElement) {
    this.canvas = canvas;
  }

  render(input: ScatterInput, t: Theme): void {
    this.input = input;
    const present = input.x.filter((v): v is ParamValue => v !== null);
    const numeric = present.length > 0 && present.every((v) => typeof v === 'number' && Number.isFinite(v));
    let cats: string[] = [];
    let xs: (number | null)[];
    if (numeric) {
      xs = input.x as (number | null)[];
      const nums = present as number[];
      const lo = Math.min(...nums);
      const hi = Math.max(...nums);
      this.xLog = lo > 0 && hi / lo >= 10;
    } else {
      cats = [...new Set(present.map((v) => formatParam(v)))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
      xs = input.x.map((v, i) => (v === null ? null : cats.indexOf(formatParam(v)) + (cats.length > 1 || present.length > 1 ? jitter(i) : 0)));
      this.xLog = false;
    }
    const datasets: ChartDataset<'line', XY[]>[] = input.runs.map((run, i) => ({
      label: run.name,
      data: xs[i] === null || input.y[i] === null ? [] : [{ x: xs[i]!, y: input.y[i]! }],
      showLine: false,
      pointRadius: input.runs.length > 40 ? 4 : 6,
      pointHoverRadius: 8,
      pointBackgroundColor: withAlpha(run.color, 0.85),
      pointBorderColor: t.highContrast ? t.foreground : run.color,
      pointBorderWidth: 1,
    }));
    const grid = { color: t.grid, drawTicks: false };
    const title = (text: string) => ({ display: true, text, color: t.muted, font: { size: Math.round(t.fontSize * 0.85) } });
    const xScale = numeric
      ? { type: (this.xLog ? 'logarithmic' : 'linear') as 'linear', grid, border: { color: t.axis }, title: title(`${input.paramKey}${this.xLog ? ' (log)' : ''}`), grace: '5%', ticks: { color: t.muted, padding: 6, maxTicksLimit: 8, callback: (v: number | string) => formatCompact(Number(v)) } }
      : { type: 'linear' as const, min: -0.5, max: Math.max(0.5, cats.length - 0.5), grid, border: { color: t.axis }, title: title(input.paramKey),
          afterBuildTicks: (scale: { ticks: { value: number }[] }) => { scale.ticks = cats.map((_c, i) => ({ value: i })); },
          ticks: { color: t.muted, padding: 6, autoSkip: false, callback: (v: number | string) => cats[Math.round(Number(v))] ?? '' } };
    const yScale = { type: 'linear' as const, grace: '5%', grid, border: { color: t.axis, display: false }, title: title(`${input.metricKey} (last)`), ticks: { color: t.muted, padding: 6, maxTicksLimit: 7, callback: (v: number | string) => formatCompact(Number(v)) } };
    if (this.chart) {
      this.chart.data.datasets = datasets;
      this.chart.options.scales = { x: xScale, y: yScale };
      this.chart.options.plugins!.tooltip = { ...this.tooltipOptions(), ...canvasTooltip(t) };
      this.chart.update(); // not 'none': that keeps stale point options (animations are off anyway)
      return;
    }
    const config: ChartConfiguration<'line', XY[]> = {
      type: 'line',
      data: { datasets },
      options: {
        animation: false,
        parsing: false,
        responsive: true,
        maintainAspectRatio: false,
        layout: { padding: { top: 8, right: 16, left: 4, bottom: 4 } },
        interaction: { mode: 'nearest', intersect: true },
        scales: { x: xScale, y: yScale },
        plugins: { tooltip: { ...this.tooltipOptions(), ...canvasTooltip(t) } },
      },
    };
    this.chart = new Chart(this.canvas, config);
  }

  private tooltipOptions() {
    return {
      mode: 'nearest' as const,
      intersect: true,
      callbacks: {
        title: (items: { datasetIndex: number }[]) => (items[0] ? this.input?.runs[items[0].datasetIndex]?.name ?? '' : ''),
        label: (item: { datasetIndex: number }) => {
          const inp = this.input;
          if (!inp) return '';
          const i = item.datasetIndex;
          return [`${inp.paramKey} = ${formatParam(inp.x[i] ?? null)}`, `${inp.metricKey} = ${metricValue(inp.y[i], { missing: '—' })}`];
        },
      },
    };
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = null;
  }
}
