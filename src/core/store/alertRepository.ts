import type { Db } from './database.ts';
import type { Alert, Severity } from '../health/evaluate.ts';

/** An alert as stored with its run. */
export interface StoredAlert extends Alert {
  id: number;
  runId: number;
}

/** What the Runs view shows for a run: how many alerts, the worst, and the newest. */
export interface AlertSummary {
  count: number;
  severity: Severity;
  latest: StoredAlert;
}

interface AlertRow { id: number; run_id: number; rule: string; key: string | null; step: number | null; value: number | null; time: number; severity: string; message: string }

const toAlert = (r: AlertRow): StoredAlert => ({
  id: r.id, runId: r.run_id, rule: r.rule as Alert['rule'], key: r.key, step: r.step, value: r.value, time: r.time,
  severity: r.severity as Severity, message: r.message,
});

const RANK: { [s in Severity]: number } = { info: 0, warning: 1, error: 2 };

/** Run-health alerts, and the rules' small per-(run, key) state that lets evaluation go on where it stopped. */
export class AlertRepository {
  private readonly db: Db;
  /** Statements the ingest runs on every commit, prepared once. */
  private readonly insertStmt;
  private readonly statesStmt;
  private readonly putStmt;

  constructor(db: Db) {
    this.db = db;
    this.insertStmt = db.prepare('INSERT INTO alerts (run_id, rule, key, step, value, time, severity, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.statesStmt = db.prepare('SELECT key, state FROM health_state WHERE run_id = ? AND key IN (SELECT value FROM json_each(?))');
    this.putStmt = db.prepare('INSERT OR REPLACE INTO health_state (run_id, key, state) VALUES (?, ?, ?)');
  }

  /** Stores alerts of a run (NaN values are stored as NULL: SQLite has no NaN). */
  add(runId: number, alerts: readonly Alert[]): StoredAlert[] {
    return alerts.map((a) => {
      const value = a.value !== null && Number.isNaN(a.value) ? null : a.value;
      const id = Number(this.insertStmt.run(runId, a.rule, a.key, a.step, value, a.time, a.severity, a.message).lastInsertRowid);
      return { ...a, id, runId };
    });
  }

  /**
   * Claims the notification of an alert's (run, rule, key) for this window: true for the first claim of any
   * window or process, false ever after (so each is told once, by one window).
   */
  claimNotice(a: Pick<StoredAlert, 'runId' | 'rule' | 'key'>): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO alert_notices (run_id, rule, key) VALUES (?, ?, ?)').run(a.runId, a.rule, a.key ?? '').changes === 1;
  }

  /** A run's alerts, oldest first. */
  list(runId: number): StoredAlert[] {
    return (this.db.prepare('SELECT * FROM alerts WHERE run_id = ? ORDER BY id').all(runId) as AlertRow[]).map(toAlert);
  }

  /** Alerts stored after `afterId` (by any window or process), oldest first: what to notify about. */
  since(afterId: number, limit = 100): StoredAlert[] {
    return (this.db.prepare('SELECT * FROM alerts WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as AlertRow[]).map(toAlert);
  }

  /** The newest alert id (0 for none): where a notifier starts. */
  lastId(): number {
    return (this.db.prepare('SELECT coalesce(max(id), 0) FROM alerts').pluck().get() as number);
  }

  /** Per run with alerts: count, worst severity, newest alert. */
  summaries(runIds: readonly number[]): Map<number, AlertSummary> {
    const out = new Map<number, AlertSummary>();
    if (!runIds.length) return out;
    const rows = this.db.prepare('SELECT * FROM alerts WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY id')
      .all(JSON.stringify(runIds)) as AlertRow[];
    for (const a of rows.map(toAlert)) {
      const s = out.get(a.runId);
      if (!s) out.set(a.runId, { count: 1, severity: a.severity, latest: a });
      else {
        s.count++;
        s.latest = a;
        if (RANK[a.severity] > RANK[s.severity]) s.severity = a.severity;
      }
    }
    return out;
  }

  /** The stored rule states of a run for `keys` ('' is the run's own), as JSON text. */
  states(runId: number, keys: readonly string[]): Map<string, string> {
    const rows = this.statesStmt.all(runId, JSON.stringify(keys)) as { key: string; state: string }[];
    return new Map(rows.map((r) => [r.key, r.state]));
  }

  putStates(runId: number, states: Iterable<[key: string, state: string]>): void {
    for (const [key, state] of states) this.putStmt.run(runId, key, state);
  }

  /** The median pace (ms per step) of an experiment's runs other than `runId`, and how many runs have one. */
  medianPace(experimentId: number, runId: number): { median: number; runs: number } | undefined {
    const paces = (this.db.prepare(`SELECT json_extract(h.state, '$.pace') AS pace FROM health_state h JOIN runs r ON r.id = h.run_id
      WHERE r.experiment_id = ? AND h.key = '' AND h.run_id <> ? AND pace IS NOT NULL ORDER BY pace`).pluck().all(experimentId, runId) as number[]);
    if (!paces.length) return undefined;
    const m = paces.length >> 1;
    return { median: paces.length % 2 ? paces[m]! : (paces[m - 1]! + paces[m]!) / 2, runs: paces.length };
  }
}
