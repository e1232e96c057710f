/**
 * MLflow's file store (`mlruns/`): <experiment>/meta.yaml, <experiment>/<run>/meta.yaml, and per run
 * metrics/<key> ("timestamp_ms value step" lines), params/<key> and tags/<key> (the file is the value).
 * Keys with slashes are nested folders. The model registry is in models/<name>/ (see readRegistry).
 * Symlinks are never followed.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { parse } from 'yaml';
import { cellNumber } from './delimited.ts';
import type { MlflowAlias, MlflowExport, MlflowModelVersion, MlflowRun, MlflowStatus, ScalarPoint } from './types.ts';

const STATUSES: MlflowStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];
/** Folders in an experiment that are not runs. */
const NOT_RUNS = new Set(['tags', 'datasets', 'traces', 'models']);

type Meta = { [k: string]: unknown };

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/**
 * Reads `root` (the mlruns folder, or a folder holding one). Problems are collected, never thrown.
 * Deleted runs (and the runs of deleted experiments, also in .trash/) are counted in deletedRuns and
 * left out, except those a registered model version names: they come flagged `deleted`.
 */
export function readMlflowFileStore(root: string): MlflowExport {
  const out: MlflowExport = { experiments: [], runs: [], problems: [], deletedRuns: 0 };
  if (!isMlflowFileStore(root) && isMlflowFileStore(join(root, 'mlruns'))) root = join(root, 'mlruns');
  readRegistry(join(root, 'models'), out);
  const wanted = new Set((out.versions ?? []).map((v) => v.runId));
  readExperiments(root, false, wanted, out);
  if (kindOf(join(root, '.trash')) === 'dir') readExperiments(join(root, '.trash'), true, wanted, out);
  return out;
}

/**
 * Whether `dir` is an MLflow file store: a folder in it (or in its .trash) holds an experiment's
 * meta.yaml, whose experiment_id is the folder's name (as MLflow names them).
 */
export function isMlflowFileStore(dir: string): boolean {
  for (const base of [dir, join(dir, '.trash')]) {
    if (kindOf(base) !== 'dir') continue;
    for (const name of list(base, [])) {
      if (name.startsWith('.') || name === 'models' || kindOf(join(base, name)) !== 'dir') continue;
      const meta = readMeta(join(base, name, 'meta.yaml'), []);
      if (meta && text(meta.experiment_id) === name) return true;
    }
  }
  return false;
}

/** The experiments in `base` (the store, or its .trash, whose experiments are deleted) and their runs. */
function readExperiments(base: string, trashed: boolean, wanted: Set<string | null>, out: MlflowExport): void {
  for (const expDir of list(base, out.problems)) {
    if (expDir.startsWith('.') || (expDir === 'models' && !trashed)) continue; // .trash, registered models
    const expPath = join(base, expDir);
    const kind = kindOf(expPath);
    if (kind === 'link') { out.problems.push(`${expPath}: a symlink; not followed`); continue; }
    if (kind !== 'dir') continue;
    const meta = readMeta(join(expPath, 'meta.yaml'), out.problems);
    if (meta === null) {
      out.problems.push(isMlflowFileStore(expPath)
        ? `${expPath}: another MLflow file store inside this one (a stray mlruns folder?); not read: import it on its own`
        : `${expPath}: no meta.yaml; not an experiment`);
      continue;
    }
    const deleted = trashed || meta?.lifecycle_stage === 'deleted';
    const id = text(meta?.experiment_id) ?? expDir;
    const before = out.runs.length;
    for (const runDir of list(expPath, out.problems)) {
      if (runDir === 'meta.yaml' || NOT_RUNS.has(runDir) || runDir.startsWith('.')) continue;
      const runPath = join(expPath, runDir);
      const runKind = kindOf(runPath);
      if (runKind === 'link') { out.problems.push(`${runPath}: a symlink; not followed`); continue; }
      if (runKind !== 'dir') continue;
      const run = readRun(runPath, runDir, id, deleted, wanted, out);
      if (run) out.runs.push(run);
    }
    if (!deleted || out.runs.length > before) out.experiments.push({ id, name: text(meta?.name) ?? expDir, ...(deleted && { deleted: true }) });
  }
}

/**
 * The registry: models/<name>/meta.yaml, models/<name>/version-<n>/meta.yaml (run_id, source,
 * current_stage, ...), and models/<name>/aliases/<alias>, a file holding the version number
 * (an `aliases` list in a version's meta.yaml counts too). Deleted versions are left out.
 */
function readRegistry(dir: string, out: MlflowExport): void {
  if (kindOf(dir) !== 'dir') return;
  out.models = [];
  out.versions = [];
  out.aliases = [];
  for (const name of list(dir, out.problems)) {
    const path = join(dir, name);
    const kind = kindOf(path);
    if (kind === 'link') { out.problems.push(`${path}: a symlink; not followed`); continue; }
    if (kind !== 'dir') continue;
    const meta = readMeta(join(path, 'meta.yaml'), out.problems);
    if (meta === null) { out.problems.push(`${path}: no meta.yaml; not a registered model`); continue; }
    if (meta === undefined) continue;
    const model = text(meta.name) ?? name;
    out.models.push({ name: model, description: text(meta.description) ?? '', createdAt: time(meta.creation_timestamp) });
    const aliases = new Map<string, number>();
    for (const entry of list(path, out.problems)) {
      const m = /^version-(\d+)$/.exec(entry);
      const vPath = join(path, entry);
      if (!m || kindOf(vPath) !== 'dir') continue;
      const v = readMeta(join(vPath, 'meta.yaml'), out.problems);
      if (v === null) out.problems.push(`${vPath}: no meta.yaml; not a model version`);
      if (!v || v.current_stage === 'Deleted_Internal') continue;
      const version: MlflowModelVersion = {
        model, version: Number(text(v.version) ?? m[1]), runId: str(v.run_id) || null, source: text(v.source) ?? '',
        stage: text(v.current_stage) ?? null, status: text(v.status) ?? null, description: text(v.description) ?? '',
        createdAt: time(v.creation_timestamp),
      };
      out.versions.push(version);
      if (Array.isArray(v.aliases)) for (const a of v.aliases) if (typeof a === 'string') aliases.set(a, version.version);
    }
    const aliasDir = join(path, 'aliases');
    if (kindOf(aliasDir) === 'dir') {
      for (const alias of list(aliasDir, out.problems)) {
        const file = join(aliasDir, alias);
        if (kindOf(file) !== 'file') continue;
        let version: number;
        try {
          version = Number(readFileSync(file, 'utf8').trim());
        } catch (err) {
          out.problems.push(`${file}: ${(err as Error).message}`);
          continue;
        }
        if (Number.isInteger(version) && version > 0) aliases.set(alias, version);
        else out.problems.push(`${file}: not a version number; skipped`);
      }
    }
    for (const [alias, version] of [...aliases].sort(([a], [b]) => byName(a, b))) out.aliases.push({ model, alias, version } satisfies MlflowAlias);
  }
}

function readRun(runPath: string, runDir: string, experimentId: string, expDeleted: boolean, wanted: Set<string | null>, out: MlflowExport): MlflowRun | undefined {
  const problems = out.problems;
  const meta = readMeta(join(runPath, 'meta.yaml'), problems);
  if (meta === null) { problems.push(`${runPath}: no meta.yaml; not a run`); return undefined; }
  if (meta === undefined) return undefined;
  const id = str(meta.run_id) ?? str(meta.run_uuid) ?? runDir; // a number would have lost digits
  const deleted = expDeleted || meta.lifecycle_stage === 'deleted';
  if (deleted && !wanted.has(id)) { out.deletedRuns = (out.deletedRuns ?? 0) + 1; return undefined; }
  const params: { [key: string]: string } = {};
  const tags: { [key: string]: string } = {};
  const metrics: ScalarPoint[] = [];
  walk(runPath, 'params', problems, (key, body) => { params[key] = body; });
  walk(runPath, 'tags', problems, (key, body) => { tags[key] = body; });
  walk(runPath, 'metrics', problems, (key, body, path) => readMetric(key, body, path, metrics, problems));
  return {
    id,
    experimentId: text(meta.experiment_id) ?? experimentId,
    name: text(meta.run_name) || tags['mlflow.runName'] || text(meta.name) || id,
    status: statusOf(meta.status),
    startTime: time(meta.start_time),
    endTime: time(meta.end_time),
    artifactUri: text(meta.artifact_uri) ?? null,
    params,
    tags,
    metrics,
    gitCommit: tags['mlflow.source.git.commit'] ?? null,
    ...(deleted && { deleted: true }),
  };
}

function readMetric(key: string, body: string, path: string, out: ScalarPoint[], problems: string[]): void {
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const parts = line.split(/\s+/);
    const t = cellNumber(parts[0] ?? ''), value = cellNumber(parts[1] ?? ''), step = parts.length > 2 ? cellNumber(parts[2]!) : 0;
    if (parts.length > 3 || typeof t !== 'number' || !Number.isFinite(t) || typeof value !== 'number'
      || typeof step !== 'number' || !Number.isFinite(step)) {
      problems.push(`${path}:${i + 1}: not "timestamp value step"; skipped`);
      continue;
    }
    out.push({ key, step, time: t, value });
  }
}

/** Calls `each` with every regular file under runPath/sub, keyed by its path below sub. */
function walk(runPath: string, sub: string, problems: string[], each: (key: string, body: string, path: string) => void): void {
  const base = join(runPath, sub);
  const kind = kindOf(base);
  if (kind === 'link') problems.push(`${base}: a symlink; not followed`);
  if (kind !== 'dir') return;
  const visit = (dir: string) => {
    for (const name of list(dir, problems)) {
      const path = join(dir, name);
      const rel = relative(runPath, path);
      if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) { problems.push(`${path}: outside its run folder; skipped`); continue; }
      const k = kindOf(path);
      if (k === 'link') problems.push(`${path}: a symlink; not followed`);
      else if (k === 'dir') visit(path);
      else if (k === 'file') {
        try {
          each(relative(base, path).split(sep).join('/'), readFileSync(path, 'utf8'), path);
        } catch (err) {
          problems.push(`${path}: ${(err as Error).message}`);
        }
      }
    }
  };
  visit(base);
}

/** The YAML mapping in a meta.yaml; null when there is none, undefined (with a problem) when it is corrupt. */
function readMeta(path: string, problems: string[]): Meta | null | undefined {
  const kind = kindOf(path);
  if (kind === 'none') return null;
  if (kind !== 'file') { problems.push(`${path}: not a regular file; skipped`); return undefined; }
  try {
    const doc: unknown = parse(readFileSync(path, 'utf8'), { logLevel: 'error' });
    if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) return doc as Meta;
    problems.push(`${path}: not a YAML mapping; skipped`);
  } catch (err) {
    problems.push(`${path}: ${(err as Error).message.split('\n')[0]}; skipped`);
  }
  return undefined;
}

function kindOf(path: string): 'file' | 'dir' | 'link' | 'other' | 'none' {
  try {
    const s = lstatSync(path);
    return s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
  } catch {
    return 'none';
  }
}

function list(dir: string, problems: string[]): string[] {
  try {
    return readdirSync(dir).sort(byName);
  } catch (err) {
    problems.push(`${dir}: ${(err as Error).message}`);
    return [];
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const time = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function statusOf(v: unknown): MlflowStatus | null {
  if (typeof v === 'number') return STATUSES[v - 1] ?? null;
  const s = typeof v === 'string' ? v.toUpperCase() : '';
  return (STATUSES as string[]).includes(s) ? s as MlflowStatus : null;
}
