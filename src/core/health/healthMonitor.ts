/**
 * Run health against the store: the rule state of a run is read from and written back to the store in
 * the caller's write transaction, with the alerts raised, so a rollback undoes both, another window or
 * the ingest worker can take over, and a run reattached after a reload goes on where it stopped.
 */
import type { Store } from '../store/store.ts';
import type { StoredAlert } from '../store/alertRepository.ts';
import type { Columns } from '../store/chunks.ts';
import type { HealthRules } from './rules.ts';
import { type Alert, type KeyState, type RunHealth, type RunState, checkStall, evaluate, newRunState, noteActivity } from './evaluate.ts';

const RUN = '';
/** The experiment's median pace is read again at most this often. */
const PACE_MS = 60_000;
/** Output seen is written at most this often (a new point writes it anyway). */
const ACTIVITY_MS = 1000;

export class HealthMonitor {
  private readonly store: Store;
  private readonly run: { id: number; experimentId: number };
  private readonly rules: HealthRules;
  private readonly now: () => number;
  private pace: { median: number; runs: number } | undefined;
  private paceAt = -Infinity;
  private activityAt = -Infinity;

  constructor(store: Store, run: { id: number; experimentId: number }, rules: HealthRules, now: () => number = Date.now) {
    this.store = store;
    this.run = run;
    this.rules = rules;
    this.now = now;
  }

  /**
   * Evaluates the points just appended and stores the alerts they raise. Call inside the write
   * transaction that appends them (after appendMany), so both commit or neither does.
   */
  ingest(batch: Iterable<readonly [key: string, points: Columns]>): StoredAlert[] {
    const series = [...batch];
    if (!series.length) return [];
    const keys = series.map(([k]) => k);
    const state = this.load(keys);
    const experimentPace = this.experimentPace();
    const alerts: Alert[] = [];
    for (const [key, points] of series) alerts.push(...evaluate(state, this.rules, key, points, { experimentPace }));
    this.save(state, keys);
    return alerts.length ? this.store.alerts.add(this.run.id, alerts) : [];
  }

  /** Output (or another sign of life) seen at `time` (default now). Opens its own transaction, at most once a second. */
  activity(time = this.now()): void {
    if (time - this.activityAt < ACTIVITY_MS) return;
    this.activityAt = time;
    this.store.transaction(() => {
      const run = this.runState();
      noteActivity(run, time);
      this.store.alerts.putStates(this.run.id, [[RUN, JSON.stringify(run)]]);
    });
  }

  /**
   * The stall rule, for the caller's timer while the run goes: `alive` (the process exists), `paused`
   * (a debugger stopped it), `since` (when it started). Opens its own transaction; returns what it raised.
   */
  check(signals: { alive: boolean; paused?: boolean; since?: number }, now = this.now()): StoredAlert[] {
    return this.store.transaction(() => {
      const run = this.runState();
      const before = JSON.stringify(run);
      const alerts = checkStall(run, this.rules, now, signals);
      const after = JSON.stringify(run);
      if (after !== before) this.store.alerts.putStates(this.run.id, [[RUN, after]]);
      return alerts.length ? this.store.alerts.add(this.run.id, alerts) : [];
    });
  }

  private runState(): RunState {
    const text = this.store.alerts.states(this.run.id, [RUN]).get(RUN);
    return text ? JSON.parse(text) as RunState : newRunState();
  }

  private load(keys: string[]): RunHealth {
    const stored = this.store.alerts.states(this.run.id, [RUN, ...keys]);
    const run = stored.get(RUN);
    const state: RunHealth = { run: run ? JSON.parse(run) as RunState : newRunState(), keys: {} };
    for (const k of keys) {
      const s = stored.get(k);
      if (s) state.keys[k] = JSON.parse(s) as KeyState;
    }
    return state;
  }

  private save(state: RunHealth, keys: string[]): void {
    const rows: [string, string][] = [[RUN, JSON.stringify(state.run)]];
    for (const k of keys) if (state.keys[k]) rows.push([k, JSON.stringify(state.keys[k])]);
    this.store.alerts.putStates(this.run.id, rows);
  }

  private experimentPace(): { median: number; runs: number } | undefined {
    const now = this.now();
    if (now - this.paceAt >= PACE_MS) {
      this.paceAt = now;
      this.pace = this.store.alerts.medianPace(this.run.experimentId, this.run.id);
    }
    return this.pace;
  }
}
