/**
 * One metric chart: its card, its chart.js line chart (one raw and one smoothed dataset per run),
 * its queries (only when on screen; stale answers dropped), zoom/pan, live appends, and exports.
 * The decisions live in queryState.ts, ticks.ts and pngLayout.ts; this is the DOM and chart.js glue.
 */
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import { Chart, type ChartConfiguration, type ChartDataset, type Scale } from 'chart.js';
import type { CompareRun, HostMessage, SeriesData, XAxis } from '../../src/core/compare/protocol.ts';
import { fitX, fitY } from './fit.ts';
import { linePlugins, FAST_LINE_OPTIONS } from './chartSetup.ts';
import { debounce, h, icon } from './dom.ts';
import { formatTick, formatXTick } from './format.ts';
import { lineHosts, type LineHost, type TraceRef } from './lineHost.ts';
import { RunTrace, type XY } from './series.ts';
import type { ViewState } from './state.ts';
import { withAlpha, type Theme } from './theme.ts';
import { HoverLayer, type ZoomMode } from './hoverLayer.ts';
import { RunTooltip } from './tooltip.ts';
import { bucketsFor, QueryState } from './queryState.ts';
import { logTickLabelled, xTicks, yTickLimit } from './ticks.ts';
import { pngLayout } from './pngLayout.ts';

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
  /** Needs its datasets restyled when next visible (smoothing, hidden runs, theme). */
  styleDirty = false;
  private readonly q = new QueryState();
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

  /** The requestId of the query in flight. */
  get pendingId(): number | null {
    return this.q.pendingId;
  }

  // ── lifecycle ──────────────────────────────────────────────────────────────

  setVisible(v: boolean): void {
    this.visible = v;
    if (!v) return;
    this.ensureChart();
    if (this.styleDirty) this.restyle();
    if (this.q.dirty) this.query();
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
    if (added) this.q.dirty = true;
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
    if (!this.q.hasData) return;
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
        scale.ticks = xTicks(axis(), scale.min, scale.max, scale.width).map((value) => ({ value }));
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
        maxTicksLimit: yTickLimit(logY),
        callback: function (this: Scale, v: number | string) {
          const n = Number(v);
          if (logY && !logTickLabelled(n)) return '';
          const step = this.ticks.length > 1 ? Math.abs(this.ticks[1]!.value - this.ticks[0]!.value) : undefined;
          return formatTick(n, Math.max(Math.abs(this.min), Math.abs(this.max)), logY ? undefined : step);
        },
      },
      afterDataLimits: fitY,
    };
  }

  // ── queries and answers ────────────────────────────────────────────────────

  private currentBuckets(): number {
    return bucketsFor(this.canvas.clientWidth || this.el.clientWidth || 400, window.devicePixelRatio);
  }

  query(): void {
    const { axis } = this.ctx.state.value;
    this.q.send(this.currentBuckets(), (range, buckets) => this.ctx.query(this.key, axis, range, buckets));
    this.el.querySelector('.chart-wrap')?.setAttribute('aria-busy', 'true');
  }

  /** Forget the data (new x axis): the next visible moment queries from scratch. */
  resetData(): void {
    this.settle.cancel();
    this.q.reset();
    if (this.chart) {
      this.resetScaleBounds();
      for (const s of this.slots.values()) s.trace.set(null, this.host.smoothing, this.host.logY);
      this.styleDirty = true;
    }
    this.showOverlay('Loading…', 'loading');
    if (this.visible) {
      this.restyle();
      this.query();
    }
  }

  onSeries(msg: SeriesMsg): void {
    const verdict = this.q.answer(msg.requestId, msg.axis === this.ctx.state.value.axis, msg.domain);
    if (verdict === 'stale') return; // a newer query is on its way
    delete this.el.dataset.error;
    if (verdict === 'other-axis') return;
    const byRun = new Map<number, SeriesData>();
    for (const s of msg.series) byRun.set(s.runId, s);
    for (const s of this.slots.values()) s.trace.set(byRun.get(s.run.id) ?? null, this.host.smoothing, this.host.logY);
    if (!this.chart) return;
    this.setLimits();
    this.styleDirty = true;
    this.el.querySelector('.chart-wrap')?.setAttribute('aria-busy', 'false');
    this.restyle();
  }

  onAppend(msg: AppendMsg): void {
    if (!this.chart) return;
    if (this.q.appendVerdict(msg.axis === this.ctx.state.value.axis, this.visible) !== 'apply') return;
    let requery = false;
    let added = 0;
    for (const s of msg.series) {
      const slot = this.slots.get(s.runId);
      if (!slot) continue;
      const before = slot.trace.length;
      added += slot.trace.append(s);
      if (this.q.appendNeedsQuery(before, s.x.length, slot.trace.length)) requery = true;
    }
    if (requery) {
      this.query();
      return;
    }
    if (added) {
      this.q.extend(msg.series);
      this.setLimits();
      this.scheduleLive();
    }
  }

  onError(message: string): void {
    this.q.failed(message);
    this.el.dataset.error = 'true';
    this.el.querySelector('.chart-wrap')?.setAttribute('aria-busy', 'false');
    this.showOverlay(`Could not load ${this.key}: ${message}`, 'error');
  }

  private setLimits(): void {
    if (!this.chart) return;
    const lim = this.chart.options.plugins!.zoom!.limits!;
    lim.x = this.q.limits(this.ctx.state.value.axis) ?? { min: 'original', max: 'original' };
  }

  private onResize(width: number): void {
    if (this.q.resized(bucketsFor(width, window.devicePixelRatio), this.visible)) {
      window.setTimeout(() => this.q.dirty && this.visible && this.query(), 200);
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
    const zoomed = xo.min !== undefined || xo.max !== undefined;
    if (this.q.settled(zoomed ? [xs.min, xs.max] : null)) this.query();
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
    this.ctx.exportCsv(this.key, this.ctx.state.value.axis, this.q.range);
  }

  /** The chart on the theme's background, with its title and the visible runs' legend. */
  exportPng(): void {
    const chart = this.chart;
    if (!chart) return;
    const t = this.ctx.theme();
    const src = chart.canvas;
    const probe = document.createElement('canvas').getContext('2d')!;
    const L = pngLayout({
      title: this.key,
      chartWidth: src.width,
      chartHeight: src.height,
      dpr: chart.currentDevicePixelRatio,
      fontSize: t.fontSize,
      fontFamily: t.fontFamily,
      runs: this.host.traces.filter((r) => r.visible && r.trace.length > 0).map((r) => r.run),
      measure: (text, font) => {
        probe.font = font;
        return probe.measureText(text).width;
      },
    });
    const out = document.createElement('canvas');
    out.width = L.width;
    out.height = L.height;
    const g = out.getContext('2d')!;
    g.fillStyle = t.background;
    g.fillRect(0, 0, out.width, out.height);
    g.fillStyle = t.foreground;
    g.font = L.title.font;
    g.textBaseline = 'middle';
    g.fillText(L.title.text, L.title.x, L.title.y);
    g.drawImage(src, L.chart.x, L.chart.y);
    g.font = L.legendFont;
    for (const e of L.legend) {
      if (e.swatch) {
        g.fillStyle = e.swatch.color;
        g.fillRect(e.swatch.x, e.swatch.y, e.swatch.w, e.swatch.h);
      }
      g.fillStyle = t.muted;
      g.fillText(e.text, e.x, e.y);
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
    const range = this.q.range;
    if (this.q.hasData) {
      const lacking = visible.filter((r) => r.trace.length === 0);
      if (visible.length === 0) {
        this.showOverlay('All runs are hidden. Show some in the legend above.', 'empty');
      } else if (lacking.length === visible.length) {
        this.showOverlay(range ? 'No points in this range. Press 0 or double-click to reset the zoom.' : `No visible run has logged ${this.key}.`, 'empty');
      } else if (this.q.error) {
        this.showOverlay(this.q.error, 'error');
      } else {
        this.showOverlay(null);
      }
      if (lacking.length && lacking.length < visible.length) {
        const names = lacking.map((r) => (r.run.status === 'queued' || r.run.status === 'running' ? `${r.run.name} (${r.run.status})` : r.run.name));
        const what = range ? 'No points in view from' : 'Not logged by';
        const text = lacking.length <= 3 ? `${what} ${names.join(', ')}` : `${what} ${lacking.length} of ${visible.length} runs`;
        notes.push(h('span', { class: 'note', title: names.join('\n') }, text));
      }
      if (this.host.logY) {
        let dropped = 0;
        for (const r of visible) dropped += r.trace.dropped;
        if (dropped) notes.push(h('span', { class: 'note warn', title: 'A logarithmic axis cannot show zero or negative values; they are left as gaps.' },
          `${dropped.toLocaleString('en-US')} value${dropped === 1 ? '' : 's'} ≤ 0 hidden (log scale)`));
      }
      if (range) notes.push(h('span', { class: 'note' }, 'Zoomed: live updates paused'));
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
