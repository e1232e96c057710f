/**
 * MLflow runs into the store: one RunLens run per MLflow run, with its params, tags, metrics,
 * git commit and dataset inputs; registered model versions and aliases into the model registry.
 * Each run is committed in one transaction and remembered by its origin (`mlflow:<source>#<run_id>`),
 * so importing the same source again adds nothing; a run that was still going gets what is new.
 */
import type { Store } from '../store/store.ts';
import type { Columns } from '../store/chunks.ts';
import type { MlflowExport, MlflowModelVersion, MlflowRun, MlflowStatus } from '../formats/types.ts';
import { readMlflowFileStore } from '../formats/mlflowFileStore.ts';
import { type ParamValue, type Run, type RunStatus, isFinal } from '../types.ts';
import { checkAlias, checkModelName } from '../store/modelRepository.ts';
import { countPoints, groupPoints } from '../capture/columns.ts';
import { readMlflowSqlite } from './mlflowSqlite.ts';
import { findMlflowStore } from './mlflowSource.ts';
import { type ImportOptions, type ImportReport, breathe, emptyReport, paramValue, skippedFrom } from './report.ts';

export const ORIGIN_TAG = 'runlens.origin';
/** Marks a run MLflow deleted, imported for the model versions it made. */
export const DELETED_TAG = 'mlflow.lifecycle_stage';

const STATUS: Record<MlflowStatus, RunStatus> = {
  RUNNING: 'running', SCHEDULED: 'queued', FINISHED: 'finished', FAILED: 'failed', KILLED: 'stopped',
};

/** RunLens's status for an MLflow run; without one, finished when it has an end time, else crashed. */
export function mapStatus(r: MlflowRun): RunStatus {
  return r.status ? STATUS[r.status] : r.endTime !== null ? 'finished' : 'crashed';
}

/** Finds the MLflow store a path or URI means (see findMlflowStore) and imports it (see importMlflow). */
export async function importMlflowFrom(store: Store, pathOrUri: string, options: ImportOptions = {}): Promise<ImportReport> {
  const { source, notes } = findMlflowStore(pathOrUri);
  if (!source) return { ...emptyReport(), skipped: notes };
  const exp = source.kind === 'sqlite' ? readMlflowSqlite(source.path) : readMlflowFileStore(source.path);
  const report = await importMlflow(store, exp, source.origin, options);
  report.skipped.push(...notes);
  return report;
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
  const kept = runs.filter((r) => r.deleted).length;
  if (exp.deletedRuns || kept) {
    const out = exp.deletedRuns ? `${exp.deletedRuns} run(s) MLflow marks deleted were left out` : '';
    const made = kept ? `${kept} deleted run(s) were imported anyway, tagged ${DELETED_TAG}=deleted, since registered model versions were made by them` : '';
    report.skipped.push({ what: 'deleted runs', why: [out, made].filter(Boolean).join('; ') });
  }
  if (!runs.length && !report.skipped.length) {
    report.skipped.push({ what: origin.slice('mlflow:'.length), why: `an MLflow store with ${exp.experiments.length} experiment(s) and no runs` });
  }
  return report;
}

function importRun(store: Store, r: MlflowRun, origin: string, experiment: string, report: ImportReport): void {
  const status = mapStatus(r);
  const params: { [k: string]: ParamValue } = {};
  for (const [k, v] of Object.entries(r.params)) params[k] = paramValue(v);
  const tags = { ...r.tags, [ORIGIN_TAG]: origin, ...(r.deleted && { [DELETED_TAG]: 'deleted' }) };
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

/**
 * Registered versions whose run was imported, with MLflow's version numbers (a number RunLens already
 * uses for that model gets the next free one, said in the report), then aliases (a RunLens alias
 * moved since is left alone).
 */
function importModels(store: Store, exp: MlflowExport, origin: string, report: ImportReport): void {
  const ids = new Map<string, number>(); // `${model}\0${version}` -> RunLens version id
  const todo: { v: MlflowModelVersion; run: Run; taken: boolean }[] = [];
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
    todo.push({ v, run, taken: store.models.find(v.model, v.version) !== undefined });
  }
  // Free numbers first, so a renumbered version takes a number after all of MLflow's.
  for (const { v, run, taken } of [...todo.filter((t) => !t.taken), ...todo.filter((t) => t.taken)]) {
    const mv = store.models.register({
      model: v.model, runId: run.id, artifactId: null, path: v.source, kind: 'mlflow', digest: '', size: 0, fileCount: 0,
      metadata: { mlflow: { version: v.version, stage: v.stage, status: v.status, createdAt: v.createdAt } },
      description: v.description, params: store.runs.params(run.id), metrics: store.metrics.summaries(run.id),
      ...(!taken && { version: v.version }),
    });
    if (taken) {
      report.skipped.push({
        what: `model ${v.model} version ${v.version}`,
        why: `RunLens's ${v.model} already has a version ${v.version}; registered as version ${mv.version} (MLflow's number kept in its metadata)`,
      });
    }
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
