/**
 * The view state the panel keeps across reloads (vscode.setState) and that the host's serializer
 * restores from. One mutable object; `update` merges, notifies, and saves on the next frame.
 */
import type { CompareModel, CompareRun, CompareViewState, XAxis } from '../../src/core/compare/protocol.ts';
import { clampWeight } from './smoothing.ts';
import { loadState, saveState } from './host.ts';
import { type RunScope, runScope } from './runScope.ts';

const AXES: readonly XAxis[] = ['step', 'time', 'relative'];
const TABS = ['charts', 'tables', 'across'];

export function defaultState(): CompareViewState {
  return {
    runUids: [],
    axis: 'step',
    smoothing: 0,
    logY: false,
    search: '',
    onlyDifferences: true,
    hiddenRuns: [],
    runFilter: '',
    tab: 'charts',
  };
}

/** Whatever getState returned, made valid. */
export function sanitize(raw: Partial<CompareViewState> | undefined): CompareViewState {
  const s = defaultState();
  if (!raw) return s;
  if (Array.isArray(raw.runUids)) s.runUids = raw.runUids.filter((u) => typeof u === 'string');
  if (typeof raw.axis === 'string' && AXES.includes(raw.axis)) s.axis = raw.axis;
  if (typeof raw.smoothing === 'number') s.smoothing = clampWeight(raw.smoothing);
  if (typeof raw.logY === 'boolean') s.logY = raw.logY;
  if (typeof raw.search === 'string') s.search = raw.search;
  if (typeof raw.onlyDifferences === 'boolean') s.onlyDifferences = raw.onlyDifferences;
  if (Array.isArray(raw.hiddenRuns)) s.hiddenRuns = raw.hiddenRuns.filter((u) => typeof u === 'string');
  if (typeof raw.runFilter === 'string') s.runFilter = raw.runFilter;
  if (typeof raw.topN === 'number' && Number.isInteger(raw.topN) && raw.topN >= 0) s.topN = raw.topN;
  if (Array.isArray(raw.onlyRuns)) s.onlyRuns = raw.onlyRuns.filter((u) => typeof u === 'string');
  if (typeof raw.tab === 'string' && TABS.includes(raw.tab)) s.tab = raw.tab;
  const sc = raw.scatter;
  if (sc && typeof sc.param === 'string' && typeof sc.metric === 'string') s.scatter = { param: sc.param, metric: sc.metric };
  return s;
}

/** A state field, or 'shown': which runs are in scope or drawn changed (the model or the legend). */
export type Change = keyof CompareViewState | 'shown';
type Listener = (s: CompareViewState, changed: ReadonlySet<Change>) => void;
const SCOPE_FIELDS: Change[] = ['hiddenRuns', 'topN', 'onlyRuns'];

export class ViewState {
  readonly value: CompareViewState = sanitize(loadState());
  private readonly listeners: Listener[] = [];
  private saveScheduled = false;
  private model: CompareModel | null = null;
  private current: RunScope | null = null;
  private scopeSig = '';

  onChange(l: Listener): void {
    this.listeners.push(l);
  }

  update(patch: Partial<CompareViewState>): void {
    const changed = new Set<Change>();
    for (const k of Object.keys(patch) as (keyof CompareViewState)[]) {
      const v = patch[k];
      if (JSON.stringify(v) !== JSON.stringify(this.value[k])) {
        if (v === undefined) delete this.value[k];
        else (this.value as unknown as Record<string, unknown>)[k] = v;
        changed.add(k);
      }
    }
    if (!changed.size) return;
    if (SCOPE_FIELDS.some((k) => changed.has(k)) && this.rescope()) changed.add('shown');
    this.save();
    this.notify(changed);
  }

  /** A new model: the ranking and so the runs in scope may change (each part reads them in its own setModel). */
  setModel(model: CompareModel): void {
    this.model = model;
    this.rescope();
  }

  /** The runs in scope and drawn (before the first model: none). */
  get scope(): RunScope | null {
    return this.current;
  }

  /** The runs the charts query and the tables list, in model order. */
  scopeRuns(): CompareRun[] {
    return this.current?.scope ?? [];
  }

  /** Not drawn: switched off in the legend, or out of scope (not in the top N, not isolated). */
  isHidden(uid: string): boolean {
    return this.current ? !this.current.shown.has(uid) : this.value.hiddenRuns.includes(uid);
  }

  /** Recomputes the scope; true when the runs in scope or drawn changed. */
  private rescope(): boolean {
    if (!this.model) return false;
    this.current = runScope(this.model, this.value);
    const sig = JSON.stringify([this.current.scope.map((r) => r.uid), [...this.current.shown], this.current.mode, this.current.limit]);
    if (sig === this.scopeSig) return false;
    this.scopeSig = sig;
    return true;
  }

  private notify(changed: ReadonlySet<Change>): void {
    for (const l of this.listeners) l(this.value, changed);
  }

  save(): void {
    if (this.saveScheduled) return;
    this.saveScheduled = true;
    queueMicrotask(() => {
      this.saveScheduled = false;
      saveState(this.value);
    });
  }
}
