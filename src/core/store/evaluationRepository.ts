import type { Db } from './database.ts';
import type { StoredAlert } from './alertRepository.ts';

/** A run that evaluated a model version: the reference it named, its time (ms) and its metric values. */
export interface EvaluationRow {
  runId: number;
  versionId: number;
  ref: string;
  at: number;
  metrics: { [key: string]: number };
}

/** The alert rule of a model version's drop (models/evaluations.ts). */
export const DEGRADATION_RULE = 'degradation';

interface Row { run_id: number; version_id: number; ref: string; at: number; metrics: string }

const toRow = (r: Row): EvaluationRow => ({ runId: r.run_id, versionId: r.version_id, ref: r.ref, at: r.at, metrics: JSON.parse(r.metrics) });

/** Evaluation runs linked to model versions, and the degradation alerts raised on them. */
export class EvaluationRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  link(e: EvaluationRow): void {
    this.db.prepare('INSERT INTO evaluations (run_id, version_id, ref, at, metrics) VALUES (?, ?, ?, ?, ?)')
      .run(e.runId, e.versionId, e.ref, e.at, JSON.stringify(e.metrics));
  }

  /** A version's evaluations, oldest first. */
  ofVersion(versionId: number): EvaluationRow[] {
    return (this.db.prepare('SELECT * FROM evaluations WHERE version_id = ? ORDER BY at, run_id').all(versionId) as Row[]).map(toRow);
  }

  ofRun(runId: number): EvaluationRow | undefined {
    const r = this.db.prepare('SELECT * FROM evaluations WHERE run_id = ?').get(runId) as Row | undefined;
    return r && toRow(r);
  }

  /** How many evaluations each of these versions has. */
  counts(versionIds: readonly number[]): Map<number, number> {
    const rows = this.db.prepare(`SELECT version_id, count(*) AS n FROM evaluations
      WHERE version_id IN (SELECT value FROM json_each(?)) GROUP BY version_id`).all(JSON.stringify(versionIds)) as { version_id: number; n: number }[];
    return new Map(rows.map((r) => [r.version_id, r.n]));
  }

  /** The degradation alerts of these versions (on their evaluation runs), oldest first. */
  degradations(versionIds: readonly number[]): Map<number, StoredAlert[]> {
    const rows = this.db.prepare(`SELECT a.*, e.version_id FROM alerts a JOIN evaluations e ON e.run_id = a.run_id
      WHERE a.rule = ? AND e.version_id IN (SELECT value FROM json_each(?)) ORDER BY a.id`)
      .all(DEGRADATION_RULE, JSON.stringify(versionIds)) as (StoredAlert & { run_id: number; version_id: number })[];
    const out = new Map<number, StoredAlert[]>();
    for (const r of rows) {
      const a = { id: r.id, runId: r.run_id, rule: r.rule, key: r.key, step: r.step, value: r.value, time: r.time, severity: r.severity, message: r.message };
      out.set(r.version_id, [...(out.get(r.version_id) ?? []), a]);
    }
    return out;
  }

  /** Whether a version already has a degradation alert for `key`. */
  degraded(versionId: number, key: string): boolean {
    return this.db.prepare(`SELECT 1 FROM alerts a JOIN evaluations e ON e.run_id = a.run_id
      WHERE e.version_id = ? AND a.rule = ? AND a.key = ?`).get(versionId, DEGRADATION_RULE, key) !== undefined;
  }
}
