/**
 * MLflow's SQL tracking store in a SQLite file (`mlflow.db`, MLflow's default since 3.7), read
 * only, through the tables of MLflow's documented SQLAlchemy schema. Tables that older MLflow
 * versions lack (model registry, aliases, datasets) are simply absent from the result.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type {
  MlflowAlias, MlflowDatasetInput, MlflowExport, MlflowModel, MlflowModelVersion, MlflowRun, MlflowStatus, ScalarPoint,
} from '../formats/types.ts';

type Db = Database.Database;
type Row = { [k: string]: unknown };

const STATUSES: MlflowStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];

/**
 * Reads experiments, runs (params, tags, metrics, dataset inputs) and the model registry. Deleted runs
 * are counted in deletedRuns, except those a model version names: they come flagged. Never throws.
 */
export function readMlflowSqlite(file: string): MlflowExport {
  const out: MlflowExport = { experiments: [], runs: [], problems: [] };
  if (!existsSync(file)) {
    out.problems.push(`${file}: no such file`);
    return out;
  }
  let db: Db | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    read(db, out);
  } catch (err) {
    out.experiments = [];
    out.runs = [];
    out.problems.push(`${file}: not a readable MLflow database (${(err as Error).message}); nothing imported from it`);
  } finally {
    db?.close();
  }
  return out;
}

function read(db: Db, out: MlflowExport): void {
  const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
  for (const t of ['experiments', 'runs']) if (!tables.has(t)) throw new Error(`it has no ${t} table`);
  const columns = (t: string) => new Set((db.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => c.name));

  // Deleted runs (or runs of deleted experiments) are counted and left out, unless a model version names them.
  const live = (r: Row) => r.lifecycle_stage !== 'deleted';
  const experiments = new Map<string, { id: string; name: string; deleted: boolean }>();
  for (const e of db.prepare('SELECT * FROM experiments ORDER BY experiment_id').all() as Row[]) {
    const id = String(e.experiment_id);
    experiments.set(id, { id, name: typeof e.name === 'string' ? e.name : id, deleted: !live(e) });
  }
  const wanted = new Set<string>();
  if (tables.has('model_versions')) {
    const sql = "SELECT DISTINCT run_id FROM model_versions WHERE run_id IS NOT NULL AND coalesce(current_stage, '') != 'Deleted_Internal'";
    try {
      for (const id of db.prepare(sql).pluck().all()) wanted.add(String(id));
    } catch { /* reported with the model_versions section below */ }
  }

  const runs = new Map<string, MlflowRun>();
  const used = new Set<string>();
  out.deletedRuns = 0;
  for (const r of db.prepare('SELECT * FROM runs ORDER BY start_time, run_uuid').all() as Row[]) {
    const exp = experiments.get(String(r.experiment_id));
    if (!exp) continue;
    const id = String(r.run_uuid);
    const deleted = exp.deleted || !live(r);
    if (deleted && !wanted.has(id)) { out.deletedRuns++; continue; }
    used.add(exp.id);
    runs.set(id, {
      id, experimentId: exp.id, name: typeof r.name === 'string' && r.name ? r.name : id,
      status: statusOf(r.status), startTime: num(r.start_time), endTime: num(r.end_time),
      artifactUri: typeof r.artifact_uri === 'string' ? r.artifact_uri : null,
      params: {}, tags: {}, metrics: [], gitCommit: null, ...(deleted && { deleted: true }),
    });
  }
  for (const e of experiments.values()) {
    if (!e.deleted) out.experiments.push({ id: e.id, name: e.name });
    else if (used.has(e.id)) out.experiments.push({ id: e.id, name: e.name, deleted: true });
  }

  const section = (table: string, fn: () => void) => {
    if (!tables.has(table)) return;
    try {
      fn();
    } catch (err) {
      out.problems.push(`table ${table}: ${(err as Error).message}; skipped`);
    }
  };
  section('params', () => {
    for (const [key, value, run] of db.prepare('SELECT key, value, run_uuid FROM params ORDER BY run_uuid, key').raw().iterate() as Iterable<[string, string | null, string]>) {
      const r = runs.get(run);
      if (r) r.params[key] = value ?? '';
    }
  });
  section('tags', () => {
    for (const [key, value, run] of db.prepare('SELECT key, value, run_uuid FROM tags ORDER BY run_uuid, key').raw().iterate() as Iterable<[string, string | null, string]>) {
      const r = runs.get(run);
      if (r) r.tags[key] = value ?? '';
    }
  });
  section('metrics', () => {
    const c = columns('metrics');
    const step = c.has('step') ? 'step' : '0';
    const nan = c.has('is_nan') ? 'is_nan' : '0';
    // rowid last: points logged at the same time and step stay in the order they were logged.
    const sql = `SELECT run_uuid, key, value, timestamp, ${step}, ${nan} FROM metrics ORDER BY run_uuid, key, timestamp, ${step}, rowid`;
    const all = new Map<MlflowRun, ScalarPoint[]>(); // assigned only when the whole table was read
    let current: ScalarPoint[] | undefined, currentId: string | undefined;
    for (const [run, key, value, ts, s, isNan] of db.prepare(sql).raw().iterate() as Iterable<[string, string, number | null, number, number, number]>) {
      if (run !== currentId) {
        currentId = run;
        const r = runs.get(run);
        current = r && [];
        if (r) all.set(r, current!);
      }
      current?.push({ key, step: Number(s) || 0, time: Number(ts), value: isNan || value === null ? NaN : value });
    }
    for (const [r, points] of all) r.metrics = points;
  });
  for (const r of runs.values()) {
    if (r.name === r.id && r.tags['mlflow.runName']) r.name = r.tags['mlflow.runName'];
    r.gitCommit = r.tags['mlflow.source.git.commit'] ?? null;
  }

  if (tables.has('datasets')) section('inputs', () => {
    const sql = `SELECT i.destination_id, d.name, d.digest, d.dataset_source_type, d.dataset_source FROM inputs i
      JOIN datasets d ON d.dataset_uuid = i.source_id
      WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' ORDER BY i.destination_id, d.name`;
    for (const [run, name, digest, type, source] of db.prepare(sql).raw().iterate() as Iterable<(string | null)[]>) {
      const r = runs.get(run!);
      if (!r) continue;
      const input: MlflowDatasetInput = { name: name ?? '', digest: digest ?? '', source: source ?? '', sourceType: type ?? '' };
      (r.datasets ??= []).push(input);
    }
  });
  out.runs = [...runs.values()];

  section('registered_models', () => {
    out.models = (db.prepare('SELECT name, description, creation_time FROM registered_models ORDER BY name').all() as Row[])
      .map((m): MlflowModel => ({ name: String(m.name), description: str(m.description), createdAt: num(m.creation_time) }));
  });
  section('model_versions', () => {
    out.versions = (db.prepare('SELECT * FROM model_versions ORDER BY name, version').all() as Row[])
      .filter((v) => v.current_stage !== 'Deleted_Internal')
      .map((v): MlflowModelVersion => ({
        model: String(v.name), version: Number(v.version), runId: v.run_id ? String(v.run_id) : null, source: str(v.source),
        stage: v.current_stage == null ? null : String(v.current_stage), status: v.status == null ? null : String(v.status),
        description: str(v.description), createdAt: num(v.creation_time),
      }));
  });
  section('registered_model_aliases', () => {
    out.aliases = (db.prepare('SELECT name, alias, version FROM registered_model_aliases ORDER BY name, alias').all() as Row[])
      .map((a): MlflowAlias => ({ model: String(a.name), alias: String(a.alias), version: Number(a.version) }));
  });
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'bigint' ? Number(v) : null);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function statusOf(v: unknown): MlflowStatus | null {
  if (typeof v === 'number') return STATUSES[v - 1] ?? null;
  const s = typeof v === 'string' ? v.toUpperCase() : '';
  return (STATUSES as string[]).includes(s) ? s as MlflowStatus : null;
}
