/**
 * The Charts tab: one card per metric key in a responsive grid. Cards query only while on screen
 * (IntersectionObserver); answers and live appends are routed to the card of their key.
 */
import type { CompareModel, HostMessage, XAxis } from '../../src/core/compare/protocol.ts';
import { ChartView, type ChartContext } from './chartCard.ts';
import { h } from './dom.ts';
import { keyMatcher } from './format.ts';
import { post } from './host.ts';
import type { Change, ViewState } from './state.ts';
import type { Theme } from './theme.ts';

export class ChartsTab {
  readonly el: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly views = new Map<string, ChartView>();
  private readonly io: IntersectionObserver;
  private readonly state: ViewState;
  private model: CompareModel | null = null;
  private theme: Theme;
  private requestSeq = 0;
  private readonly observed = new WeakSet<ChartView>();
  private runsSig = '';
  private readonly ctx: ChartContext;
  /** Called with (shown, total) whenever the filter or the keys change. */
  onCount: (shown: number, total: number) => void = () => {};

  constructor(state: ViewState, theme: Theme) {
    this.state = state;
    this.theme = theme;
    this.grid = h('div', { class: 'chart-grid' });
    this.empty = h('div', { class: 'empty-state', hidden: true });
    this.el = h('div', { class: 'charts-tab' }, this.empty, this.grid);
    this.ctx = {
      state,
      theme: () => this.theme,
      runs: () => state.scopeRuns(),
      isPrimary: (key) => this.model?.primary?.key === key,
      query: (key, axis, range, buckets) => {
        const requestId = ++this.requestSeq;
        // only the runs the chart draws: the top N of a sweep, not all of it
        const scope = state.scopeRuns();
        const all = scope.length === (this.model?.runs.length ?? 0);
        post({ type: 'query', requestId, key, axis, range, buckets, ...(all ? {} : { runIds: scope.map((r) => r.id) }) });
        return requestId;
      },
      exportPng: (key, dataUrl) => post({ type: 'exportPng', key, dataUrl }),
      exportCsv: (key, axis, range) => post({ type: 'exportCsv', key, axis, range }),
    };
    this.io = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const key = (e.target as HTMLElement).dataset.key;
        const v = key !== undefined ? this.views.get(key) : undefined;
        v?.setVisible(e.isIntersecting);
      }
    }, { rootMargin: '150px 0px' });
  }

  /** A new or changed model: add/remove cards and datasets in place. */
  setModel(model: CompareModel): void {
    this.model = model;
    // While runs are live the model changes every few hundred ms (summaries change);
    // the charts only care about which runs they draw and how they look.
    const runsChanged = this.scopeChanged();
    const order = [...model.keys];
    const p = model.primary?.key;
    if (p && order.includes(p)) {
      order.splice(order.indexOf(p), 1);
      order.unshift(p);
    }
    const keep = new Set(order);
    for (const [k, v] of this.views) {
      if (!keep.has(k)) {
        this.io.unobserve(v.el);
        v.destroy();
        this.views.delete(k);
      }
    }
    let prev: HTMLElement | null = null;
    for (const k of order) {
      let v = this.views.get(k);
      if (!v) {
        v = new ChartView(k, this.ctx);
        this.views.set(k, v);
      } else if (runsChanged) {
        const added = v.syncRuns();
        if (added && v.visible) v.query();
        else if (v.visible) v.restyle();
      }
      // Keep DOM order = key order, moving only what is out of place.
      const want: ChildNode | null = prev ? prev.nextSibling : this.grid.firstChild;
      if (want !== v.el) this.grid.insertBefore(v.el, want);
      if (!v.el.isConnected || !this.observed.has(v)) {
        this.io.observe(v.el);
        this.observed.add(v);
      }
      prev = v.el;
    }
    this.applyFilter();
  }

  onStateChange(changed: ReadonlySet<Change>): void {
    if (changed.has('axis')) for (const v of this.views.values()) v.resetData();
    if (changed.has('shown') && this.scopeChanged()) this.syncRuns();
    else if (changed.has('smoothing') || changed.has('logY') || changed.has('shown')) {
      for (const v of this.views.values()) v.restyle();
    }
    if (changed.has('search') || changed.has('shown')) this.applyFilter();
  }

  /** After an error the host could not follow: every chart asks again (now if on screen). */
  requeryAll(): void {
    for (const v of this.views.values()) v.resetData();
  }

  /** True when the runs the charts draw (or how they look, or the primary metric) changed since last asked. */
  private scopeChanged(): boolean {
    const sig = JSON.stringify([this.state.scopeRuns().map((r) => [r.id, r.name, r.color, r.status]), this.model?.primary?.key]);
    const changed = sig !== this.runsSig;
    this.runsSig = sig;
    return changed;
  }

  /** Datasets follow the runs in scope: a chart with a new run asks again, the others restyle. */
  private syncRuns(): void {
    for (const v of this.views.values()) {
      const added = v.syncRuns();
      if (added && v.visible) v.query();
      else if (v.visible) v.restyle();
    }
  }

  setTheme(t: Theme): void {
    this.theme = t;
    for (const v of this.views.values()) v.applyTheme();
  }

  onSeries(msg: Extract<HostMessage, { type: 'series' }>): void {
    this.views.get(msg.key)?.onSeries(msg);
  }

  onAppend(msg: Extract<HostMessage, { type: 'append' }>): void {
    this.views.get(msg.key)?.onAppend(msg);
  }

  /** An error answer: the card whose query it was shows it. */
  onError(requestId: number, message: string): boolean {
    for (const v of this.views.values()) {
      if (v.pendingId === requestId) {
        v.onError(message);
        return true;
      }
    }
    return false;
  }

  axis(): XAxis {
    return this.state.value.axis;
  }

  private applyFilter(): void {
    const model = this.model;
    const match = keyMatcher(this.state.value.search);
    let shown = 0;
    for (const [k, v] of this.views) {
      const on = match(k);
      v.el.hidden = !on;
      if (on) shown++;
    }
    const total = this.views.size;
    this.onCount(shown, total);
    let msg: string | null = null;
    let detail = '';
    if (!model || model.runs.length === 0) {
      msg = 'No runs to compare.';
      detail = 'Select runs in the RunLens view and choose Compare.';
    } else if (total === 0) {
      msg = 'These runs have logged no metrics yet.';
      detail = model.runs.some((r) => r.status === 'running' || r.status === 'queued')
        ? 'Charts appear here as soon as a run logs its first metric.'
        : 'Metrics are logged with runlens.log() or parsed from the run’s output.';
    } else if (shown === 0) {
      msg = `No metric matches “${this.state.value.search}”.`;
      detail = `${total} metric${total === 1 ? '' : 's'} in all. Clear the filter to see them.`;
    } else if (this.state.scopeRuns().every((r) => this.state.isHidden(r.uid))) {
      msg = 'All runs are hidden.';
      detail = 'Click runs in the legend above to show them again.';
    }
    this.empty.hidden = msg === null;
    this.empty.replaceChildren(...(msg ? [h('p', { class: 'empty-title' }, msg), h('p', { class: 'empty-detail' }, detail)] : []));
  }
}
