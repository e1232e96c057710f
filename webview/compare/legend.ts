/**
 * The header: how many runs, and the shared legend. Each run is a chip (swatch, name, status)
 * that shows or hides the run in every chart and table; Alt+click shows only that run.
 * Chips are updated in place, so a model refresh keeps focus and scroll position.
 */
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import type { CompareRun } from '../../src/core/compare/protocol.ts';
import type { RunStatus } from '../../src/core/types.ts';
import { h } from './dom.ts';
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

export class Legend {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private readonly count: HTMLElement;
  private readonly expand: HTMLElement;
  private readonly bulk: HTMLElement[];
  private readonly chips = new Map<string, Chip>();
  private readonly state: ViewState;
  private runs: CompareRun[] = [];

  constructor(state: ViewState) {
    this.state = state;
    this.count = h('span', { class: 'run-count', 'aria-live': 'polite' });
    const showAll = h('vscode-toolbar-button', { label: 'Show all runs', title: 'Show all runs', class: 'text-tool' }, 'Show all');
    const hideAll = h('vscode-toolbar-button', { label: 'Hide all runs', title: 'Hide all runs', class: 'text-tool' }, 'Hide all');
    this.bulk = [showAll, hideAll];
    showAll.addEventListener('click', () => this.state.update({ hiddenRuns: [] }));
    hideAll.addEventListener('click', () => this.state.update({ hiddenRuns: this.runs.map((r) => r.uid) }));
    this.list = h('div', { id: 'run-legend', class: 'legend', role: 'group', 'aria-label': 'Runs: click to show or hide, Alt+click to show only one' });
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
        this.expand, showAll, hideAll),
      this.list);
    new ResizeObserver(() => this.renderExpand()).observe(this.list);
    state.onChange((_s, changed) => {
      if (changed.has('hiddenRuns')) this.refresh();
    });
  }

  render(runs: CompareRun[]): void {
    this.runs = runs;
    const seen = new Set<string>();
    let prev: HTMLElement | null = null;
    for (const run of runs) {
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
      chip.btn.title = `${run.name} · ${STATUS_TEXT[run.status]}${run.experiment ? ` · ${run.experiment}` : ''}\nClick to show or hide · Alt+click to show only this run`;
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
    this.list.classList.toggle('many', runs.length > 24);
    for (const b of this.bulk) b.hidden = runs.length < 2;
    this.refresh();
  }

  private renderExpand(): void {
    const expanded = this.list.classList.contains('expanded');
    const overflows = this.list.scrollHeight > this.list.clientHeight + 2;
    this.expand.hidden = !expanded && !overflows;
    this.expand.textContent = expanded ? 'Fewer rows' : `All ${this.runs.length} runs`;
    this.expand.setAttribute('label', expanded ? 'Show fewer legend rows' : 'Show every run in the legend');
    this.expand.setAttribute('aria-expanded', String(expanded));
  }

  private refresh(): void {
    let hidden = 0;
    for (const run of this.runs) {
      const chip = this.chips.get(run.uid);
      const off = this.state.isHidden(run.uid);
      if (off) hidden++;
      if (!chip) continue;
      chip.btn.setAttribute('aria-pressed', String(!off));
      chip.btn.setAttribute('aria-label', `${run.name}, ${STATUS_TEXT[run.status]}, ${off ? 'hidden' : 'shown'}`);
      chip.btn.classList.toggle('off', off);
    }
    const n = this.runs.length;
    this.count.textContent = `${n} run${n === 1 ? '' : 's'}${hidden ? ` · ${hidden} hidden` : ''}`;
  }

  private makeChip(uid: string): Chip {
    const swatch = h('span', { class: 'swatch' });
    const name = h('span', { class: 'chip-name' });
    const status = h('span', { class: 'status' });
    const btn = h('button', { type: 'button', class: 'run-chip', 'data-uid': uid }, swatch, name, status);
    btn.addEventListener('click', (e) => this.toggle(uid, e.altKey));
    return { btn, swatch, name, status };
  }

  private toggle(uid: string, solo: boolean): void {
    const all = this.runs.map((r) => r.uid);
    const hidden = new Set(this.state.value.hiddenRuns.filter((u) => all.includes(u)));
    if (solo) {
      const alreadySolo = !hidden.has(uid) && hidden.size === all.length - 1;
      this.state.update({ hiddenRuns: alreadySolo ? [] : all.filter((u) => u !== uid) });
      return;
    }
    if (hidden.has(uid)) hidden.delete(uid);
    else hidden.add(uid);
    this.state.update({ hiddenRuns: all.filter((u) => hidden.has(u)) });
  }
}
