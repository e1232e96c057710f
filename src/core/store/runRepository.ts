import { randomUUID } from 'node:crypto';
import type { Db } from './database.ts';
import { generateRunName } from '../names.ts';
import {
  type Experiment, type GitState, type NewRun, type ParamValue, type Run, type RunQuery, type RunSort, type RunStatus, type RunUpdate,
  RUN_STATUSES, SWEEP_TAG,
} from '../types.ts';
import { DURATION_SQL, type KnownKeys, compileFilter, metricSql, paramSql, parseFilter } from '../query/filterExpression.ts';

export const DEFAULT_EXPERIMENT = 'default';

/** The fields of a query that choose runs (everything but order and paging). */
/** originals: leave out reproductions (runs.reproduces set); the Runs view shows them under their run. */
export type RunFilter = Pick<RunQuery, 'experimentId' | 'status' | 'text' | 'where' | 'sweep'> & { originals?: boolean };

/** A sweep as the Runs view shows it: its matching trials, how many are going, the best primary metric. */
export interface SweepSummary {
  id: string;
  experimentId: number;
  runs: number;
  running: number;
  queued: number;
  /** The best last value of the metric asked for, among the trials that logged it. */
  best?: number;
}

type SqlArg = string | number;

const NEWEST_FIRST = 'r.created_at DESC, r.id DESC';
const STATUS_ORDER = `CASE r.status ${RUN_STATUSES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} END`;

/** Distinct values of an indexed column, one index seek per value (cheap however many rows there are). */
const distinctKeys = (table: string) => `WITH RECURSIVE k(key) AS (
    SELECT (SELECT min(key) FROM ${table})
    UNION ALL
    SELECT (SELECT min(key) FROM ${table} WHERE key > k.key) FROM k WHERE k.key IS NOT NULL
  ) SELECT key FROM k WHERE key IS NOT NULL`;

interface RunRow {
  id: number; uid: string; name: string; experiment_id: number; experiment: string; status: RunStatus;
  command: string | null; cwd: string | null; created_at: number; started_at: number | null; ended_at: number | null;
  exit_code: number | null; git_commit: string | null; git_branch: string | null; git_dirty: number | null;
  notes: string; starred: number; reproduces: number | null; origin: string | null;
}

const RUN_COLUMNS = `r.id, r.uid, r.name, r.experiment_id, e.name AS experiment, r.status, r.command, r.cwd,
  r.created_at, r.started_at, r.ended_at, r.exit_code, r.git_commit, r.git_branch, r.git_dirty, r.notes, r.starred,
  r.reproduces, r.origin`;

function toRun(r: RunRow): Run {
  return {
    id: r.id, uid: r.uid, name: r.name, experimentId: r.experiment_id, experiment: r.experiment, status: r.status,
    command: r.command === null ? null : JSON.parse(r.command) as string[] | string,
    cwd: r.cwd, createdAt: r.created_at, startedAt: r.started_at, endedAt: r.ended_at, exitCode: r.exit_code,
    git: r.git_commit === null ? null : { commit: r.git_commit, branch: r.git_branch, dirty: r.git_dirty === 1 },
    notes: r.notes, starred: r.starred === 1, reproduces: r.reproduces, origin: r.origin,
  };
}

function paramType(v: ParamValue): 'number' | 'string' | 'bool' {
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  throw new TypeError(`a param must be a number, string or boolean, not ${typeof v}`);
}

/** Experiments, runs, params and tags. */
export class RunRepository {
  private readonly db: Db;
  private readonly now: () => number;

  constructor(db: Db, now: () => number = Date.now) {
    this.db = db;
    this.now = now;
  }

  ensureExperiment(name: string): number {
    const trimmed = name.trim() || DEFAULT_EXPERIMENT;
    this.db.prepare('INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)').run(trimmed, this.now());
    return (this.db.prepare('SELECT id FROM experiments WHERE name = ?').get(trimmed) as { id: number }).id;
  }

  experiments(): Experiment[] {
    return (this.db.prepare(`SELECT e.id, e.name, e.created_at, count(r.id) AS run_count,
        max(r.created_at) AS newest FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id
        GROUP BY e.id ORDER BY newest DESC NULLS LAST, e.name`).all() as
      { id: number; name: string; created_at: number; run_count: number }[])
      .map((e) => ({ id: e.id, name: e.name, createdAt: e.created_at, runCount: e.run_count }));
  }

  create(input: NewRun = {}): Run {
    const id = this.db.transaction(() => {
      const experimentId = this.ensureExperiment(input.experiment ?? DEFAULT_EXPERIMENT);
      const status = input.status ?? 'queued';
      if (!RUN_STATUSES.includes(status)) throw new RangeError(`unknown run status ${status}`);
      const info = this.db.prepare(`INSERT INTO runs (uid, name, experiment_id, status, command, cwd, created_at,
          started_at, git_commit, git_branch, git_dirty, reproduces, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        randomUUID(), input.name?.trim() || generateRunName(), experimentId, status,
        input.command == null ? null : JSON.stringify(input.command), input.cwd ?? null, this.now(),
        input.startedAt ?? null, input.git?.commit ?? null, input.git?.branch ?? null,
        input.git ? (input.git.dirty ? 1 : 0) : null, input.reproduces ?? null, input.origin ?? null);
      const runId = Number(info.lastInsertRowid);
      if (input.params) this.setParams(runId, input.params);
      if (input.tags) this.setTags(runId, input.tags);
      return runId;
    }).immediate();
    return this.get(id)!;
  }

  get(id: number): Run | undefined {
    const row = this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id
      WHERE r.id = ?`).get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  /** Runs made by "Reproduce Run" from this one, oldest first. */
  reproductionsOf(runId: number): Run[] {
    return (this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id
      WHERE r.reproduces = ? ORDER BY r.created_at, r.id`).all(runId) as RunRow[]).map(toRun);
  }

  /** How many reproductions each of `runIds` has; runs without any are left out. */
  reproductionCounts(runIds: readonly number[]): Map<number, number> {
    if (!runIds.length) return new Map();
    return new Map(this.db.prepare(`SELECT reproduces, count(*) FROM runs
      WHERE reproduces IN (SELECT value FROM json_each(?)) GROUP BY reproduces`).raw().all(JSON.stringify(runIds)) as [number, number][]);
  }

  /** The run imported from `origin`, if any. */
  getByOrigin(origin: string): Run | undefined {
    const row = this.db.prepare('SELECT id FROM runs WHERE origin = ?').get(origin) as { id: number } | undefined;
    return row && this.get(row.id);
  }

  getByUid(uid: string): Run | undefined {
    const row = this.db.prepare('SELECT id FROM runs WHERE uid = ?').get(uid) as { id: number } | undefined;
    return row && this.get(row.id);
  }

  /**
   * One page of runs matching `query`: newest first by default (keyset paging with `before`),
   * or in `query.sort` order (paging with `offset`). A bad `where` throws FilterSyntaxError.
   */
  list(query: RunQuery & { originals?: boolean } = {}): Run[] {
    const { where, args } = this.conditions(query);
    const newestFirst = !query.sort || (query.sort.by === 'created' && query.sort.dir === 'desc');
    if (newestFirst && query.before) {
      where.push('(r.created_at < ? OR (r.created_at = ? AND r.id < ?))');
      args.push(query.before.createdAt, query.before.createdAt, query.before.id);
    }
    const orderBy = newestFirst ? NEWEST_FIRST : this.orderBy(query.sort!, args);
    const sql = `SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${orderBy} LIMIT ? OFFSET ?`;
    args.push(query.limit ?? 200, Math.max(0, Math.floor(query.offset ?? 0)));
    return (this.db.prepare(sql).all(...args) as RunRow[]).map(toRun);
  }

  /** How many runs match the filter fields of `query`. */
  count(query: RunFilter = {}): number {
    const { where, args } = this.conditions(query);
    const sql = `SELECT count(*) AS n FROM runs r ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    return (this.db.prepare(sql).get(...args) as { n: number }).n;
  }

  /** Matching runs per experiment id, in one query; every experiment is present, with 0 when none match. */
  countByExperiment(query: RunFilter = {}): Map<number, number> {
    const { where, args } = this.conditions(query);
    const sql = `SELECT e.id, count(r.id) AS n FROM experiments e
      LEFT JOIN runs r ON r.experiment_id = e.id${where.length ? ` AND ${where.join(' AND ')}` : ''} GROUP BY e.id`;
    const rows = this.db.prepare(sql).raw().all(...args) as [number, number][];
    return new Map(rows);
  }

  /**
   * The sweeps with trials matching `query`, newest first, counted by status in one query over the
   * sweep tags. With `metric`, also the best last value of that metric per sweep.
   */
  sweeps(query: RunFilter = {}, metric?: { key: string; goal: 'min' | 'max' }): SweepSummary[] {
    const { where, args } = this.conditions(query);
    const best = metric ? `${metric.goal === 'max' ? 'max' : 'min'}(m.last_value)` : 'NULL';
    const join = metric ? 'LEFT JOIN metric_summaries m ON m.run_id = r.id AND m.key_id = (SELECT id FROM metric_keys WHERE name = ?)' : '';
    const sql = `SELECT t.value, min(r.experiment_id), count(*), sum(r.status = 'running'), sum(r.status = 'queued'), ${best}, max(r.created_at) AS newest
      FROM tags t JOIN runs r ON r.id = t.run_id ${join}
      WHERE t.key = '${SWEEP_TAG}'${where.length ? ` AND ${where.join(' AND ')}` : ''}
      GROUP BY t.value ORDER BY newest DESC, t.value`;
    const rows = this.db.prepare(sql).raw().all(...(metric ? [metric.key] : []), ...args) as [string, number, number, number, number, number | null][];
    return rows.map(([id, experimentId, runs, running, queued, b]) => ({
      id, experimentId, runs, running, queued, ...(b !== null && Number.isFinite(b) ? { best: b } : {}),
    }));
  }

  /**
   * Starts a queued run in place (a sweep's trial): it becomes running, with what it runs. Params,
   * when given, replace the recorded ones. Throws when the run is no longer queued (e.g. cancelled).
   */
  begin(id: number, start: {
    startedAt: number; command: string[] | string; cwd: string; git?: GitState | null;
    params?: Record<string, ParamValue>; tags?: Record<string, string>;
  }): Run {
    this.db.transaction(() => {
      const { git } = start;
      const info = this.db.prepare(`UPDATE runs SET status = 'running', started_at = ?, command = ?, cwd = ?,
          git_commit = ?, git_branch = ?, git_dirty = ? WHERE id = ? AND status = 'queued'`).run(
        start.startedAt, JSON.stringify(start.command), start.cwd, git?.commit ?? null, git?.branch ?? null,
        git ? (git.dirty ? 1 : 0) : null, id);
      if (info.changes === 0) throw new Error(`run ${id} is no longer queued`);
      if (start.params) {
        this.db.prepare('DELETE FROM params WHERE run_id = ?').run(id);
        this.setParams(id, start.params);
      }
      if (start.tags) this.setTags(id, start.tags);
    }).immediate();
    return this.get(id)!;
  }

  /** Marks the runs among `ids` that are still queued as stopped, with `tags`; returns their ids. */
  stopQueued(ids: readonly number[], tags?: Record<string, string>): number[] {
    return this.db.transaction(() => {
      const stopped = this.db.prepare(`UPDATE runs SET status = 'stopped', ended_at = ? WHERE status = 'queued'
        AND id IN (SELECT value FROM json_each(?)) RETURNING id`).pluck().all(this.now(), JSON.stringify(ids)) as number[];
      if (tags) for (const id of stopped) this.setTags(id, tags);
      return stopped;
    }).immediate();
  }

  /** Param keys that at least one run has, sorted. */
  paramKeys(): string[] {
    return this.db.prepare(distinctKeys('params')).pluck().all() as string[];
  }

  /** Metric keys that at least one run has logged, sorted. */
  metricKeys(): string[] {
    return this.db.prepare(`SELECT name FROM metric_keys k
      WHERE EXISTS (SELECT 1 FROM metric_summaries s WHERE s.key_id = k.id) ORDER BY name`).pluck().all() as string[];
  }

  /** Tag keys that at least one run has, sorted. */
  tagKeys(): string[] {
    return this.db.prepare(distinctKeys('tags')).pluck().all() as string[];
  }

  /** Every key a filter expression may name, for completion and for "did you mean" errors. */
  filterKeys(): Required<KnownKeys> {
    return { params: this.paramKeys(), metrics: this.metricKeys(), tags: this.tagKeys() };
  }

  /** The last value of one metric for many runs, in one query. Runs without it (or with NaN) are left out. */
  lastMetric(runIds: readonly number[], key: string): Map<number, number> {
    const out = new Map<number, number>();
    if (!runIds.length) return out;
    const rows = this.db.prepare(`SELECT s.run_id, s.last_value FROM metric_summaries s
      WHERE s.key_id = (SELECT id FROM metric_keys WHERE name = ?) AND s.run_id IN (SELECT value FROM json_each(?))`)
      .raw().all(key, JSON.stringify(runIds)) as [number, number | null][];
    for (const [id, v] of rows) if (v !== null && Number.isFinite(v)) out.set(id, v);
    return out;
  }

  /** WHERE terms over `runs r` for the filter fields of a query. */
  private conditions(query: RunFilter): { where: string[]; args: SqlArg[] } {
    const where: string[] = [];
    const args: SqlArg[] = [];
    if (query.experimentId !== undefined) { where.push('r.experiment_id = ?'); args.push(query.experimentId); }
    if (query.sweep === null) where.push(`NOT EXISTS (SELECT 1 FROM tags s WHERE s.run_id = r.id AND s.key = '${SWEEP_TAG}')`);
    else if (query.sweep !== undefined) { where.push(`r.id IN (SELECT run_id FROM tags WHERE key = '${SWEEP_TAG}' AND value = ?)`); args.push(query.sweep); }
    if (query.originals) where.push('r.reproduces IS NULL');
    if (query.status?.length) { where.push(`r.status IN (${query.status.map(() => '?').join(',')})`); args.push(...query.status); }
    const text = query.text?.trim();
    if (text) {
      // instr, not LIKE: % and _ in the text are matched as themselves.
      where.push(`(instr(lower(r.name), lower(?)) > 0 OR instr(lower(r.notes), lower(?)) > 0
        OR EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND (instr(lower(t.key), lower(?)) > 0 OR instr(lower(t.value), lower(?)) > 0)))`);
      args.push(text, text, text, text);
    }
    const node = query.where === undefined ? undefined : parseFilter(query.where);
    if (node) {
      const filter = compileFilter(node, this.filterKeys(), { now: this.now() });
      where.push(filter.sql);
      args.push(...filter.args);
    }
    return { where, args };
  }

  /** ORDER BY for a sort: runs without the key last either way, ties newest first. Pushes its args. */
  private orderBy(sort: RunSort, args: SqlArg[]): string {
    if (sort.dir !== 'asc' && sort.dir !== 'desc') throw new RangeError(`unknown sort direction ${String(sort.dir)}`);
    const dir = sort.dir === 'asc' ? 'ASC' : 'DESC';
    switch (sort.by) {
      case 'created': return `r.created_at ${dir}, r.id ${dir}`;
      case 'name': return `r.name COLLATE NOCASE ${dir}, ${NEWEST_FIRST}`;
      case 'status': return `${STATUS_ORDER} ${dir}, ${NEWEST_FIRST}`;
      case 'started': return `r.started_at ${dir} NULLS LAST, ${NEWEST_FIRST}`;
      case 'duration':
        args.push(this.now());
        return `${DURATION_SQL} ${dir} NULLS LAST, ${NEWEST_FIRST}`;
      case 'param':
        args.push(sort.key);
        return `${paramSql()} ${dir} NULLS LAST, ${NEWEST_FIRST}`;
      case 'metric':
        args.push(sort.key);
        return `${metricSql()} ${dir} NULLS LAST, ${NEWEST_FIRST}`;
      default:
        throw new RangeError(`unknown sort ${String((sort as { by: unknown }).by)}`);
    }
  }

  update(id: number, change: RunUpdate): Run {
    const columns: Record<keyof RunUpdate, string> = {
      name: 'name', status: 'status', startedAt: 'started_at', endedAt: 'ended_at', exitCode: 'exit_code',
      notes: 'notes', starred: 'starred',
    };
    const sets: string[] = [];
    const args: (string | number | null)[] = [];
    for (const [k, v] of Object.entries(change) as [keyof RunUpdate, RunUpdate[keyof RunUpdate]][]) {
      if (v === undefined) continue;
      if (k === 'name' && !String(v).trim()) throw new RangeError('a run name cannot be empty');
      if (k === 'status' && !RUN_STATUSES.includes(v as RunStatus)) throw new RangeError(`unknown run status ${v}`);
      sets.push(`${columns[k]} = ?`);
      args.push(typeof v === 'boolean' ? (v ? 1 : 0) : k === 'name' ? String(v).trim() : v);
    }
    if (sets.length) {
      const info = this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
      if (info.changes === 0) throw new RangeError(`run ${id} does not exist`);
    }
    const run = this.get(id);
    if (!run) throw new RangeError(`run ${id} does not exist`);
    return run;
  }

  /**
   * Deletes a run with its params, tags, points and artifacts. Returns false when it was already gone.
   * A run that model versions come from is kept: their lineage needs it.
   */
  delete(id: number): boolean {
    const versions = this.db.prepare(`SELECT m.name || ' v' || v.version FROM model_versions v JOIN models m ON m.id = v.model_id
      WHERE v.run_id = ? ORDER BY m.name, v.version`).pluck().all(id) as string[];
    if (versions.length) throw new Error(`This run produced model versions (${versions.join(', ')}); it is kept for their lineage.`);
    return this.db.prepare('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
  }

  setParams(runId: number, params: Record<string, ParamValue>): void {
    const put = this.db.prepare('INSERT OR REPLACE INTO params (run_id, key, type, value) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(params)) {
        const type = paramType(value);
        put.run(runId, key, type, type === 'bool' ? (value ? 1 : 0) : value);
      }
    })();
  }

  params(runId: number): Record<string, ParamValue> {
    const rows = this.db.prepare('SELECT key, type, value FROM params WHERE run_id = ? ORDER BY key').all(runId) as
      { key: string; type: string; value: number | string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.type === 'bool' ? r.value === 1 : r.value]));
  }

  setTags(runId: number, tags: Record<string, string>): void {
    const put = this.db.prepare('INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(tags)) put.run(runId, key, String(value));
    })();
  }

  removeTag(runId: number, key: string): void {
    this.db.prepare('DELETE FROM tags WHERE run_id = ? AND key = ?').run(runId, key);
  }

  tags(runId: number): Record<string, string> {
    const rows = this.db.prepare('SELECT key, value FROM tags WHERE run_id = ? ORDER BY key').all(runId) as
      { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }
}
