/**
 * The metric charts' tooltip, in HTML: every visible run's value at the hovered x, sorted by
 * value, in the run's colour, with the bucket's min–max when it holds several points. With 100
 * runs it lists the first MAX_ROWS and says how many more, always keeping the run nearest to the
 * pointer (emphasised). Rows are pooled: hovering allocates no DOM.
 */
import type { Chart, InteractionItem } from 'chart.js';
import type { XAxis } from '../../src/core/compare/protocol.ts';
import { h } from './dom.ts';
import { formatX } from './format.ts';
import { metricValue } from '../../src/core/format.ts';
import { lineHosts, type TraceRef } from './lineHost.ts';

const MAX_ROWS = 12;

interface Row {
  el: HTMLElement;
  swatch: HTMLElement;
  name: HTMLElement;
  value: HTMLElement;
  extra: HTMLElement;
}

interface Entry {
  ref: TraceRef;
  index: number;
  value: number;
  py: number;
}

export class RunTooltip {
  readonly el: HTMLElement;
  private readonly title: HTMLElement;
  private readonly list: HTMLElement;
  private readonly more: HTMLElement;
  private readonly rows: Row[] = [];
  private readonly entries: Entry[] = [];

  private readonly axis: () => XAxis;
  private readonly byDataset: (datasetIndex: number) => TraceRef | undefined;

  constructor(axis: () => XAxis, byDataset: (datasetIndex: number) => TraceRef | undefined) {
    this.axis = axis;
    this.byDataset = byDataset;
    this.title = h('div', { class: 'tt-title' });
    this.list = h('div', { class: 'tt-list' });
    this.more = h('div', { class: 'tt-more' });
    this.el = h('div', { class: 'chart-tooltip', role: 'status', 'aria-live': 'off', hidden: true }, this.title, this.list, this.more);
  }

  hide(): void {
    this.el.hidden = true;
  }

  render(chart: Chart, items: InteractionItem[], pointer: { x: number; y: number }): void {
    const host = lineHosts.get(chart);
    if (!host || !items.length) {
      this.hide();
      return;
    }
    const smooth = host.smoothing > 0;
    const entries = this.entries;
    entries.length = 0;
    for (const it of items) {
      const ref = this.byDataset(it.datasetIndex);
      if (!ref) continue;
      const y = (smooth ? ref.trace.smooth : ref.trace.raw)[it.index]?.y;
      if (y === null || y === undefined) continue;
      entries.push({ ref, index: it.index, value: y, py: it.element.y });
    }
    if (!entries.length) {
      this.hide();
      return;
    }
    entries.sort((a, b) => b.value - a.value);
    // The run nearest to the pointer is always listed, and emphasised.
    let hot = 0;
    const py = pointer.y;
    for (let i = 1; i < entries.length; i++) if (Math.abs(entries[i]!.py - py) < Math.abs(entries[hot]!.py - py)) hot = i;
    const shown = Math.min(entries.length, MAX_ROWS);
    if (hot >= shown) {
      const [e] = entries.splice(hot, 1);
      entries.splice(shown - 1, 0, e!);
      hot = shown - 1;
    }

    const xv = chart.scales.x!.getValueForPixel(pointer.x) ?? 0;
    const axis = this.axis();
    this.title.textContent = formatX(axis, axis === 'step' ? Math.round(xv) : xv);
    while (this.rows.length < shown) this.rows.push(this.makeRow());
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i]!;
      if (i >= shown) {
        row.el.hidden = true;
        continue;
      }
      const e = entries[i]!;
      const t = e.ref.trace;
      row.el.hidden = false;
      row.el.classList.toggle('hot', i === hot);
      row.swatch.style.backgroundColor = e.ref.run.color;
      row.name.textContent = e.ref.run.name;
      row.value.textContent = metricValue(e.value, { missing: '—' });
      let extra = '';
      if (smooth) extra = `raw ${metricValue(t.last[e.index], { missing: '—' })}`;
      const c = t.count[e.index] ?? 1;
      if (c > 1) extra += `${extra ? ' · ' : ''}${metricValue(t.min[e.index], { missing: '—' })} – ${metricValue(t.max[e.index], { missing: '—' })} (${c} pts)`;
      row.extra.textContent = extra;
    }
    const rest = entries.length - shown;
    this.more.hidden = rest <= 0;
    this.more.textContent = rest > 0 ? `… and ${rest} more` : '';
    this.el.hidden = false;
    this.place(chart, pointer.x, py);
  }

  private makeRow(): Row {
    const swatch = h('span', { class: 'swatch' });
    const name = h('span', { class: 'tt-name' });
    const value = h('span', { class: 'tt-value' });
    const extra = h('span', { class: 'tt-extra' });
    const el = h('div', { class: 'tt-row' }, swatch, name, value, extra);
    this.list.appendChild(el);
    return { el, swatch, name, value, extra };
  }

  private place(chart: Chart, cx: number, cy: number): void {
    const box = this.el;
    const x = cx + chart.canvas.offsetLeft;
    const y = cy + chart.canvas.offsetTop;
    const parent = box.offsetParent as HTMLElement | null;
    const pw = parent?.clientWidth ?? chart.width;
    const ph = parent?.clientHeight ?? chart.height;
    const w = box.offsetWidth;
    const hgt = box.offsetHeight;
    let left = x + 14;
    if (left + w > pw - 4) left = Math.max(4, x - 14 - w);
    let top = y - hgt / 2;
    top = Math.max(4, Math.min(top, Math.max(4, ph - hgt - 4)));
    box.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
  }
}
