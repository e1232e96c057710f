// The inbox file the Python helper writes for a run it started by itself (runlens-inbox/1), checked
// strictly: each problem is said with the field it is in. Unknown fields are ignored.
import { isAbsolute } from 'node:path';
import type { GitState, ParamValue } from '../types.ts';
import type { StoredDataset } from '../store/provenanceRepository.ts';
import { type Packages, parsePackages } from '../provenance/packages.ts';
import { redactEnv } from '../provenance/environment.ts';
import { redactArgs } from '../provenance/redact.ts';

export const INBOX_FORMAT = 'runlens-inbox/1';
/** How the run started: one of RUN_SOURCES. Runs RunLens launched have no such tag. */
export const SOURCE_TAG = 'runlens.source';
/** The notebook a run came from (its absolute path); its snapshot is an artifact with source 'notebook'. */
export const NOTEBOOK_TAG = 'runlens.notebook';
export const RUN_SOURCES = ['terminal', 'debug', 'notebook', 'script', 'ci'] as const;
export type RunSource = (typeof RUN_SOURCES)[number];

/** An inbox file, checked. */
export interface InboxRun {
  uid: string;
  name?: string;
  experiment?: string;
  startedAt: number;
  source: RunSource;
  command: string[];
  cwd: string;
  interpreter: { path: string; version: string | null } | null;
  env: Record<string, string>;
  params: Record<string, ParamValue>;
  tags: Record<string, string>;
  git: GitState | null;
  patch: string | null;
  datasets: StoredDataset[];
  packages: Packages | null;
  notebook: { path: string; snapshot: string } | null;
  /** An evaluation of a model version (runlens.log_eval): the model, a version number or alias, the values. */
  eval: InboxEval | null;
}

export interface InboxEval {
  model: string;
  ref: number | string;
  metrics: { [key: string]: number };
}

/** What is wrong with an inbox file: it is moved to inbox/rejected/ with this as its reason. */
export class InboxError extends Error {}

const UID = /^[0-9a-f]{32}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const COMMIT = /^([0-9a-f]{40}|[0-9a-f]{64})$/;
const show = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 80);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function need(ok: boolean, message: string): asserts ok {
  if (!ok) throw new InboxError(message);
}

function text(v: unknown, where: string): string {
  need(typeof v === 'string' && v !== '', `"${where}" must be a non-empty string, not ${show(v)}`);
  return v;
}

const optionalText = (v: unknown, where: string) => (v === undefined || v === null ? undefined : text(v, where));

/** A plain file name inside the run folder. */
function fileName(v: unknown, where: string): string {
  const name = text(v, where);
  need(!/[\\/\0]/.test(name) && name !== '.' && name !== '..', `"${where}" must be a file name in the run folder, not ${show(v)}`);
  return name;
}

function count(v: unknown, where: string): number {
  need(Number.isSafeInteger(v) && (v as number) >= 0, `"${where}" must be a whole number >= 0, not ${show(v)}`);
  return v as number;
}

function strings(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  need(isObject(v), `"${where}" must be an object of strings`);
  for (const [k, x] of Object.entries(v)) need(typeof x === 'string', `"${where}.${k}" must be a string, not ${show(x)}`);
  return v as Record<string, string>;
}

function params(v: unknown): Record<string, ParamValue> {
  if (v === undefined || v === null) return {};
  need(isObject(v), '"params" must be an object');
  for (const [k, x] of Object.entries(v)) {
    need(typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x)),
      `"params.${k}" must be a number, string or boolean, not ${show(x)}`);
  }
  return v as Record<string, ParamValue>;
}

function git(v: unknown): GitState | null {
  if (v === undefined || v === null) return null;
  need(isObject(v), '"git" must be an object or null');
  need(typeof v.commit === 'string' && COMMIT.test(v.commit), `"git.commit" must be a commit id (40 hex digits), not ${show(v.commit)}`);
  need(v.branch === undefined || v.branch === null || typeof v.branch === 'string', `"git.branch" must be a string or null, not ${show(v.branch)}`);
  need(typeof v.dirty === 'boolean', `"git.dirty" must be true or false, not ${show(v.dirty)}`);
  return { commit: v.commit, branch: (v.branch as string | null | undefined) ?? null, dirty: v.dirty };
}

function datasets(v: unknown): StoredDataset[] {
  if (v === undefined || v === null) return [];
  need(Array.isArray(v), '"datasets" must be a list');
  return v.map((d: unknown, i) => {
    const at = `datasets[${i}]`;
    need(isObject(d), `"${at}" must be an object`);
    const digest = d.digest;
    need(typeof digest === 'string' && SHA256.test(digest), `"${at}.digest" must be a sha256 (64 hex digits), not ${show(digest)}`);
    need(Array.isArray(d.files), `"${at}.files" must be a list`);
    const files = (d.files as unknown[]).map((f, j) => {
      need(isObject(f) && typeof f.sha256 === 'string' && SHA256.test(f.sha256), `"${at}.files[${j}]" must have a path, a sha256 and a size`);
      return { path: text(f.path, `${at}.files[${j}].path`), sha256: f.sha256, size: count(f.size, `${at}.files[${j}].size`) };
    });
    need(d.kind === undefined || d.kind === 'file' || d.kind === 'directory', `"${at}.kind" must be "file" or "directory", not ${show(d.kind)}`);
    // A file dataset's digest is its one file's hash (datasetHash.ts); a folder's hashes the list.
    const kind = (d.kind as StoredDataset['kind'] | undefined) ?? (files.length === 1 && files[0]!.sha256 === digest ? 'file' : 'directory');
    return { path: text(d.path, `${at}.path`), kind, digest, fileCount: count(d.fileCount, `${at}.fileCount`), bytes: count(d.bytes, `${at}.bytes`), files };
  });
}

function evaluation(v: unknown): InboxEval | null {
  if (v === undefined || v === null) return null;
  need(isObject(v), '"eval" must be an object or null');
  const model = text(v.model, 'eval.model');
  const ref = v.ref;
  need((Number.isSafeInteger(ref) && (ref as number) >= 1) || (typeof ref === 'string' && ref.trim() !== ''),
    `"eval.ref" must be a version number or an alias, not ${show(ref)}`);
  need(isObject(v.metrics), '"eval.metrics" must be an object of numbers');
  for (const [k, x] of Object.entries(v.metrics)) need(typeof x === 'number' && Number.isFinite(x), `"eval.metrics.${k}" must be a finite number, not ${show(x)}`);
  return { model, ref: ref as number | string, metrics: v.metrics as InboxEval['metrics'] };
}

/** Checks an inbox file's content (`name`: its file name, which must be `<uid>.json`). Throws InboxError. */
export function parseInbox(bytes: Buffer, name: string): InboxRun {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new InboxError(`it is not valid JSON (${(err as Error).message})`);
  }
  need(isObject(v), 'it must hold a JSON object');
  need(v.format === INBOX_FORMAT, `"format" must be "${INBOX_FORMAT}", not ${show(v.format)} (a newer helper needs a newer RunLens)`);
  const uid = v.uid;
  need(typeof uid === 'string' && UID.test(uid), `"uid" must be 32 lowercase hex digits, not ${show(uid)}`);
  need(name === `${uid}.json`, `its name must be ${uid}.json, the uid it holds`);
  need(typeof v.startedAt === 'number' && v.startedAt > 1e11 && v.startedAt < 1e14,
    `"startedAt" must be milliseconds since the epoch, not ${show(v.startedAt)}`);
  need(RUN_SOURCES.includes(v.source as RunSource), `"source" must be one of ${RUN_SOURCES.join(', ')}, not ${show(v.source)}`);
  need(Array.isArray(v.command) && v.command.length > 0 && v.command.every((a) => typeof a === 'string'),
    `"command" must be a non-empty list of strings, not ${show(v.command)}`);
  const cwd = text(v.cwd, 'cwd');
  need(isAbsolute(cwd), `"cwd" must be an absolute path, not ${show(cwd)}`);
  let interpreter: InboxRun['interpreter'] = null;
  if (v.interpreter !== undefined && v.interpreter !== null) {
    need(isObject(v.interpreter), '"interpreter" must be an object or null');
    interpreter = { path: text(v.interpreter.path, 'interpreter.path'), version: optionalText(v.interpreter.version, 'interpreter.version') ?? null };
  }
  let notebook: InboxRun['notebook'] = null;
  if (v.notebook !== undefined && v.notebook !== null) {
    need(isObject(v.notebook), '"notebook" must be an object or null');
    notebook = { path: text(v.notebook.path, 'notebook.path'), snapshot: fileName(v.notebook.snapshot, 'notebook.snapshot') };
  }
  let packages: Packages | null = null;
  if (v.packages !== undefined && v.packages !== null) {
    try {
      packages = parsePackages(v.packages, '"packages"');
    } catch (err) {
      throw new InboxError((err as Error).message);
    }
  }
  optionalText(v.script, 'script');
  return {
    uid, name: optionalText(v.name, 'name'), experiment: optionalText(v.experiment, 'experiment'), startedAt: v.startedAt,
    source: v.source as RunSource,
    command: redactArgs(v.command as string[]), // the helper redacts too: this keeps a slip of its rules out of the store
    cwd, interpreter, env: redactEnv(strings(v.env, 'env')), params: params(v.params), tags: strings(v.tags, 'tags'),
    git: git(v.git), patch: v.patch === undefined || v.patch === null ? null : fileName(v.patch, 'patch'),
    datasets: datasets(v.datasets), packages, notebook, eval: evaluation(v.eval),
  };
}
