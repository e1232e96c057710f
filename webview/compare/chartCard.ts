/**
 * One metric chart: its card, its chart.js line chart (one raw and one smoothed dataset per run),
 * its queries (only when on screen; stale answers dropped), zoom/pan, live appends, and exports.
 */
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import { Chart, type ChartConfiguration, type ChartDataset, type Scale } from 'chart.js';
import {
  MAX_BUCKETS, type CompareRun, type HostMessage, type SeriesData, type XAxis,
} from '../../src/core/compare/protocol.ts';
import { fitX, fitY } from './fit.ts';
import { linePlugins, FAST_LINE_OPTIONS } from './chartSetup.ts';
import { debounce, h, icon } from './dom.ts';
import { formatTick, formatXTick, niceTicks, timeTicks } from './format.ts';
import { lineHosts, type LineHost, type TraceRef } from './lineHost.ts';
import { RunTrace, type XY } from './series.ts';
import type { ViewState } from './state.ts';
import { withAlpha, type Theme } from './theme.ts';
import { HoverLayer, type ZoomMode } from './hoverLayer.ts';
import { RunTooltip } from './tooltip.ts';

type SeriesMsg = Extract<HostMessage, { type: 'series' }>;
type AppendMsg = Extract<HostMessage, { type: 'append' }>;
type LineChart = Chart<'line', XY[]>;
type LineDataset = ChartDataset<'line', XY[]>;

export interface ChartContext {
  state: ViewState;
  theme(): Theme;
  /** The model's runs, in order. */
  runs(): CompareRun[];
  isPrimary(key: string): boolean;
  /** Posts a query; returns its requestId. */
  query(key: string, axis: XAxis, range: [number, number] | null, buckets: number): number;
  exportPng(key: string, dataUrl: string): void;
  exportCsv(key: string, axis: XAxis, range: [number, number] | null): void;
}

interface Slot extends TraceRef {
  raw: LineDataset;
  smooth: LineDataset;
}

/** How much the +/- keys zoom and the arrow keys pan (fraction of the plot). */
const KEY_ZOOM = 1.25;
const KEY_PAN = 0.1;

export class ChartView {
  readonly key: string;
  readonly el: HTMLElement;
  chart: LineChart | null = null;
  /** On screen (or about to be): only then it queries and redraws. */
  visible = false;
  /** Needs a fresh query when next visible. */
  dirty = true;
  /** Needs its datasets restyled when next visible (smoothing, hidden runs, theme). */
  styleDirty = false;
  /** The x range the data was asked for; null = everything (live appends apply). */
  range: [number, number] | null = null;
  /** The requestId of the query in flight (answers with another id are stale). */
  pendingId: number | null = null;
  private buckets = 0;
  private hasData = false;
  private domain: [number, number] | null = null;
  private zoomMode: ZoomMode = 'x';
  private readonly ctx: ChartContext;
  private readonly slots = new Map<number, Slot>();
  private byDataset: Slot[] = [];
  private readonly host: LineHost;
  private readonly canvas: HTMLCanvasElement;
  private readonly overlay: HTMLElement;
  private readonly notes: HTMLElement;
  private readonly title: HTMLElement;
  private readonly modeButtons: Record<ZoomMode, HTMLElement>;
  private readonly tooltip: RunTooltip;
  private readonly hover: HoverLayer;
  /** Live redraws are spaced by how long a redraw takes, so 100 runs streaming stay responsive. */
  private liveTimer = 0;
  private lastDrawMs = 0;
  private lastDrawAt = 0;
  private visibleCount = 0;
  private readonly settle = debounce(() => this.viewSettled(), 150);
  private error: string | null = null;

  constructor(key: string, ctx: ChartContext) {
    this.key = key;
    this.ctx = ctx;
    this.host = { traces: [], smoothing: 0, logY: false, axis: 'step' };
    this.tooltip = new RunTooltip(() => this.ctx.state.value.axis, (i) => this.byDataset[i]);
    this.hover = new HoverLayer({
      tooltip: this.tooltip,
      theme: () => this.ctx.theme(),
      zoomMode: () => this.zoomMode,
      onZoomed: () => this.settle(),
      onReset: () => this.resetZoom(),
    });

    this.title = h('h3', { class: 'card-title', title: key });
    const mk = (mode: ZoomMode, text: string, label: string) => {
      const b = h('vscode-toolbar-button', { toggleable: true, label, title: label, 'data-mode': mode }, text);
      b.addEventListener('change', () => this.setZoomMode(mode));
      return b;
    };
    this.modeButtons = {
      xy: mk('xy', 'XY', 'Zoom both axes'),
      x: mk('x', 'X', 'Zoom the x axis only'),
      y: mk('y', 'Y', 'Zoom the y axis only'),
    };
    const tool = (label: string, child: Node | string, onClick: () => void, cls?: string) => {
      const b = h('vscode-toolbar-button', { label, title: label, class: cls }, child);
      b.addEventListener('click', onClick);
      return b;
    };
    const tools = h('div', { class: 'card-tools', role: 'toolbar', 'aria-label': `${key} chart tools` },
      h('div', { class: 'seg', role: 'group', 'aria-label': 'Zoom direction' }, this.modeButtons.xy, this.modeButtons.x, this.modeButtons.y),
      tool('Reset zoom (0)', icon('reset'), () => this.resetZoom()),
      tool(`Save ${key} as PNG`, 'PNG', () => this.exportPng(), 'text-tool'),
      tool(`Save ${key} points as CSV`, 'CSV', () => this.exportCsv(), 'text-tool'),
    );
    this.canvas = h('canvas', { role: 'img', 'aria-label': `${key} for each run` });
    this.overlay = h('div', { class: 'chart-overlay', hidden: true });
    this.notes = h('div', { class: 'card-notes' });
    this.el = h('section', {
      class: 'chart-card', 'data-key': key, tabindex: 0,
      'aria-label': `${key} chart. Plus and minus zoom, arrow keys pan, 0 resets the zoom.`,
    },
    h('header', { class: 'card-head' }, this.title, tools),
    h('div', { class: 'chart-wrap', 'aria-busy': 'true' }, this.canvas, this.overlay, this.tooltip.el),
    this.notes);
    this.el.addEventListener('keydown', (e) => this.onKey(e));
    this.renderTitle();
    this.renderMode();
    this.showOverlay('Loading…', 'loading');
  }

  // ── lifecycle ──────────────────────────────────────────────────────────────

  setVisible(v: boolean): void {
    this.visible = v;
    if (!v) return;
    this.ensureChart();
    if (this.styleDirty) this.restyle();
    if (this.dirty) this.query();
  }

  destroy(): void {
    this.settle.cancel();
    window.clearTimeout(this.liveTimer);
    this.chart?.destroy();
    this.chart = null;
    this.el.remove();
  }

  private ensureChart(): void {
    if (this.chart) return;
    const t = this.ctx.theme();
    const config: ChartConfiguration<'line', XY[]> = {
      type: 'line',
      data: { datasets: [] },
      plugins: linePlugins,
      options: {
        ...FAST_LINE_OPTIONS,
        // Pointer feedback lives on the hover layer; chart.js itself never redraws on hover.
        events: [],
        interaction: { mode: 'runsAtX', intersect: false },
        layout: { padding: { top: 4, right: 12, left: 2, bottom: 0 } },
        elements: {
          point: { radius: 0, hitRadius: 0, hoverRadius: 3, hoverBorderWidth: 1.5 },
          line: { tension: 0, borderJoinStyle: 'round', capBezierPoints: false },
        },
        onResize: (_c, size) => this.onResize(size.width),
        scales: {
          x: this.xScaleOptions(t),
          y: this.yScaleOptions(t),
        },
        plugins: {
          tooltip: { enabled: false },
          zoom: {
            limits: { x: { min: 'original', max: 'original' } },
            pan: {
              enabled: true, mode: this.zoomMode, modifierKey: 'shift', threshold: 4,
              onPanComplete: () => {
                this.hover.refresh();
                this.settle();
              },
            },
            zoom: {
              mode: this.zoomMode,
              wheel: { enabled: true, modifierKey: 'ctrl', speed: 0.1 },
              pinch: { enabled: true },
              // Drag-to-zoom is drawn by the hover layer (no chart redraw per mouse move).
              drag: { enabled: false },
              onZoomComplete: () => {
                this.hover.refresh();
                this.settle();
              },
            },
          },
        },
      },
    };
    this.chart = new Chart(this.canvas, config);
    lineHosts.set(this.chart as unknown as Chart, this.host);
    this.hover.attach(this.chart as unknown as Chart);
    this.syncRuns();
    this.restyle();
  }

  // ── runs and styles ────────────────────────────────────────────────────────

  /** Matches the datasets to the model's runs; returns true when a run was added. */
  syncRuns(): boolean {
    const runs = this.ctx.runs();
    let added = false;
    const keep = new Set<number>();
    for (const run of runs) {
      keep.add(run.id);
      const s = this.slots.get(run.id);
      if (s) {
        s.run = run;
        continue;
      }
      added = true;
      const trace = new RunTrace(run.id);
      const raw: LineDataset = { label: run.name, data: trace.raw, order: 1 };
      const smooth: LineDataset = { label: `${run.name} (smoothed)`, data: [], order: 0 };
      this.slots.set(run.id, { run, trace, raw, smooth, rawIndex: -1, smoothIndex: -1, visible: true, bandFill: '', bandEdge: '' });
    }
    for (const id of [...this.slots.keys()]) if (!keep.has(id)) this.slots.delete(id);
    const ordered = runs.map((r) => this.slots.get(r.id)!);
    this.byDataset = [];
    const datasets: LineDataset[] = [];
    for (const s of ordered) {
      s.rawIndex = datasets.length;
      datasets.push(s.raw);
      this.byDataset.push(s);
      s.smoothIndex = datasets.length;
      datasets.push(s.smooth);
      this.byDataset.push(s);
    }
    this.host.traces = ordered;
    if (this.chart) this.chart.data.datasets = datasets;
    if (added) this.dirty = true;
    this.styleDirty = true;
    this.renderTitle();
    return added;
  }

  /** Applies smoothing, log scale, hidden runs and theme to the datasets; redraws if on screen. */
  restyle(): void {
    if (!this.chart || !this.visible) {
      this.styleDirty = true;
      return;
    }
    this.styleDirty = false;
    const { smoothing, logY } = this.ctx.state.value;
    const t = this.ctx.theme();
    const traceChanged = this.host.smoothing !== smoothing || this.host.logY !== logY;
    this.host.smoothing = smoothing;
    this.host.logY = logY;
    this.host.axis = this.ctx.state.value.axis;
    this.visibleCount = 0;
    for (const s of this.slots.values()) if (!this.ctx.state.isHidden(s.run.uid)) this.visibleCount++;
    for (const s of this.slots.values()) {
      if (traceChanged) s.trace.restyle(smoothing, logY);
      this.styleSlot(s, t);
    }
    const y = this.chart.options.scales!.y!;
    if ((y.type === 'logarithmic') !== logY) {
      this.chart.options.scales!.y = this.yScaleOptions(t);
    }
    this.renderNotes();
    // No points to show: no empty 0..1 axes under the message either.
    const any = this.host.traces.some((r) => r.visible && r.trace.length > 0);
    const sc = this.chart.options.scales!;
    sc.x!.display = any;
    sc.y!.display = any;
    this.redraw();
  }

  private redraw(): void {
    if (!this.chart) return;
    const t0 = performance.now();
    // Not 'none': in that mode chart.js keeps the points' first resolved (shared) options, so
    // changed point styles would never show. Animations are off, so this is just as immediate.
    this.chart.update();
    this.lastDrawAt = performance.now();
    this.lastDrawMs = this.lastDrawAt - t0;
    this.drawn();
    this.hover.refresh();
  }

  /** Appended points: redraw soon, but not more often than the chart can afford. */
  private scheduleLive(): void {
    if (this.liveTimer) return;
    // update() time is only the script side (the canvas is rastered after it), hence the margin.
    const gap = Math.max(400, this.lastDrawMs * 10);
    const wait = Math.max(0, this.lastDrawAt + gap - performance.now());
    this.liveTimer = window.setTimeout(() => {
      this.liveTimer = 0;
      requestAnimationFrame(() => this.restyle());
    }, wait);
  }

  /** After a redraw with data: mark the card ready (the tests wait for it) and count its points. */
  private drawn(): void {
    if (!this.hasData) return;
    let points = 0;
    for (const r of this.host.traces) if (r.visible) points += r.trace.length;
    this.el.dataset.points = String(points);
    if (this.el.dataset.ready !== 'true') this.el.dataset.ready = 'true';
  }

  /**
   * Line width by how many runs are shown: bold for a few, thinner for dozens, and a one-device-
   * pixel hairline for many (clearer when 100 lines overlap, and several times cheaper to raster
   * than wide strokes).
   */
  private lineWidth(t: Theme): number {
    const n = this.visibleCount;
    if (n <= 10) return t.lineWidth;
    if (n <= 30) return 1;
    return 1 / (this.chart?.currentDevicePixelRatio || window.devicePixelRatio || 1);
  }

  private styleSlot(s: Slot, t: Theme): void {
    const w = this.host.smoothing;
    const lw = this.lineWidth(t);
    const visible = !this.ctx.state.isHidden(s.run.uid);
    s.visible = visible;
    // Fainter bands when many runs overlap, so they stay a hint rather than a haze.
    const shown = this.visibleCount;
    const k = shown > 30 ? 0.45 : shown > 10 ? 0.7 : 1;
    const light = t.kind === 'light' || t.kind === 'hc-light';
    s.bandFill = withAlpha(s.run.color, Math.round((light ? 0.14 : 0.18) * k * 100) / 100);
    s.bandEdge = withAlpha(s.run.color, Math.round((light ? 0.3 : 0.35) * k * 100) / 100);
    const color = s.run.color;
    // Few points far apart (say 15 epochs): mark them, or a line hides where the data is.
    const width = this.chart?.chartArea ? this.chart.chartArea.right - this.chart.chartArea.left : 400;
    const dots = this.visibleCount <= 20 && s.trace.length > 0 && s.trace.length <= Math.min(60, width / 10) ? 2 : 0;
    s.raw.data = s.trace.raw;
    s.raw.hidden = !visible;
    s.raw.pointBackgroundColor = color;
    s.raw.pointBorderColor = color;
    s.smooth.pointBackgroundColor = color;
    s.smooth.pointBorderColor = color;
    s.raw.pointHoverBackgroundColor = color;
    s.raw.pointHoverBorderColor = t.background;
    s.smooth.pointHoverBackgroundColor = color;
    s.smooth.pointHoverBorderColor = t.background;
    s.raw.label = s.run.name;
    s.smooth.label = `${s.run.name} (smoothed)`;
    if (w > 0) {
      s.raw.borderColor = withAlpha(color, 0.25);
      s.raw.borderWidth = Math.min(1, lw);
      s.raw.pointHoverRadius = 0;
      s.smooth.data = s.trace.smooth;
      s.smooth.hidden = !visible;
      s.smooth.borderColor = color;
      s.smooth.borderWidth = lw;
      s.smooth.pointHoverRadius = 3;
      s.smooth.pointRadius = dots;
      s.raw.pointRadius = 0;
    } else {
      s.raw.borderColor = color;
      s.raw.borderWidth = lw;
      s.raw.pointHoverRadius = 3;
      s.raw.pointRadius = dots;
      if (s.smooth.data.length) s.smooth.data = [];
      s.smooth.hidden = true;
    }
  }

  applyTheme(): void {
    if (!this.chart) return;
    const t = this.ctx.theme();
    const o = this.chart.options;
    o.scales!.x = this.xScaleOptions(t, o.scales!.x as { min?: number; max?: number });
    o.scales!.y = this.yScaleOptions(t, o.scales!.y as { min?: number; max?: number });
    this.restyle();
  }

  private xScaleOptions(t: Theme, keep?: { min?: number; max?: number }) {
    const axis = () => this.ctx.state.value.axis;
    return {
      type: 'linear' as const,
      bounds: 'data' as const,
      min: keep?.min,
      max: keep?.max,
      afterDataLimits: fitX,
      grid: { color: t.grid, drawTicks: false },
      border: { color: t.axis },
      ticks: {
        color: t.muted,
        maxRotation: 0,
        autoSkipPadding: 18,
        padding: 6,
        maxTicksLimit: 8,
        callback: function (this: Scale, v: number | string) {
          return formatXTick(axis(), Number(v), this.max - this.min);
        },
      },
      afterBuildTicks: (scale: Scale) => {
        const a = axis();
        const target = Math.max(2, Math.min(8, Math.floor((scale.width || 400) / 90)));
        const values = a === 'step' ? niceTicks(scale.min, scale.max, target, true) : timeTicks(scale.min, scale.max, target, a === 'time');
        scale.ticks = values.map((value) => ({ value }));
      },
    };
  }

  private yScaleOptions(t: Theme, keep?: { min?: number; max?: number }) {
    const logY = this.ctx.state.value.logY;
    return {
      type: (logY ? 'logarithmic' : 'linear') as 'linear',
      min: logY ? undefined : keep?.min,
      max: logY ? undefined : keep?.max,
      grid: { color: t.grid, drawTicks: false },
      border: { color: t.axis, display: false },
      ticks: {
        color: t.muted,
        padding: 6,
        maxTicksLimit: logY ? 40 : 7,
        callback: function (this: Scale, v: number | string) {
          const n = Number(v);
          if (logY) {
            const m = n / Math.pow(10, Math.floor(Math.log10(n)));
            const r = Math.round(m * 10) / 10;
            if (r !== 1 && r !== 2 && r !== 5) return '';
          }
          return formatTick(n, Math.max(Math.abs(this.min), Math.abs(this.max)));
        },
      },
      afterDataLimits: fitY,
    };
  }

  // ── queries and answers ────────────────────────────────────────────────────

  private currentBuckets(): number {
    const w = this.canvas.clientWidth || this.el.clientWidth || 400;
    return Math.max(16, Math.min(MAX_BUCKETS, Math.round(w * (window.devicePixelRatio || 1))));
  }

  query(): void {
    this.dirty = false;
    this.buckets = this.currentBuckets();
    const { axis } = this.ctx.state.value;
    this.pendingId = this.ctx.query(this.key, axis, this.range, this.buckets);
    this.el.querySelector('.chart-wrap')?.setAttribute('aria-busy', 'true');
  }

  /** Forget the data (new x axis): the next visible moment queries from scratch. */
  resetData(): void {
    this.settle.cancel();
    this.range = null;
    this.domain = null;
    this.hasData = false;
    this.pendingId = null;
    if (this.chart) {
      this.resetScaleBounds();
      for (const s of this.slots.values()) s.trace.set(null, this.host.smoothing, this.host.logY);
      this.styleDirty = true;
    }
    this.dirty = true;
    this.showOverlay('Loading…', 'loading');
    if (this.visible) {
      this.restyle();
      this.query();
    }
  }

  onSeries(msg: SeriesMsg): void {
    if (msg.requestId !== this.pendingId) return; // stale: a newer query is on its way
    this.pendingId = null;
    this.error = null;
    delete this.el.dataset.error;
    if (msg.axis !== this.ctx.state.value.axis) return;
    this.domain = msg.domain;
    const byRun = new Map<number, SeriesData>();
    for (const s of msg.series) byRun.set(s.runId, s);
    for (const s of this.slots.values()) s.trace.set(byRun.get(s.run.id) ?? null, this.host.smoothing, this.host.logY);
    this.hasData = true;
    if (!this.chart) return;
    this.setLimits();
    this.styleDirty = true;
    this.el.querySelector('.chart-wrap')?.setAttribute('aria-busy', 'false');
    this.restyle();
  }

  onAppend(msg: AppendMsg): void {
    if (!this.chart || !this.hasData || this.range !== null || this.pendingId !== null) return;
    if (msg.axis !== this.ctx.state.value.axis) return;
    if (!this.visible) {
      this.dirty = true; // re-query when it scrolls back into view
      return;
    }
    let requery = false;
    let added = 0;
    for (const s of msg.series) {
      const slot = this.slots.get(s.runId);
      if (!slot) continue;
      if (slot.trace.length === 0 && s.x.length) requery = true; // a run new to this key: redo the layout
      added += slot.trace.append(s);
      if (slot.trace.length > 2 * this.buckets) requery = true;
    }
    if (requery) {
      this.query();
      return;
    }
    if (added) {
      if (this.domain) this.domain = [this.domain[0], Math.max(this.domain[1], ...msg.series.map((s) => s.x[s.x.length - 1] ?? -Infinity))];
      this.setLimits();
      this.scheduleLive();
    }
  }

  onError(message: string): void {
    this.pendingId = null;
    this.error = message;
    this.el.dataset.error = 'true';
    this.el.querySelector('.chart-wrap')?.setAttribute('aria-busy', 'false');
    this.showOverlay(`Could not load ${this.key}: ${message}`, 'error');
  }

  private setLimits(): void {
    if (!this.chart) return;
    const lim = this.chart.options.plugins!.zoom!.limits!;
    const axis = this.ctx.state.value.axis;
    lim.x = this.domain
      ? { min: this.domain[0], max: this.domain[1], minRange: axis === 'step' ? 2 : 50 }
      : { min: 'original', max: 'original' };
  }

  private onResize(width: number): void {
    if (!this.hasData || !this.visible) return;
    const want = Math.min(MAX_BUCKETS, Math.round(width * (window.devicePixelRatio || 1)));
    if (want > this.buckets * 1.5) {
      this.dirty = true;
      window.setTimeout(() => this.dirty && this.visible && this.query(), 200);
    }
  }

  // ── zoom and pan ───────────────────────────────────────────────────────────

  private setZoomMode(mode: ZoomMode): void {
    this.zoomMode = mode;
    this.renderMode();
    if (!this.chart) return;
    const z = this.chart.options.plugins!.zoom!;
    z.zoom!.mode = mode;
    z.pan!.mode = mode;
    this.redraw();
  }

  private renderMode(): void {
    for (const [m, b] of Object.entries(this.modeButtons) as [ZoomMode, HTMLElement & { checked?: boolean }][]) {
      b.checked = m === this.zoomMode;
      b.setAttribute('aria-pressed', String(m === this.zoomMode));
    }
  }

  resetZoom(): void {
    if (!this.chart) return;
    this.chart.resetZoom('none');
    this.resetScaleBounds();
    this.redraw();
    this.settle.cancel();
    this.viewSettled();
  }

  private resetScaleBounds(): void {
    if (!this.chart) return;
    const sc = this.chart.options.scales!;
    for (const id of ['x', 'y'] as const) {
      const o = sc[id] as { min?: number; max?: number };
      delete o.min;
      delete o.max;
    }
  }

  /** After zoom/pan settles: if the x range changed, ask for that range at full resolution. */
  private viewSettled(): void {
    if (!this.chart) return;
    const xo = this.chart.options.scales!.x as { min?: number; max?: number };
    const xs = this.chart.scales.x!;
    let range: [number, number] | null = null;
    if (xo.min !== undefined || xo.max !== undefined) {
      range = [xs.min, xs.max];
      const d = this.domain;
      if (d && range[0] <= d[0] && range[1] >= d[1]) range = null;
    }
    const same = range === null ? this.range === null
      : this.range !== null && Math.abs(range[0] - this.range[0]) < 1e-9 && Math.abs(range[1] - this.range[1]) < 1e-9;
    if (same) return;
    this.range = range;
    this.query();
  }

  private onKey(e: KeyboardEvent): void {
    if (e.target !== this.el || !this.chart || e.ctrlKey || e.metaKey || e.altKey) return;
    const c = this.chart;
    const area = c.chartArea;
    let handled = true;
    switch (e.key) {
      case '+':
      case '=':
        c.zoom(KEY_ZOOM);
        break;
      case '-':
      case '_':
        c.zoom(1 / KEY_ZOOM);
        break;
      case 'ArrowLeft':
        c.pan({ x: (area.right - area.left) * KEY_PAN }, undefined, 'none');
        break;
      case 'ArrowRight':
        c.pan({ x: -(area.right - area.left) * KEY_PAN }, undefined, 'none');
        break;
      case 'ArrowUp':
        c.pan({ y: (area.bottom - area.top) * KEY_PAN }, undefined, 'none');
        break;
      case 'ArrowDown':
        c.pan({ y: -(area.bottom - area.top) * KEY_PAN }, undefined, 'none');
        break;
      case '0':
        this.resetZoom();
        break;
      default:
        handled = false;
    }
    if (handled) {
      e.preventDefault();
      this.hover.refresh();
      if (e.key !== '0') this.settle();
    }
  }

  // ── exports ────────────────────────────────────────────────────────────────

  exportCsv(): void {
    this.ctx.exportCsv(this.key, this.ctx.state.value.axis, this.range);
  }

  /** The chart on the theme's background, with its title and the visible runs' legend. */
  exportPng(): void {
    const chart = this.chart;
    if (!chart) return;
    const t = this.ctx.theme();
    const dpr = chart.currentDevicePixelRatio || 1;
    const src = chart.canvas;
    const pad = Math.round(12 * dpr);
    const fs = Math.round(t.fontSize * dpr);
    const font = (px: number, weight = '') => `${weight} ${px}px ${t.fontFamily}`.trim();
    const probe = document.createElement('canvas').getContext('2d')!;
    probe.font = font(Math.round(fs * 0.85));
    const runs = this.host.traces.filter((r) => r.visible && r.trace.length > 0);
    const maxW = src.width;
    const lineH = Math.round(fs * 1.5);
    const items: { text: string; color: string; x: number; y: number }[] = [];
    let x = 0;
    let y = 0;
    const cap = 40;
    for (const r of runs.slice(0, cap)) {
      const w = Math.ceil(probe.measureText(r.run.name).width) + fs + Math.round(fs * 1.4);
      if (x > 0 && x + w > maxW) {
        x = 0;
        y += lineH;
      }
      items.push({ text: r.run.name, color: r.run.color, x, y });
      x += w;
    }
    if (runs.length > cap) items.push({ text: `… and ${runs.length - cap} more`, color: '', x: 0, y: y + lineH });
    const legendH = items.length ? items[items.length - 1]!.y + lineH : 0;
    const titleH = Math.round(fs * 2);
    const out = document.createElement('canvas');
    out.width = src.width + 2 * pad;
    out.height = pad + titleH + src.height + (legendH ? pad / 2 + legendH : 0) + pad;
    const g = out.getContext('2d')!;
    g.fillStyle = t.background;
    g.fillRect(0, 0, out.width, out.height);
    g.fillStyle = t.foreground;
    g.font = font(Math.round(fs * 1.1), '600');
    g.textBaseline = 'middle';
    g.fillText(this.key, pad, pad + titleH / 2);
    g.drawImage(src, pad, pad + titleH);
    g.font = font(Math.round(fs * 0.85));
    const ly = pad + titleH + src.height + pad / 2;
    for (const it of items) {
      let tx = pad + it.x;
      if (it.color) {
        g.fillStyle = it.color;
        g.fillRect(tx, ly + it.y + lineH / 2 - fs * 0.15, fs * 0.9, Math.max(2, fs * 0.3));
        tx += fs * 1.2;
      }
      g.fillStyle = t.muted;
      g.fillText(it.text, tx, ly + it.y + lineH / 2);
    }
    this.ctx.exportPng(this.key, out.toDataURL('image/png'));
  }

  // ── text around the chart ──────────────────────────────────────────────────

  renderTitle(): void {
    const primary = this.ctx.isPrimary(this.key);
    this.title.replaceChildren();
    if (primary) {
      const star = h('span', { class: 'primary-star', title: 'Primary metric' }, icon('star'));
      this.title.appendChild(star);
    }
    this.title.appendChild(document.createTextNode(this.key));
  }

  private renderNotes(): void {
    const notes: (string | Node)[] = [];
    const visible = this.host.traces.filter((r) => r.visible);
    if (this.hasData) {
      const lacking = visible.filter((r) => r.trace.length === 0);
      if (visible.length === 0) {
        this.showOverlay('All runs are hidden. Show some in the legend above.', 'empty');
      } else if (lacking.length === visible.length) {
        this.showOverlay(this.range ? 'No points in this range. Press 0 or double-click to reset the zoom.' : `No visible run has logged ${this.key}.`, 'empty');
      } else if (this.error) {
        this.showOverlay(this.error, 'error');
      } else {
        this.showOverlay(null);
      }
      if (lacking.length && lacking.length < visible.length) {
        const names = lacking.map((r) => (r.run.status === 'queued' || r.run.status === 'running' ? `${r.run.name} (${r.run.status})` : r.run.name));
        const what = this.range ? 'No points in view from' : 'Not logged by';
        const text = lacking.length <= 3 ? `${what} ${names.join(', ')}` : `${what} ${lacking.length} of ${visible.length} runs`;
        notes.push(h('span', { class: 'note', title: names.join('\n') }, text));
      }
      if (this.host.logY) {
        let dropped = 0;
        for (const r of visible) dropped += r.trace.dropped;
        if (dropped) notes.push(h('span', { class: 'note warn', title: 'A logarithmic axis cannot show zero or negative values; they are left as gaps.' },
          `${dropped.toLocaleString('en-US')} value${dropped === 1 ? '' : 's'} ≤ 0 hidden (log scale)`));
      }
      if (this.range) notes.push(h('span', { class: 'note' }, 'Zoomed: live updates paused'));
    }
    this.notes.replaceChildren(...notes);
    this.notes.hidden = notes.length === 0;
  }

  private showOverlay(text: string | null, kind?: 'loading' | 'empty' | 'error'): void {
    if (text === null) {
      this.overlay.hidden = true;
      return;
    }
    this.overlay.hidden = false;
    this.overlay.className = `chart-overlay ${kind ?? ''}`;
    this.overlay.textContent = text;
  }
}
