/**
 * One run written in MLflow's file-store layout, which `mlflow ui --backend-store-uri <dir>/mlruns`
 * (and readMlflowFileStore) read:
 *   mlruns/<exp>/meta.yaml
 *   mlruns/<exp>/<run_id>/meta.yaml, params/<key>, metrics/<key> ("<ms> <value> <step>" lines), tags/<key>
 * run_id is the RunLens uid without dashes. A key with "/" becomes nested folders, as in MLflow.
 * Every key is checked as a path first (no "..", absolute paths, NUL, backslash or control
 * characters, no symlink on the way); a key that fails is left out and reported.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import type { Store } from '../store/store.ts';
import type { ParamValue, RunStatus } from '../types.ts';
import { checkRelativePath, safeWritePath } from '../artifacts/safePath.ts';

// mlflow.entities.RunStatus
const STATUS: Record<RunStatus, number> = { running: 1, queued: 2, finished: 3, failed: 4, crashed: 4, stopped: 5 };

export interface MlflowLayoutResult {
  runId: string;
  /** The run's folder. */
  dir: string;
  /** Keys left out, and why. */
  skipped: { what: string; why: string }[];
}

/** How MLflow's Python client writes a param: booleans as True / False. */
const paramText = (v: ParamValue) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
/** Python's float repr for the special values. */
const valueText = (v: number) => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v));

export function exportMlflowLayout(store: Store, runId: number, dir: string, experimentId = '0'): MlflowLayoutResult {
  const run = store.runs.get(runId);
  if (!run) throw new RangeError(`run ${runId} does not exist`);
  if (!/^[A-Za-z0-9_-]+$/.test(experimentId)) throw new RangeError(`experiment id ${JSON.stringify(experimentId)} is not a folder name MLflow uses`);
  const mlruns = resolve(dir, 'mlruns');
  const expDir = safeWritePath(mlruns, experimentId, 'experiment id');
  mkdirSync(expDir, { recursive: true });
  const expMeta = join(expDir, 'meta.yaml');
  if (!existsSync(expMeta)) {
    const t = Math.round(run.createdAt);
    writeFileSync(safeWritePath(expDir, 'meta.yaml'), stringify({
      artifact_location: pathToFileURL(expDir).href, creation_time: t, experiment_id: experimentId,
      last_update_time: t, lifecycle_stage: 'active', name: experimentId === '0' ? 'Default' : run.experiment,
    }));
  }
  const id = run.uid.replaceAll('-', '');
  const runDir = safeWritePath(expDir, id, 'run id');
  mkdirSync(runDir, { recursive: true });
  const skipped: MlflowLayoutResult['skipped'] = [];
  const write = (sub: string, key: string, body: string) => {
    try {
      if (checkRelativePath(key, `${sub} key`) !== key) throw new Error('it would not read back as the same key (empty, "." or doubled "/" parts)');
      writeFileSync(safeWritePath(runDir, `${sub}/${key}`, `${sub} key`), body);
    } catch (err) {
      skipped.push({ what: `${sub}/${key}`, why: (err as Error).message });
    }
  };

  const startTime = Math.round(run.startedAt ?? run.createdAt);
  const tags: { [k: string]: string } = {
    ...store.runs.tags(runId),
    'mlflow.runName': run.name,
    'runlens.uid': run.uid,
  };
  if (run.git) {
    tags['mlflow.source.git.commit'] = run.git.commit;
    if (run.git.branch) tags['mlflow.source.git.branch'] = run.git.branch;
  }
  if (run.notes) tags['mlflow.note.content'] = run.notes;
  for (const [k, v] of Object.entries(store.runs.params(runId))) write('params', k, paramText(v));
  for (const [k, v] of Object.entries(tags)) write('tags', k, v);
  for (const s of store.metrics.summaries(runId)) {
    const c = store.metrics.points(runId, s.key);
    const lines: string[] = new Array(c.values.length);
    for (let i = 0; i < c.values.length; i++) lines[i] = `${Math.round(c.times[i]!)} ${valueText(c.values[i]!)} ${c.steps[i]}\n`;
    write('metrics', s.key, lines.join(''));
  }
  mkdirSync(join(runDir, 'artifacts'), { recursive: true });
  writeFileSync(safeWritePath(runDir, 'meta.yaml'), stringify({
    artifact_uri: pathToFileURL(join(runDir, 'artifacts')).href,
    end_time: run.endedAt === null ? null : Math.round(run.endedAt),
    entry_point_name: '', experiment_id: experimentId, lifecycle_stage: 'active',
    run_id: id, run_name: run.name, run_uuid: id, source_name: '', source_type: 4, source_version: run.git?.commit ?? '',
    start_time: startTime, status: STATUS[run.status], tags: [], user_id: '',
  }));
  return { runId: id, dir: runDir, skipped };
}
