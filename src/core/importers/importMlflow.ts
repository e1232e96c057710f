/**
 * MLflow runs into the store: one RunLens run per MLflow run, with its params, tags, metrics,
 * git commit and dataset inputs; registered model versions and aliases into the model registry.
 * Each run is committed in one transaction and remembered by its origin (`mlflow:<source>#<run_id>`),
 * so importing the same source again adds nothing; a run that was still going gets what is new.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '../store/store.ts';
import type { Columns } from '../store/chunks.ts';
import type { MlflowExport, MlflowRun, MlflowStatus } from '../formats/types.ts';
import { readMlflowFileStore } from '../formats/mlflowFileStore.ts';
import { type ParamValue, type Run, type RunStatus, isFinal } from '../types.ts';
import { checkAlias, checkModelName } from '../store/modelRepository.ts';
import { countPoints, groupPoints } from '../capture/columns.ts';
import { readMlflowSqlite } from './mlflowSqlite.ts';
import { type ImportOptions, type ImportReport, breathe, emptyReport, paramValue, skippedFrom } from './report.ts';

export const ORIGIN_TAG = 'runlens.origin';

const STATUS: Record<MlflowStatus, RunStatus> = {
  RUNNING: 'running', SCHEDULED: 'queued', FINISHED: 'finished', FAILED: 'failed', KILLED: 'stopped',
};

/** RunLens's status for an MLflow run; without one, finished when it has an end time, else crashed. */
export function mapStatus(r: MlflowRun): RunStatus {
  return r.status ? STATUS[r.status] : r.endTime !== null ? 'finished' : 'crashed';
}

/**
 * Where a source is, as an import origin: `mlflow:sqlite:////<abs path>` for a database file,
 * `mlflow:<abs path of mlruns>` for a file store. Accepts paths, `sqlite:///` and `file://` URIs;
 * a folder holding mlflow.db means that database, a folder holding mlruns/ that file store.
 */
export function mlflowSource(pathOrUri: string): { kind: 'sqlite' | 'files'; path: string; origin: string } {
  let path = pathOrUri;
  if (path.startsWith('sqlite:///')) path = path.slice('sqlite:///'.length); // SQLAlchemy: 4 slashes before an absolute path
  else if (path.startsWith('file://')) path = fileURLToPath(path);
  path = resolve(path);
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
  if (isDir(path) && existsSync(join(path, 'mlflow.db'))) path = join(path, 'mlflow.db'); // MLflow 3.7+: runs in ./mlflow.db
  if (!isDir(path)) return { kind: 'sqlite', path, origin: `mlflow:sqlite:///${path}` };
  if (isDir(join(path, 'mlruns')) && !existsSync(join(path, 'meta.yaml'))) path = join(path, 'mlruns');
  return { kind: 'files', path, origin: `mlflow:${path}` };
}

/** Reads an MLflow database file or mlruns folder and imports it (see importMlflow). */
export async function importMlflowFrom(store: Store, pathOrUri: string, options: ImportOptions = {}): Promise<ImportReport> {
  const src = mlflowSource(pathOrUri);
  const exp = src.kind === 'sqlite' ? readMlflowSqlite(src.path) : readMlflowFileStore(src.path);
  return importMlflow(store, exp, src.origin, options);
}

/**
 * Imports what a reader returned. `origin` names the source (see mlflowSource); each run's origin
 * is `<origin>#<run_id>`. Yields to the event loop between runs.
 */
export async function importMlflow(store: Store, exp: MlflowExport, origin: string, options: ImportOptions = {}): Promise<ImportReport> {
  const report = emptyReport();
  report.skipped.push(...exp.problems.map(skippedFrom));
  const experiments = new Map(exp.experiments.map((e) => [e.id, e.name]));
  const runs = [...exp.runs].sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0)); // oldest first: newest on top
  for (let i = 0; i < runs.length; i++) {
    if (options.signal?.aborted) { report.cancelled = true; return report; }
    const r = runs[i]!;
    try {
      importRun(store, r, `${origin}#${r.id}`, experiments.get(r.experimentId) ?? 'mlflow', report);
    } catch (err) {
      report.skipped.push({ what: `run ${r.name} (${r.id})`, why: (err as Error).message });
    }
    options.onProgress?.(i + 1, runs.length);
    await breathe();
  }
  if (options.signal?.aborted) { report.cancelled = true; return report; }
  importModels(store, exp, origin, report);
  return report;
}

function importRun(store: Store, r: MlflowRun, origin: string, experiment: string, report: ImportReport): void {
  const status = mapStatus(r);
  const params: { [k: string]: ParamValue } = {};
  for (const [k, v] of Object.entries(r.params)) params[k] = paramValue(v);
  const tags = { ...r.tags, [ORIGIN_TAG]: origin };
  store.transaction(() => {
    let run: Run | undefined = store.runs.getByOrigin(origin);
    let batch: [string, Columns][];
    if (!run) {
      const commit = r.gitCommit ?? r.tags['mlflow.source.git.commit'];
      run = store.runs.create({
        name: r.name || r.id, experiment, status, startedAt: r.startTime, params, tags, origin,
        git: commit ? { commit, branch: r.tags['mlflow.source.git.branch'] ?? null, dirty: false } : null,
      });
      batch = groupPoints(r.metrics);
      report.runs++;
    } else {
      // Imported before: keep what is there, add the points past each key's stored count.
      const counts = new Map(store.metrics.summaries(run.id).map((s) => [s.key, s.count]));
      const seen = new Map<string, number>();
      batch = groupPoints(r.metrics, undefined, (key) => {
        const n = (seen.get(key) ?? 0) + 1;
        seen.set(key, n);
        return n > (counts.get(key) ?? 0);
      });
      const changed = batch.length > 0 || run.status !== status || run.endedAt !== r.endTime;
      if (!changed && isFinal(run.status)) { report.unchanged++; return; }
      if (changed) report.updated++;
      else report.unchanged++;
      store.runs.setParams(run.id, params);
      store.runs.setTags(run.id, tags);
    }
    store.metrics.appendMany(run.id, batch);
    store.runs.update(run.id, { status, endedAt: r.endTime, startedAt: r.startTime });
    for (const d of r.datasets ?? []) {
      const path = d.name || d.source;
      if (!path) continue;
      store.provenance.setDataset(run.id, { path, kind: 'file', digest: d.digest, fileCount: 0, bytes: 0, files: [] });
    }
    report.points += countPoints(batch);
  });
}

/** Registered versions whose run was imported, then aliases (a RunLens alias moved since is left alone). */
function importModels(store: Store, exp: MlflowExport, origin: string, report: ImportReport): void {
  const ids = new Map<string, number>(); // `${model}\0${version}` -> RunLens version id
  for (const v of exp.versions ?? []) {
    const what = `model ${v.model} version ${v.version}`;
    if (!v.runId) { report.skipped.push({ what, why: 'MLflow does not say which run made it' }); continue; }
    const run = store.runs.getByOrigin(`${origin}#${v.runId}`);
    if (!run) { report.skipped.push({ what, why: `its run ${v.runId} is not in this source` }); continue; }
    const bad = checkModelName(v.model);
    if (bad) { report.skipped.push({ what, why: bad }); continue; }
    const have = store.models.versionsOfRun(run.id).find((x) => x.model === v.model && x.path === v.source
      && ((x.metadata as { mlflow?: { version?: number } } | null)?.mlflow?.version ?? v.version) === v.version);
    if (have) { ids.set(`${v.model}\0${v.version}`, have.id); continue; }
    const mv = store.models.register({
      model: v.model, runId: run.id, artifactId: null, path: v.source, kind: 'mlflow', digest: '', size: 0, fileCount: 0,
      metadata: { mlflow: { version: v.version, stage: v.stage, status: v.status, createdAt: v.createdAt } },
      description: v.description, params: store.runs.params(run.id), metrics: store.metrics.summaries(run.id),
    });
    ids.set(`${v.model}\0${v.version}`, mv.id);
    report.models++;
  }
  for (const a of exp.aliases ?? []) {
    const what = `alias ${a.model}@${a.alias}`;
    const id = ids.get(`${a.model}\0${a.version}`);
    if (id === undefined) { report.skipped.push({ what, why: `version ${a.version} was not imported` }); continue; }
    const bad = checkAlias(a.alias);
    if (bad) { report.skipped.push({ what, why: bad }); continue; }
    const current = store.models.find(a.model, a.alias);
    if (current && current.id !== id) {
      report.skipped.push({ what, why: `it already points at version ${current.version} in RunLens; left there` });
      continue;
    }
    if (!current) store.models.setAlias(id, a.alias);
  }
}
