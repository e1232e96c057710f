/**
 * Everything that follows the pointer over a metric chart: the crosshair, a dot on each run's
 * hovered point, the HTML tooltip, and the drag-to-zoom rectangle. They are drawn on one shared
 * transparent canvas laid over whichever chart the pointer is on (outside the cards, which hold
 * exactly one canvas each), so hovering never redraws the chart itself (100 runs × 1000 points)
 * and stays smooth. chart.js gets no pointer events (`events: []`); the hovered points come from
 * its registered 'runsAtX' interaction mode.
 */
import type { Chart, ChartEvent } from 'chart.js';
import { h } from './dom.ts';
import type { Theme } from './theme.ts';
import { withAlpha } from './theme.ts';
import type { RunTooltip } from './tooltip.ts';

export type ZoomMode = 'xy' | 'x' | 'y';

export interface HoverLayerOptions {
  tooltip: RunTooltip;
  theme: () => Theme;
  zoomMode: () => ZoomMode;
  /** Called after a drag zoomed the chart. */
  onZoomed: () => void;
  /** Called for a double-click (reset). */
  onReset: () => void;
}

const DRAG_THRESHOLD = 5;
const DASH = [3, 3];
const NO_DASH: number[] = [];

let shared: { canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D | null; owner: HoverLayer | null } | null = null;

function sharedLayer() {
  if (!shared) {
    const canvas = h('canvas', { class: 'hover-layer', 'aria-hidden': 'true' });
    document.body.appendChild(canvas);
    shared = { canvas, ctx: canvas.getContext('2d'), owner: null };
    // The page scrolled under a still pointer: what was drawn no longer matches.
    window.addEventListener('scroll', () => shared?.owner?.clear(), { capture: true, passive: true });
  }
  return shared;
}

export class HoverLayer {
  private readonly opts: HoverLayerOptions;
  private chart: Chart | null = null;
  private pointer: { x: number; y: number } | null = null;
  private drag: { x0: number; y0: number; x1: number; y1: number } | null = null;
  private frame = 0;
  private readonly event = { type: 'mousemove', x: 0, y: 0, native: null } as unknown as ChartEvent;

  constructor(opts: HoverLayerOptions) {
    this.opts = opts;
  }

  attach(chart: Chart): void {
    this.chart = chart;
    const c = chart.canvas;
    c.addEventListener('mousemove', (e) => {
      this.pointer = this.pos(e);
      if (!this.drag) this.schedule();
    });
    c.addEventListener('mouseleave', () => {
      this.pointer = null;
      if (!this.drag) this.schedule();
    });
    c.addEventListener('mousedown', (e) => this.startDrag(e));
    c.addEventListener('dblclick', () => this.opts.onReset());
    c.addEventListener('wheel', () => this.opts.tooltip.hide(), { passive: true });
  }

  /** The chart was redrawn (new data, style, zoom): redraw what follows the pointer. */
  refresh(): void {
    if (this.pointer || this.drag) this.schedule();
  }

  clear(): void {
    this.pointer = null;
    this.drag = null;
    this.opts.tooltip.hide();
    this.schedule();
  }

  private pos(e: MouseEvent): { x: number; y: number } {
    const r = this.chart!.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  // ── drag to zoom ───────────────────────────────────────────────────────────

  private startDrag(e: MouseEvent): void {
    const chart = this.chart;
    // Shift/Ctrl+drag is the zoom plugin's pan; only a plain left drag zooms.
    if (!chart || e.button !== 0 || e.shiftKey || e.ctrlKey || e.metaKey || e.altKey) return;
    const p = this.pos(e);
    const a = chart.chartArea;
    if (p.x < a.left || p.x > a.right || p.y < a.top || p.y > a.bottom) return;
    e.preventDefault();
    this.drag = { x0: p.x, y0: p.y, x1: p.x, y1: p.y };
    const doc = chart.canvas.ownerDocument;
    const move = (ev: MouseEvent) => {
      if (!this.drag) return;
      const q = this.pos(ev);
      this.drag.x1 = Math.max(a.left, Math.min(a.right, q.x));
      this.drag.y1 = Math.max(a.top, Math.min(a.bottom, q.y));
      this.schedule();
    };
    const end = (ev: MouseEvent | null) => {
      doc.removeEventListener('mousemove', move);
      doc.removeEventListener('mouseup', up);
      doc.removeEventListener('keydown', key, true);
      const d = this.drag;
      this.drag = null;
      if (ev && d) this.finishDrag(d);
      this.schedule();
    };
    const up = (ev: MouseEvent) => end(ev);
    const key = (ev: KeyboardEvent) => {
      if (ev.key === 'Escape') {
        ev.stopPropagation();
        end(null);
      }
    };
    doc.addEventListener('mousemove', move);
    doc.addEventListener('mouseup', up);
    doc.addEventListener('keydown', key, true);
    this.opts.tooltip.hide();
  }

  private finishDrag(d: { x0: number; y0: number; x1: number; y1: number }): void {
    const chart = this.chart;
    if (!chart) return;
    const mode = this.opts.zoomMode();
    const dx = mode !== 'y' ? Math.abs(d.x1 - d.x0) : 0;
    const dy = mode !== 'x' ? Math.abs(d.y1 - d.y0) : 0;
    if (Math.hypot(dx, dy) <= DRAG_THRESHOLD) return;
    const a = chart.chartArea;
    const p0 = { x: mode === 'y' ? a.left : Math.min(d.x0, d.x1), y: mode === 'x' ? a.top : Math.min(d.y0, d.y1) };
    const p1 = { x: mode === 'y' ? a.right : Math.max(d.x0, d.x1), y: mode === 'x' ? a.bottom : Math.max(d.y0, d.y1) };
    chart.zoomRect(p0, p1, 'none');
    this.opts.onZoomed();
  }

  // ── drawing ────────────────────────────────────────────────────────────────

  /** Lays the shared canvas over this chart's canvas; returns the device pixel ratio. */
  private claim(layer: { canvas: HTMLCanvasElement; owner: HoverLayer | null }): number {
    const chart = this.chart!;
    const src = chart.canvas;
    const dpr = chart.currentDevicePixelRatio || 1;
    const r = src.getBoundingClientRect();
    const c = layer.canvas;
    const w = Math.round(r.width * dpr);
    const hgt = Math.round(r.height * dpr);
    if (c.width !== w) c.width = w;
    if (c.height !== hgt) c.height = hgt;
    const s = c.style;
    s.width = `${r.width}px`;
    s.height = `${r.height}px`;
    s.transform = `translate(${r.left}px, ${r.top}px)`;
    layer.owner = this;
    return dpr;
  }
  private draw(): void {
    const chart = this.chart;
    const layer = sharedLayer();
    const g = layer.ctx;
    if (!chart || !g) return;
    const active = !!this.drag || !!this.pointer;
    if (!active) {
      // Only the chart that drew last clears the layer.
      if (layer.owner === this) {
        g.setTransform(1, 0, 0, 1, 0, 0);
        g.clearRect(0, 0, layer.canvas.width, layer.canvas.height);
        layer.owner = null;
      }
      this.opts.tooltip.hide();
      return;
    }
    const dpr = this.claim(layer);
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, layer.canvas.width, layer.canvas.height);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const t = this.opts.theme();
    const a = chart.chartArea;

    if (this.drag) {
      const mode = this.opts.zoomMode();
      const d = this.drag;
      const x = mode === 'y' ? a.left : Math.min(d.x0, d.x1);
      const w = mode === 'y' ? a.right - a.left : Math.abs(d.x1 - d.x0);
      const y = mode === 'x' ? a.top : Math.min(d.y0, d.y1);
      const hgt = mode === 'x' ? a.bottom - a.top : Math.abs(d.y1 - d.y0);
      g.fillStyle = t.selection;
      g.fillRect(x, y, w, hgt);
      g.strokeStyle = t.focus;
      g.lineWidth = 1;
      g.setLineDash(NO_DASH);
      g.strokeRect(Math.round(x) + 0.5, Math.round(y) + 0.5, Math.round(w), Math.round(hgt));
      return;
    }

    const p = this.pointer;
    if (!p || p.x < a.left || p.x > a.right || p.y < a.top || p.y > a.bottom) {
      this.opts.tooltip.hide();
      return;
    }
    const ev = this.event as unknown as { x: number; y: number };
    ev.x = p.x;
    ev.y = p.y;
    const items = chart.getElementsAtEventForMode(this.event as unknown as Event, 'runsAtX', { intersect: false }, false);

    g.strokeStyle = withAlpha(t.foreground, 0.4);
    g.lineWidth = 1;
    g.setLineDash(DASH);
    g.beginPath();
    const cx = Math.round(p.x) + 0.5;
    g.moveTo(cx, a.top);
    g.lineTo(cx, a.bottom);
    g.stroke();
    g.setLineDash(NO_DASH);

    g.lineWidth = 1.5;
    g.strokeStyle = t.background;
    for (const it of items) {
      const el = it.element as unknown as { x: number; y: number; options: { borderColor: string } };
      if (el.y < a.top - 1 || el.y > a.bottom + 1) continue;
      const ds = chart.data.datasets[it.datasetIndex] as { pointHoverBackgroundColor?: string } | undefined;
      g.fillStyle = ds?.pointHoverBackgroundColor ?? el.options.borderColor;
      g.beginPath();
      g.arc(el.x, el.y, 3.2, 0, Math.PI * 2);
      g.fill();
      g.stroke();
    }
    this.opts.tooltip.render(chart, items, p);
  }
}
