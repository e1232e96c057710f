/**
 * The header: which runs are drawn, and the shared legend. Each run is a chip (swatch, name, status)
 * that shows or hides the run everywhere; Alt+click (Alt+Enter) shows only that run. With many runs
 * the best N by the primary metric are drawn, with the choice of N and a "show all" next to the count;
 * the run filter finds any run (by name or `param=value`), and "Show only these" draws what it found.
 * Chips are updated in place, so a model refresh keeps focus and scroll position.
 */
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { CompareModel, CompareRun } from '../../src/core/compare/protocol.ts';
import type { RunStatus } from '../../src/core/types.ts';
import { debounce, h } from './dom.ts';
import { type RunScope, runMatcher, TOP_N_CHOICES } from './runScope.ts';
import type { ViewState } from './state.ts';

interface Chip {
  btn: HTMLButtonElement;
  swatch: HTMLElement;
  name: HTMLElement;
  status: HTMLElement;
}

const STATUS_TEXT: Record<RunStatus, string> = {
  queued: 'queued',
  running: 'running',
  finished: 'finished',
  failed: 'failed',
  stopped: 'stopped',
  crashed: 'crashed',
};

/** More chips than this are not made: the filter finds the others. */
const MAX_CHIPS = 200;
const n = (v: number) => v.toLocaleString('en-US');
const plural = (v: number, word: string) => `${n(v)} ${word}${v === 1 ? '' : 's'}`;

type Field = HTMLElement & { value: string };

export class Legend {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private readonly count: HTMLElement;
  private readonly expand: HTMLElement;
  private readonly showAll: HTMLElement;
  private readonly hideAll: HTMLElement;
  private readonly topSelect: Field;
  /** In the top-N choice while runs are isolated ("show only"). */
  private readonly chosenOption: HTMLElement;
  private wantedTop = '0';
  private readonly filter: Field;
  private readonly filterNote: HTMLElement;
  private readonly onlyThese: HTMLElement;
  private readonly filterRow: HTMLElement;
  private readonly chips = new Map<string, Chip>();
  private readonly state: ViewState;
  private model: CompareModel | null = null;
  private runs: CompareRun[] = [];
  /** Model indexes the filter matches (all runs when it is empty). */
  private matches: number[] = [];

  constructor(state: ViewState) {
    this.state = state;
    this.count = h('span', { class: 'run-count', 'aria-live': 'polite' });
    this.showAll = h('vscode-toolbar-button', { label: 'Show all runs', title: 'Show all runs', class: 'text-tool', id: 'show-all-runs' }, 'Show all');
    this.hideAll = h('vscode-toolbar-button', { label: 'Hide all runs', title: 'Hide all runs', class: 'text-tool' }, 'Hide all');
    this.showAll.addEventListener('click', () => this.state.update({ hiddenRuns: [], onlyRuns: undefined, topN: 0 }));
    this.hideAll.addEventListener('click', () => this.state.update({ hiddenRuns: this.state.scopeRuns().map((r) => r.uid) }));

    this.topSelect = h('vscode-single-select', { id: 'top-n', 'aria-label': 'How many runs to draw: the best by the primary metric', class: 'top-select' }) as Field;
    for (const k of TOP_N_CHOICES) this.topSelect.appendChild(h('vscode-option', { value: String(k) }, `Best ${k}`));
    this.topSelect.appendChild(h('vscode-option', { value: '0' }, 'All runs'));
    this.chosenOption = h('vscode-option', { value: 'chosen' }, 'Chosen runs');
    this.topSelect.addEventListener('change', () => {
      if (this.topSelect.value === 'chosen') return;
      const v = Number(this.topSelect.value);
      if (Number.isInteger(v) && v >= 0) this.state.update({ topN: v, onlyRuns: undefined });
    });

    this.filter = h('vscode-textfield', {
      id: 'run-filter', type: 'search', class: 'run-filter', placeholder: 'Filter runs: name, lr=0.01, val_acc>0.9',
      'aria-label': 'Filter runs by name or param (key=value, key<number). Enter shows only the runs found.',
    }) as Field;
    this.filter.value = state.value.runFilter ?? '';
    const push = debounce(() => this.state.update({ runFilter: this.filter.value }), 150);
    this.filter.addEventListener('input', push);
    this.filter.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.filter.value) {
        e.preventDefault();
        this.filter.value = '';
        push.cancel();
        this.state.update({ runFilter: '' });
      } else if (e.key === 'Enter') {
        push.cancel();
        this.state.update({ runFilter: this.filter.value });
        this.showOnlyMatches();
      }
    });
    this.filterNote = h('span', { class: 'filter-note', 'aria-live': 'polite' });
    this.onlyThese = h('vscode-toolbar-button', { class: 'text-tool', id: 'show-only-matches', label: 'Draw only the runs the filter found' }, 'Show only these');
    this.onlyThese.addEventListener('click', () => this.showOnlyMatches());
    this.filterRow = h('div', { class: 'legend-filter' }, this.filter, this.filterNote, this.onlyThese);

    this.list = h('div', { id: 'run-legend', class: 'legend', role: 'group', 'aria-label': 'Runs: click to show or hide, Alt+click or Alt+Enter to show only one' });
    this.list.addEventListener('keydown', (e) => {
      const uid = (e.target as HTMLElement).closest<HTMLElement>('.run-chip')?.dataset.uid;
      if (uid && e.key === 'Enter' && e.altKey) {
        e.preventDefault();
        this.toggle(uid, true);
      }
    });
    // Many runs: the legend is a few rows tall and scrolls; this expands it to all rows.
    this.expand = h('vscode-toolbar-button', { class: 'text-tool', hidden: true, 'aria-controls': 'run-legend' }) as HTMLElement;
    this.expand.addEventListener('click', () => {
      this.list.classList.toggle('expanded');
      this.renderExpand();
    });
    this.el = h('div', { class: 'legend-bar' },
      h('div', { class: 'legend-head' },
        h('h1', { class: 'title' }, 'Compare runs'),
        this.count,
        h('span', { class: 'spacer' }),
        this.topSelect, this.expand, this.showAll, this.hideAll),
      this.filterRow,
      this.list);
    new ResizeObserver(() => this.renderExpand()).observe(this.list);
    state.onChange((s, changed) => {
      if (changed.has('runFilter') && this.filter.value !== (s.runFilter ?? '')) this.filter.value = s.runFilter ?? '';
      if (changed.has('shown') || changed.has('runFilter')) this.render();
    });
  }

  setModel(model: CompareModel): void {
    this.model = model;
    this.render();
  }

  /** The chips: the runs the filter finds, else the runs in scope (best first when drawing the top N). */
  private render(): void {
    const model = this.model;
    const scope = this.state.scope;
    if (!model || !scope) return;
    const query = this.state.value.runFilter ?? '';
    const match = runMatcher(query, model);
    this.matches = query.trim() ? scope.ranked.filter(match) : [];
    const inScope = new Set(scope.scope.map((r) => r.uid));
    const listed = query.trim()
      ? this.matches.map((i) => model.runs[i]!)
      : scope.mode === 'top' ? scope.ranked.map((i) => model.runs[i]!).filter((r) => inScope.has(r.uid)) : scope.scope;
    this.runs = listed.slice(0, MAX_CHIPS);
    this.renderChips(inScope);
    if (listed.length > MAX_CHIPS) {
      this.list.appendChild(h('span', { class: 'legend-more' }, `+${n(listed.length - MAX_CHIPS)} more: filter to find them`));
    }
    this.renderCount(model, scope);
    const filtering = query.trim() !== '';
    this.filterNote.textContent = filtering ? `${plural(this.matches.length, 'run')} found` : '';
    const applied = scope.mode === 'only' && scope.scope.length === this.matches.length && this.matches.every((i) => inScope.has(model.runs[i]!.uid));
    this.onlyThese.hidden = !filtering || this.matches.length === 0 || applied;
    this.filterRow.hidden = model.runs.length <= TOP_N_CHOICES[0]!;
    this.topSelect.hidden = model.runs.length <= TOP_N_CHOICES[0]!;
    const top = scope.mode === 'top' ? String(scope.limit) : scope.mode === 'only' ? 'chosen' : '0';
    this.wantedTop = top;
    for (const o of this.topSelect.querySelectorAll('vscode-option')) o.toggleAttribute('selected', o.getAttribute('value') === top);
    const chosen = scope.mode === 'only';
    if (chosen !== this.chosenOption.isConnected) {
      if (chosen) this.topSelect.appendChild(this.chosenOption);
      else this.chosenOption.remove();
      this.chosenOption.toggleAttribute('selected', chosen);
      // the select reads its options again on its slot change: choose after that
      requestAnimationFrame(() => { if (this.topSelect.value !== this.wantedTop) this.topSelect.value = this.wantedTop; });
    } else if (this.topSelect.value !== top) this.topSelect.value = top;
  }

  private renderChips(inScope: Set<string>): void {
    const seen = new Set<string>();
    let prev: HTMLElement | null = null;
    for (const run of this.runs) {
      seen.add(run.uid);
      let chip = this.chips.get(run.uid);
      if (!chip) {
        chip = this.makeChip(run.uid);
        this.chips.set(run.uid, chip);
      }
      chip.swatch.style.backgroundColor = run.color;
      chip.swatch.style.borderColor = run.color;
      chip.name.textContent = run.name;
      chip.status.className = `status status-${run.status}`;
      chip.status.title = STATUS_TEXT[run.status];
      chip.btn.dataset.status = run.status;
      const off = this.state.isHidden(run.uid);
      const out = !inScope.has(run.uid);
      chip.btn.title = `${run.name} · ${STATUS_TEXT[run.status]}${run.experiment ? ` · ${run.experiment}` : ''}\n`
        + (out ? 'Not drawn: click to draw it too' : 'Click to show or hide') + ' · Alt+click to show only this run';
      chip.btn.setAttribute('aria-pressed', String(!off));
      chip.btn.setAttribute('aria-label', `${run.name}, ${STATUS_TEXT[run.status]}, ${off ? 'hidden' : 'shown'}`);
      chip.btn.classList.toggle('off', off);
      const want: ChildNode | null = prev ? prev.nextSibling : this.list.firstChild;
      if (want !== chip.btn) this.list.insertBefore(chip.btn, want);
      prev = chip.btn;
    }
    for (const [uid, chip] of this.chips) {
      if (!seen.has(uid)) {
        chip.btn.remove();
        this.chips.delete(uid);
      }
    }
    for (const extra of this.list.querySelectorAll('.legend-more')) extra.remove();
    this.list.classList.toggle('many', this.runs.length > 24);
    this.renderExpand();
  }

  /** "1,000 runs · 3 hidden", or "Showing the best 20 of 1,000 runs by val_acc". */
  private renderCount(model: CompareModel, scope: RunScope): void {
    const { mode, limit } = scope;
    const total = model.runs.length;
    const inScope = scope.scope.length;
    const hidden = inScope - scope.shown.size;
    const best = scope.byPrimary && model.primary;
    const text = mode === 'top' ? `Showing the ${best ? 'best' : 'first'} ${n(limit)} of ${plural(total, 'run')}${best ? ` by ${best.key}` : ''}`
      : mode === 'only' ? `Showing ${n(inScope)} of ${plural(total, 'run')}` : plural(total, 'run');
    this.count.textContent = `${text}${hidden ? ` · ${n(hidden)} hidden` : ''}`;
    this.showAll.textContent = mode === 'all' ? 'Show all' : `Show all ${n(total)}`;
    this.showAll.hidden = total < 2 || (mode === 'all' && !hidden);
    this.hideAll.hidden = total < 2;
  }

  private renderExpand(): void {
    const expanded = this.list.classList.contains('expanded');
    const overflows = this.list.scrollHeight > this.list.clientHeight + 2;
    this.expand.hidden = !expanded && !overflows;
    this.expand.textContent = expanded ? 'Fewer rows' : 'More rows';
    this.expand.setAttribute('label', expanded ? 'Show fewer legend rows' : 'Show more legend rows');
    this.expand.setAttribute('aria-expanded', String(expanded));
  }

  private makeChip(uid: string): Chip {
    const swatch = h('span', { class: 'swatch' });
    const name = h('span', { class: 'chip-name' });
    const status = h('span', { class: 'status' });
    const btn = h('button', { type: 'button', class: 'run-chip', 'data-uid': uid }, swatch, name, status);
    btn.addEventListener('click', (e) => this.toggle(uid, e.altKey));
    return { btn, swatch, name, status };
  }

  /** Draw only the runs the filter found. */
  private showOnlyMatches(): void {
    const model = this.model;
    if (!model || !this.matches.length) return;
    const uids = this.matches.map((i) => model.runs[i]!.uid);
    const found = new Set(uids);
    this.state.update({ onlyRuns: uids, hiddenRuns: this.state.value.hiddenRuns.filter((u) => !found.has(u)) });
  }

  /** Click: show or hide a run (a run out of scope joins the drawn ones); solo: show only it (again: back). */
  private toggle(uid: string, solo: boolean): void {
    const scope = this.state.scopeRuns().map((r) => r.uid);
    const hidden = new Set(this.state.value.hiddenRuns);
    if (solo) {
      const only = this.state.value.onlyRuns;
      if (only?.length === 1 && only[0] === uid) this.state.update({ onlyRuns: undefined });
      else {
        hidden.delete(uid);
        this.state.update({ onlyRuns: [uid], hiddenRuns: [...hidden] });
      }
      return;
    }
    if (!scope.includes(uid)) {
      hidden.delete(uid);
      this.state.update({ onlyRuns: [...scope, uid], hiddenRuns: [...hidden] });
      return;
    }
    if (hidden.has(uid)) hidden.delete(uid);
    else hidden.add(uid);
    this.state.update({ hiddenRuns: [...hidden] });
  }
}
