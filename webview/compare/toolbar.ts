/**
 * The toolbar: metric filter, smoothing, x axis, log y, and the zoom hint.
 * Every control writes the view state; the charts follow the state.
 */
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { XAxis } from '../../src/core/compare/protocol.ts';
import { debounce, h } from './dom.ts';
import type { ViewState } from './state.ts';

const AXIS_LABELS: [XAxis, string][] = [
  ['step', 'Step'],
  ['time', 'Wall time'],
  ['relative', 'Relative time'],
];

export class Toolbar {
  readonly el: HTMLElement;
  private readonly search: HTMLElement & { value: string };
  private readonly range: HTMLInputElement;
  private readonly out: HTMLOutputElement;
  private readonly axis: HTMLElement & { value: string };
  private readonly log: HTMLElement & { checked: boolean };
  private readonly count: HTMLElement;
  private readonly searchGroup: HTMLElement;
  /** Smoothing, x axis, log y, zoom hint: shown on the charts tab only. */
  private readonly chartOnly: HTMLElement[];
  private readonly state: ViewState;

  constructor(state: ViewState) {
    this.state = state;
    const s = state.value;
    this.search = h('vscode-textfield', {
      id: 'metric-search', type: 'search', placeholder: 'Filter metrics (text or regex)',
      'aria-label': 'Filter metrics by name', class: 'search',
    }) as HTMLElement & { value: string };
    this.search.value = s.search;
    const pushSearch = debounce(() => this.state.update({ search: this.search.value }), 120);
    this.search.addEventListener('input', pushSearch);
    this.search.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.search.value) {
        this.search.value = '';
        this.state.update({ search: '' });
      }
    });
    this.count = h('span', { class: 'filter-count', 'aria-live': 'polite' });

    this.range = h('input', {
      id: 'smoothing', type: 'range', min: 0, max: 0.99, step: 0.01, class: 'slider',
      'aria-label': 'Smoothing (exponential moving average weight)',
    });
    this.range.value = String(s.smoothing);
    this.out = h('output', { for: 'smoothing', class: 'slider-value' });
    // While dragging, restyle the charts at most every 150 ms; the release applies the last value.
    let last = 0;
    let timer = 0;
    const apply = () => {
      window.clearTimeout(timer);
      timer = 0;
      last = performance.now();
      this.state.update({ smoothing: Number(this.range.value) });
    };
    this.range.addEventListener('input', () => {
      this.renderSmoothing();
      const wait = 150 - (performance.now() - last);
      if (wait <= 0) apply();
      else if (!timer) timer = window.setTimeout(apply, wait);
    });
    this.range.addEventListener('change', apply);

    this.axis = h('vscode-single-select', { id: 'x-axis', 'aria-label': 'X axis', class: 'axis-select' }) as HTMLElement & { value: string };
    for (const [v, label] of AXIS_LABELS) {
      this.axis.appendChild(h('vscode-option', { value: v, selected: v === s.axis }, label));
    }
    this.axis.addEventListener('change', () => {
      const v = this.axis.value as XAxis;
      if (AXIS_LABELS.some(([a]) => a === v)) this.state.update({ axis: v });
    });

    this.log = h('vscode-checkbox', { id: 'log-y', label: 'Log y' }) as HTMLElement & { checked: boolean };
    this.log.checked = s.logY;
    this.log.addEventListener('change', () => this.state.update({ logY: this.log.checked }));

    const hint = h('span', { class: 'hint', title: 'Keyboard: focus a chart, then + / − zoom, arrow keys pan, 0 resets' },
      'Drag to zoom · Shift+drag to pan · Ctrl+wheel zooms · Double-click resets');

    this.searchGroup = h('div', { class: 'tb-group grow' }, this.search, this.count);
    this.chartOnly = [
      h('label', { class: 'tb-group', for: 'smoothing' }, h('span', { class: 'tb-label' }, 'Smoothing'), this.range, this.out),
      h('div', { class: 'tb-group' }, h('span', { class: 'tb-label', id: 'x-axis-label' }, 'X axis'), this.axis),
      h('div', { class: 'tb-group' }, this.log),
      hint,
    ];
    this.el = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Chart options' }, this.searchGroup, ...this.chartOnly);
    this.axis.setAttribute('aria-labelledby', 'x-axis-label');
    this.renderSmoothing();
    this.setTab(s.tab);
    state.onChange((v, changed) => {
      if (changed.has('tab')) this.setTab(v.tab);
      if (changed.has('search') && this.search.value !== v.search) this.search.value = v.search;
      if (changed.has('axis') && this.axis.value !== v.axis) this.axis.value = v.axis;
      if (changed.has('logY')) this.log.checked = v.logY;
    });
  }

  /** Chart options on the charts tab; the metric filter on charts and tables (it filters the metrics table). */
  setTab(tab: string): void {
    for (const el of this.chartOnly) el.hidden = tab !== 'charts';
    this.searchGroup.hidden = tab !== 'charts' && tab !== 'tables';
    this.el.hidden = this.searchGroup.hidden;
  }

  setCount(shown: number, total: number): void {
    this.count.textContent = shown === total ? '' : `${shown} of ${total}`;
  }

  private renderSmoothing(): void {
    const v = Number(this.range.value);
    this.out.textContent = v === 0 ? 'off' : v.toFixed(2);
    this.range.style.setProperty('--fill', `${(v / 0.99) * 100}%`);
  }
}
