import { primaryMetric } from '../compare/compareData.ts';
import type { Store } from '../store/store.ts';
import type { ParamValue } from '../types.ts';
import { readParamRows } from './queries.ts';

export type Goal = 'min' | 'max';

/** The metric that ranks runs. `guessed`: not configured, chosen as the metric most runs log. */
export interface Primary {
  name: string;
  goal: Goal;
  guessed?: boolean;
}

/** What the runs with one value of a param got. Metrics are each run's last value of the primary metric. */
export interface ValueStats {
  value: ParamValue;
  runs: number;
  /** Oldest first. */
  runIds: number[];
  /** The best run's metric (by goal), its id; null when no run has the metric. */
  best: number | null;
  bestRunId: number | null;
  mean: number | null;
  /** How many of the runs have the metric. */
  scored: number;
  /** The newest run's metric (of those that have it), and when that run was created. */
  last: number | null;
  lastAt: number | null;
}

export interface ParamStats {
  key: string;
  runs: number;
  /** Sorted by value: numbers, then booleans, then strings. */
  values: ValueStats[];
  /** The value of the run with the best primary metric. */
  best?: { value: ParamValue; metric: number; runId: number };
}


/** Accumulates one value's runs; number fields only, so V8 keeps them unboxed. */
interface Acc { value: ParamValue; runIds: number[]; best: number; bestRunId: number; sum: number; n: number; last: number; lastAt: number }

const better = (goal: Goal, a: number, b: number) => (goal === 'max' ? a > b : a < b);

/** Orders param values: numbers ascending, then false, true, then strings. */
export function compareValues(a: ParamValue, b: ParamValue): number {
  const rank = (v: ParamValue) => (typeof v === 'number' ? 0 : typeof v === 'boolean' ? 1 : 2);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (typeof a === 'string') return a < (b as string) ? -1 : a > (b as string) ? 1 : 0;
  return Number(a) - Number(b);
}

/** Every param key's values tried and what they got, built from all runs with three queries. */
export class ParamIndex {
  readonly primary: Primary | undefined;
  private readonly byKey: Map<string, ParamStats>;
  private readonly sortedKeys: string[];

  private constructor(primary: Primary | undefined, byKey: Map<string, ParamStats>) {
    this.primary = primary;
    this.byKey = byKey;
    this.sortedKeys = [...byKey.keys()].sort();
  }

  /** An index with no runs (before the store is open). */
  static empty(primary?: Primary): ParamIndex {
    return new ParamIndex(primary, new Map());
  }

  /**
   * `primary` as configured; without it, the metric the most runs log (ties: the one that looks like
   * a validation accuracy or loss, see compareData's primaryMetric), its goal guessed from its name.
   */
  static build(store: Store, primary: Primary | undefined): ParamIndex {
    let chosen = primary;
    const { runs, params } = readParamRows(store, (metricRuns) => {
      if (!chosen && metricRuns.length) {
        const tied = metricRuns.filter(([, n]) => n === metricRuns[0]![1]).map(([name]) => name);
        const guess = primaryMetric(tied);
        chosen = guess ? { name: guess.key, goal: guess.goal, guessed: true } : { name: tied[0]!, goal: 'max', guessed: true };
      }
      return chosen?.name;
    });
    const goal = chosen?.goal ?? 'max';
    const rowOf = new Map<number, number>();
    for (let i = 0; i < runs.length; i++) rowOf.set(runs[i]![0], i);
    const byValueOf = new Map<string, Map<ParamValue, Acc>>();
    for (const [runId, key, type, raw] of params) {
      const value = type === 'bool' ? raw === 1 : raw;
      let byValue = byValueOf.get(key);
      if (!byValue) byValueOf.set(key, (byValue = new Map()));
      let a = byValue.get(value);
      if (!a) byValue.set(value, (a = { value, runIds: [], best: NaN, bestRunId: 0, sum: 0, n: 0, last: NaN, lastAt: -Infinity }));
      a.runIds.push(runId); // ascending: params come in run id order
      const run = runs[rowOf.get(runId) ?? -1];
      const metric = run?.[2];
      if (metric === null || metric === undefined || !Number.isFinite(metric)) continue;
      if (a.n === 0 || better(goal, metric, a.best)) { a.best = metric; a.bestRunId = runId; }
      a.sum += metric;
      a.n++;
      if (run![1] >= a.lastAt) { a.last = metric; a.lastAt = run![1]; }
    }
    const byKey = new Map<string, ParamStats>();
    for (const [key, byValue] of byValueOf) {
      const values: ValueStats[] = [];
      let total = 0, best: ParamStats['best'];
      let numeric = true;
      for (const a of byValue.values()) {
        total += a.runIds.length;
        if (typeof a.value !== 'number') numeric = false;
        const scored = a.n > 0;
        values.push({
          value: a.value, runs: a.runIds.length, runIds: a.runIds, best: scored ? a.best : null, bestRunId: scored ? a.bestRunId : null,
          mean: scored ? a.sum / a.n : null, scored: a.n, last: scored ? a.last : null, lastAt: scored ? a.lastAt : null,
        });
        if (scored && (!best || better(goal, a.best, best.metric) || (a.best === best.metric && a.bestRunId < best.runId))) {
          best = { value: a.value, metric: a.best, runId: a.bestRunId };
        }
      }
      values.sort(numeric ? (x, y) => (x.value as number) - (y.value as number) : (x, y) => compareValues(x.value, y.value));
      byKey.set(key, { key, runs: total, values, best });
    }
    return new ParamIndex(chosen, byKey);
  }

  /** Recorded param keys, sorted. */
  keys(): readonly string[] {
    return this.sortedKeys;
  }

  stats(key: string): ParamStats | undefined {
    return this.byKey.get(key);
  }
}
