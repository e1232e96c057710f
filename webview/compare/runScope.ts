/**
 * Which runs the panel draws, without DOM: the best N by the primary metric (20 of a sweep of more
 * than 100 runs unless the user asks for more), or the runs the legend isolated, less the ones
 * switched off one by one; and the legend's run filter.
 */
import type { CompareModel, CompareRun, CompareViewState } from '../../src/core/compare/protocol.ts';
import { nameResolver } from '../../src/core/query/resolveName.ts';
import type { ParamValue } from '../../src/core/types.ts';

/** With more runs than this and no choice made, only the best AUTO_TOP_N are drawn. */
export const AUTO_ABOVE = 100;
export const AUTO_TOP_N = 20;
export const TOP_N_CHOICES = [10, 20, 50, 100];

export interface RunScope {
  /** Model indexes, best first by the primary metric (runs without it last, in model order). */
  ranked: number[];
  /** Some run has a value of the primary metric: the order is by it (else it is the model's). */
  byPrimary: boolean;
  /** 'top': the best `limit`; 'only': the runs isolated in the legend; 'all': every run. */
  mode: 'all' | 'top' | 'only';
  limit: number;
  /** The runs the charts query and the tables list (in model order): in scope. */
  scope: CompareRun[];
  /** The runs in scope that are not switched off: drawn. */
  shown: Set<string>;
}

/** The top N the state asks for: 0 = every run. */
export function topNOf(state: Pick<CompareViewState, 'topN'>, total: number): number {
  const n = state.topN;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return n;
  return total > AUTO_ABOVE ? AUTO_TOP_N : 0;
}

/** Model indexes, best first by the primary metric's best value (its min or max). */
export function rankRuns(model: CompareModel): number[] {
  const order = model.runs.map((_r, i) => i);
  const p = model.primary;
  const row = p && model.metrics.find((m) => m.key === p.key);
  if (!p || !row) return order;
  const best = p.goal === 'min' ? row.min : row.max;
  const sign = p.goal === 'min' ? 1 : -1;
  return order.sort((a, b) => {
    const va = best[a] ?? null, vb = best[b] ?? null;
    if (va === null || vb === null) return va === vb ? a - b : va === null ? 1 : -1;
    return sign * (va - vb) || a - b;
  });
}

export function runScope(model: CompareModel, state: CompareViewState): RunScope {
  const ranked = rankRuns(model);
  const total = model.runs.length;
  let inScope: Set<number>;
  let mode: RunScope['mode'];
  const only = state.onlyRuns && new Set(state.onlyRuns);
  const onlyIdx = only ? model.runs.flatMap((r, i) => (only.has(r.uid) ? [i] : [])) : [];
  const limit = topNOf(state, total);
  if (onlyIdx.length) {
    mode = 'only';
    inScope = new Set(onlyIdx);
  } else if (limit > 0 && limit < total) {
    mode = 'top';
    inScope = new Set(ranked.slice(0, limit));
  } else {
    mode = 'all';
    inScope = new Set(ranked);
  }
  const hidden = new Set(state.hiddenRuns);
  const scope = model.runs.filter((_r, i) => inScope.has(i));
  const p = model.primary;
  const row = p && model.metrics.find((m) => m.key === p.key);
  const byPrimary = Boolean(row && (p!.goal === 'min' ? row.min : row.max).some((v) => v !== null));
  return { ranked, byPrimary, mode, limit, scope, shown: new Set(scope.filter((r) => !hidden.has(r.uid)).map((r) => r.uid)) };
}

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=';
const OPS: Op[] = ['!=', '<=', '>=', '=', '<', '>'];

/**
 * The legend's run filter: every word must match. A word is text found in the run's name,
 * experiment, status or a `param=value`; or `key=value`, `key!=value`, `key<number` (also <=, >, >=)
 * over the params and the metrics' last values, keys found as the Runs view filter finds them
 * (`lr` is `train.lr`).
 */
export function runMatcher(query: string, model: CompareModel): (index: number) => boolean {
  const words = query.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return () => true;
  const keys = [...model.params.map((p) => p.key), ...model.keys];
  const resolve = nameResolver(keys);
  /** Per run, a param's values, or a metric's last values. */
  const column = (key: string): readonly (ParamValue | null)[] =>
    model.params.find((r) => r.key === key)?.values ?? model.metrics.find((m) => m.key === key)?.last ?? [];
  const tests = words.map((word) => {
    const at = OPS.map((op) => [op, word.indexOf(op)] as const).filter(([, i]) => i > 0).sort((a, b) => a[1] - b[1] || b[0].length - a[0].length)[0];
    if (at) {
      const [op, i] = at;
      const name = word.slice(0, i);
      const want = word.slice(i + op.length);
      const m = resolve(name);
      const found = m.kind === 'found' ? [m.key] : m.kind === 'ambiguous' ? m.candidates : [];
      if (found.length && want !== '') {
        const columns = found.map(column);
        return (r: number) => columns.some((c) => compare(c[r] ?? null, op, want));
      }
    }
    const text = word.toLowerCase();
    return (r: number) => haystack(model, r).includes(text);
  });
  return (i) => tests.every((t) => t(i));
}

function compare(v: ParamValue | null, op: Op, want: string): boolean {
  if (v === null) return false;
  const n = Number(want);
  if (op === '=' || op === '!=') {
    const same = typeof v === 'number' && want.trim() !== '' && Number.isFinite(n) ? v === n : String(v).toLowerCase() === want.toLowerCase();
    return op === '=' ? same : !same;
  }
  if (typeof v !== 'number' || !Number.isFinite(n)) return false;
  return op === '<' ? v < n : op === '<=' ? v <= n : op === '>' ? v > n : v >= n;
}

const haystacks = new WeakMap<CompareModel, string[]>();

/** A run's text for plain words: name, experiment, status and key=value of each param, lower case. */
function haystack(model: CompareModel, i: number): string {
  let all = haystacks.get(model);
  if (!all) {
    all = model.runs.map((r, k) => [r.name, r.experiment, r.status, ...model.params.flatMap((p) => {
      const v = p.values[k];
      return v === null || v === undefined ? [] : [`${p.key}=${String(v)}`];
    })].join('\n').toLowerCase());
    haystacks.set(model, all);
  }
  return all[i] ?? '';
}
