/**
 * The view state the panel keeps across reloads (vscode.setState) and that the host's serializer
 * restores from. One mutable object; `update` merges, notifies, and saves on the next frame.
 */
import type { CompareViewState, XAxis } from '../../src/core/compare/protocol.ts';
import { clampWeight } from './smoothing.ts';
import { loadState, saveState } from './host.ts';

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
  if (typeof raw.tab === 'string' && TABS.includes(raw.tab)) s.tab = raw.tab;
  const sc = raw.scatter;
  if (sc && typeof sc.param === 'string' && typeof sc.metric === 'string') s.scatter = { param: sc.param, metric: sc.metric };
  return s;
}

type Listener = (s: CompareViewState, changed: ReadonlySet<keyof CompareViewState>) => void;

export class ViewState {
  readonly value: CompareViewState = sanitize(loadState());
  private readonly listeners: Listener[] = [];
  private saveScheduled = false;

  onChange(l: Listener): void {
    this.listeners.push(l);
  }

  update(patch: Partial<CompareViewState>): void {
    const changed = new Set<keyof CompareViewState>();
    for (const k of Object.keys(patch) as (keyof CompareViewState)[]) {
      const v = patch[k];
      if (JSON.stringify(v) !== JSON.stringify(this.value[k])) {
        (this.value as unknown as Record<string, unknown>)[k] = v;
        changed.add(k);
      }
    }
    if (!changed.size) return;
    this.save();
    for (const l of this.listeners) l(this.value, changed);
  }

  isHidden(uid: string): boolean {
    return this.value.hiddenRuns.includes(uid);
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
