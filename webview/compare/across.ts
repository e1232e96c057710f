/**
 * The Across runs tab: parallel coordinates over the params that differ (+ the primary metric),
 * and a param × metric scatter. Drawn only while the tab is shown.
 */
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { CompareModel } from '../../src/core/compare/protocol.ts';
import { parallelNote } from './pcLayout.ts';
import { h } from './dom.ts';
import { ParallelChart, parallelAxes } from './parallel.ts';
import { ScatterChart } from './scatter.ts';
import type { ViewState } from './state.ts';
import type { Theme } from './theme.ts';

type Select = HTMLElement & { value: string };

export class AcrossTab {
  readonly el: HTMLElement;
  private readonly state: ViewState;
  private readonly parallel: ParallelChart;
  private readonly scatter: ScatterChart;
  private readonly pcWrap: HTMLElement;
  private readonly pcNote: HTMLElement;
  private readonly scWrap: HTMLElement;
  private readonly scNote: HTMLElement;
  private readonly paramSel: Select;
  private readonly metricSel: Select;
  private model: CompareModel | null = null;
  private theme: Theme;
  private active = false;
  private optionsKey = '';

  constructor(state: ViewState, theme: Theme) {
    this.state = state;
    this.theme = theme;
    const pcCanvas = h('canvas', { role: 'img', 'aria-label': 'Parallel coordinates: one line per run across the params that differ and the primary metric' });
    const scCanvas = h('canvas', { role: 'img', 'aria-label': 'Scatter plot: one point per run' });
    this.parallel = new ParallelChart(pcCanvas);
    this.scatter = new ScatterChart(scCanvas);
    this.pcWrap = h('div', { class: 'across-chart pc' }, pcCanvas);
    this.pcNote = h('p', { class: 'section-note' });
    this.scWrap = h('div', { class: 'across-chart sc' }, scCanvas);
    this.scNote = h('p', { class: 'section-note' });
    this.paramSel = h('vscode-single-select', { id: 'scatter-param', 'aria-label': 'Scatter x: parameter', class: 'scatter-select' }) as Select;
    this.metricSel = h('vscode-single-select', { id: 'scatter-metric', 'aria-label': 'Scatter y: metric', class: 'scatter-select' }) as Select;
    const onPick = () => {
      if (!this.paramSel.value || !this.metricSel.value) return;
      this.state.update({ scatter: { param: this.paramSel.value, metric: this.metricSel.value } });
      this.renderScatter();
    };
    this.paramSel.addEventListener('change', onPick);
    this.metricSel.addEventListener('change', onPick);
    this.el = h('div', { class: 'across-tab' },
      h('section', { class: 'card across-card', 'aria-labelledby': 'pc-heading' },
        h('div', { class: 'section-head' }, h('h2', { id: 'pc-heading' }, 'Parallel coordinates')),
        this.pcNote, this.pcWrap),
      h('section', { class: 'card across-card', 'aria-labelledby': 'sc-heading' },
        h('div', { class: 'section-head' }, h('h2', { id: 'sc-heading' }, 'Scatter'), h('span', { class: 'spacer' }),
          h('span', { class: 'tb-label' }, 'x'), this.paramSel, h('span', { class: 'tb-label' }, 'y (last value)'), this.metricSel),
        this.scNote, this.scWrap));
    state.onChange((_v, changed) => {
      if (changed.has('shown')) this.render();
    });
  }

  setModel(model: CompareModel): void {
    this.model = model;
    this.fillSelects();
    this.render();
  }

  setTheme(t: Theme): void {
    this.theme = t;
    this.render();
  }

  setActive(on: boolean): void {
    this.active = on;
    if (on) this.render();
  }

  private shown(): number[] {
    const runs = this.model?.runs ?? [];
    return runs.map((_r, i) => i).filter((i) => !this.state.isHidden(runs[i]!.uid));
  }

  private render(): void {
    if (!this.active || !this.model) return;
    this.renderParallel();
    this.renderScatter();
  }

  private renderParallel(): void {
    const model = this.model!;
    const shown = this.shown();
    const runs = shown.map((i) => model.runs[i]!);
    const axes = parallelAxes(model, shown);
    const params = axes.filter((a) => !a.metric).length;
    if (!runs.length) {
      this.pcNote.textContent = model.runs.length ? 'All runs are hidden.' : 'No runs to compare.';
      this.pcWrap.hidden = true;
      return;
    }
    if (!params) {
      this.pcNote.textContent = runs.length < 2 ? 'Show at least two runs to compare their params.' : 'No parameter differs across the shown runs.';
      this.pcWrap.hidden = true;
      return;
    }
    this.pcWrap.hidden = false;
    const metric = axes.find((a) => a.metric);
    this.pcNote.textContent = parallelNote(params, metric?.label ?? null);
    this.parallel.render(runs, axes, this.theme);
  }

  private fillSelects(): void {
    const model = this.model!;
    const key = JSON.stringify([model.params.map((p) => p.key), model.keys]);
    if (key === this.optionsKey) return;
    this.optionsKey = key;
    const fill = (sel: Select, values: string[]) => {
      sel.replaceChildren(...values.map((v) => h('vscode-option', { value: v }, v)));
    };
    fill(this.paramSel, model.params.map((p) => p.key));
    fill(this.metricSel, model.keys);
  }

  /** The saved choice if it still exists, else a numeric param that differs × the primary metric. */
  private choice(): { param: string; metric: string } | null {
    const model = this.model!;
    if (!model.params.length || !model.keys.length) return null;
    const saved = this.state.value.scatter;
    const params = model.params.map((p) => p.key);
    let param = saved && params.includes(saved.param) ? saved.param : '';
    let metric = saved && model.keys.includes(saved.metric) ? saved.metric : '';
    if (!param) {
      const shown = this.shown();
      const differs = model.params.filter((p) => new Set(shown.map((i) => JSON.stringify(p.values[i] ?? null))).size > 1);
      param = (differs.find((p) => p.values.some((v) => typeof v === 'number')) ?? differs[0] ?? model.params[0]!).key;
    }
    if (!metric) metric = model.primary?.key && model.keys.includes(model.primary.key) ? model.primary.key : model.keys[0]!;
    return { param, metric };
  }

  private renderScatter(): void {
    if (!this.active || !this.model) return;
    const model = this.model;
    const c = this.choice();
    if (!c) {
      this.scNote.textContent = !model.params.length ? 'These runs recorded no parameters.' : 'These runs have logged no metrics yet.';
      this.scWrap.hidden = true;
      return;
    }
    if (this.paramSel.value !== c.param) this.paramSel.value = c.param;
    if (this.metricSel.value !== c.metric) this.metricSel.value = c.metric;
    const shown = this.shown();
    if (!shown.length) {
      this.scNote.textContent = 'All runs are hidden.';
      this.scWrap.hidden = true;
      return;
    }
    const prow = model.params.find((p) => p.key === c.param)!;
    const mrow = model.metrics.find((m) => m.key === c.metric);
    const runs = shown.map((i) => model.runs[i]!);
    const x = shown.map((i) => prow.values[i] ?? null);
    const y = shown.map((i) => mrow?.last[i] ?? null);
    const missing = shown.filter((_i, k) => x[k] === null || y[k] === null).length;
    this.scWrap.hidden = false;
    this.scatter.render({ runs, paramKey: c.param, metricKey: c.metric, x, y }, this.theme);
    this.scNote.textContent = `${c.metric} (last value) against ${c.param}${this.scatter.xLog ? ' on a log axis' : ''}.${missing ? ` ${missing} run${missing === 1 ? ' has' : 's have'} no value for one of them and ${missing === 1 ? 'is' : 'are'} left out.` : ''}`;
  }
}
