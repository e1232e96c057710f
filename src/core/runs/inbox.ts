// Runs the Python helper started by itself (a terminal, a debugger, a notebook, a script, CI): it writes
// the run's folder as a launched run has it, then `<storeDir>/inbox/<uid>.json` describing the run.
// Adopting records each one once, under its uid, in one transaction, then deletes the file; the run
// folder is then followed like a launched run's. A file that is not valid is moved to inbox/rejected/
// with the reason beside it. The file's format: inboxFormat.ts.
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Store } from '../store/store.ts';
import type { Run } from '../types.ts';
import { collectArtifact } from '../artifacts/collect.ts';
import { type Packages, parsePackages } from '../provenance/packages.ts';
import { commandLine } from '../provenance/environment.ts';
import { hashDataset } from '../provenance/datasetHash.ts';
import { tabularDelimiter } from '../drift/profile.ts';
import { readProcess, runFolder } from './runProcess.ts';
import { type InboxRun, InboxError, NOTEBOOK_TAG, SOURCE_TAG, parseInbox } from './inboxFormat.ts';
import { type DegradationSettings, EVAL_TAG, recordEvaluation, settingsBeside } from '../models/evaluations.ts';

export { INBOX_FORMAT, NOTEBOOK_TAG, RUN_SOURCES, SOURCE_TAG, type RunSource, type InboxRun, parseInbox } from './inboxFormat.ts';


/** An inbox file may be this large (default); a larger one is rejected unread. */
export const INBOX_MAX_BYTES = 4 << 20;

export interface AdoptOptions {
  /** The experiment for runs whose file names none (runlens.yaml's); else 'default'. */
  experiment?: string;
  maxBytes?: number;
  /** Which metrics of an evaluated model version are watched; default: runlens.yaml beside a `.runlens` store. */
  degradation?: DegradationSettings;
}

export interface AdoptResult {
  /** Runs recorded by this call: hand them to RunMonitor.track. */
  adopted: Run[];
  /** Files moved to inbox/rejected/, with why. */
  rejected: { file: string; reason: string }[];
  /** Adopted, but a file the run named was missing or unreadable. */
  warnings: string[];
  /** Files another window adopted between this one reading them and recording the run (not an error). */
  lost: number;
  /** Set when the store could not be written (busy, full, read-only): the rest waits in the inbox for the next call. */
  error?: string;
}

/** An inbox file whose run folder is missing is rejected once it is this old. */
const FOLDER_GRACE_MS = 30_000;

/** Files that could not even be moved aside (a read-only inbox): not tried again by this process. */
const stuck = new Set<string>();

/** Adopts every run in `<storeDir>/inbox/` not yet in the store. Never throws for a bad file. */
export async function adoptInbox(store: Store, storeDir: string, options: AdoptOptions = {}): Promise<AdoptResult> {
  const dir = join(storeDir, 'inbox');
  const out: AdoptResult = { adopted: [], rejected: [], warnings: [], lost: 0 };
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')); // *.json.tmp: still being written
  } catch {
    return out; // no inbox yet
  }
  // In the order they were written: evaluations logged one after another are compared in that order.
  const written = new Map(names.map((n) => [n, mtime(join(dir, n))]));
  names.sort((a, b) => written.get(a)! - written.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
  const adopted: InboxRun[] = [];
  for (const name of names) {
    const file = join(dir, name);
    let entry: InboxRun;
    try {
      entry = parseInbox(readBounded(file, options.maxBytes ?? INBOX_MAX_BYTES), name);
      if (!isDir(runFolder(storeDir, entry.uid).dir)) {
        if (age(file) < FOLDER_GRACE_MS) continue; // a shared folder may show the file before the folder: look again later
        throw new InboxError(`its run folder runs/${entry.uid}/ does not exist`);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // adopted or moved by another window meanwhile
      const reason = err instanceof InboxError ? err.message : `it cannot be read: ${String(err)}`;
      if (reject(dir, name, reason)) out.rejected.push({ file: name, reason });
      continue;
    }
    if (store.runs.getByUid(entry.uid)) {
      remove(file); // adopted before; its file was left behind
      continue;
    }
    let run: Run | undefined;
    try {
      run = await adopt(store, storeDir, entry, options, (w) => out.warnings.push(`inbox/${name}: ${w}`));
    } catch (err) {
      out.error = `inbox/${name} waits: ${err instanceof Error ? err.message : String(err)}`;
      break;
    }
    remove(file);
    if (run) { out.adopted.push(run); adopted.push(entry); } else out.lost++;
  }
  await profileData(store, adopted, (w) => out.warnings.push(w));
  return out;
}

/** Records one run and everything it describes in one transaction; undefined when another window was first. */
async function adopt(store: Store, storeDir: string, e: InboxRun, options: AdoptOptions, warn: (w: string) => void): Promise<Run | undefined> {
  const folder = runFolder(storeDir, e.uid).dir;
  let patch: Buffer | undefined;
  if (e.patch) {
    try {
      patch = readFileSync(join(folder, e.patch));
    } catch (err) {
      warn(`its patch ${e.patch} could not be read (${(err as Error).message}); the run is kept without it`);
    }
  }
  let snapshot: Awaited<ReturnType<typeof collectArtifact>> | undefined;
  if (e.notebook) {
    try {
      const c = await collectArtifact(store.objects, folder, e.notebook.snapshot, { what: 'notebook snapshot' });
      const path = notebookPath(e.notebook.path, e.cwd);
      snapshot = { ...c, path, files: c.files.map((f) => ({ ...f, path: basename(path) })) };
    } catch (err) {
      warn(`its notebook snapshot ${e.notebook.snapshot} could not be kept (${(err as Error).message})`);
    }
  }
  const host = readProcess(storeDir, e.uid)?.host ?? null;
  const tags: Record<string, string> = { ...e.tags, [SOURCE_TAG]: e.source, ...(e.notebook ? { [NOTEBOOK_TAG]: e.notebook.path } : {}),
    ...(e.eval ? { [EVAL_TAG]: `${e.eval.model}@${e.eval.ref}` } : {}) };
  const settings = e.eval ? options.degradation ?? degradationSettings(storeDir, warn) : undefined;
  return store.transaction(() => {
    const run = store.inbox.create(e.uid, e.startedAt, {
      name: e.name, experiment: e.experiment ?? options.experiment, status: 'running', startedAt: e.startedAt,
      command: e.command, cwd: e.cwd, git: e.git, params: e.params, tags,
    });
    if (!run) return undefined;
    store.provenance.set(run.id, {
      gitRemote: null, patchSha256: patch?.length ? store.provenance.putBlob(patch) : null, untracked: [],
      interpreter: e.interpreter?.path ?? null,
      interpreterVersion: pythonVersion(e.interpreter?.version ?? null),
      os: null, hostname: host, gpu: [], commandLine: commandLine(e.command), env: e.env,
    });
    for (const d of e.datasets) store.provenance.setDataset(run.id, d);
    if (e.packages) store.packages.set(run.id, e.packages);
    if (snapshot) store.artifacts.add(run.id, snapshot, 'notebook');
    if (e.eval) {
      const linked = recordEvaluation(store, run, e.eval, e.startedAt, settings!);
      if (linked.reason) warn(`its evaluation of ${e.eval.model}@${e.eval.ref} is kept unlinked: ${linked.reason}`);
    }
    return run;
  });
}

/** runlens.yaml's gates and primary metric beside the store; none (with a warning) when it cannot be read. */
function degradationSettings(storeDir: string, warn: (w: string) => void): DegradationSettings {
  try {
    return settingsBeside(storeDir);
  } catch (err) {
    warn(`runlens.yaml could not be read for its gates (${(err as Error).message}); the primary metric is watched`);
    return { gates: [] };
  }
}

/**
 * Profiles the CSV and TSV files of adopted runs whose content has no profile yet, when the file on disk
 * still hashes to what the helper recorded (hashDataset: a cached hash is checked by reading the file
 * again, so the profile is of that content). After the runs are recorded, off their transactions.
 */
async function profileData(store: Store, runs: InboxRun[], warn: (w: string) => void): Promise<void> {
  const cache = store.provenance.hashCache();
  const sink = store.profiles.sink((path, reason) => warn(`no data profile of ${path}: ${reason}`));
  for (const e of runs) {
    for (const d of e.datasets) {
      const root = resolve(e.cwd, d.path);
      for (const f of d.files) {
        const profiles = { ...sink, wanted: (sha256: string) => sha256 === f.sha256 && sink.wanted(sha256) };
        try {
          if (!tabularDelimiter(f.path) || !sink.wanted(f.sha256)) continue;
          await hashDataset(d.kind === 'file' ? root : join(root, ...f.path.split('/')), { cache, profiles });
        } catch {
          // gone, changed into a folder or unreadable here (recorded on another machine), or the store failed: no profile
        }
      }
    }
  }
}

/** "3.11.2" as launched runs keep it: what `python --version` prints ("Python 3.11.2"). */
const pythonVersion = (v: string | null) => (v === null ? null : v.startsWith('Python ') ? v : `Python ${v}`);

/** The notebook's path relative to the run's working folder when inside it, else its name. */
function notebookPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : basename(path);
}

/**
 * Records the packages a launched run's helper wrote to packages.json (call when the run ends; again
 * is harmless). Returns them, or undefined when the run has no such file. Throws when it is not valid.
 */
export function recordPackages(store: Store, storeDir: string, run: Pick<Run, 'id' | 'uid'>): Packages | undefined {
  const file = runFolder(storeDir, run.uid).packages;
  let bytes: Buffer;
  try {
    bytes = readBounded(file, INBOX_MAX_BYTES);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
  let packages: Packages;
  try {
    packages = parsePackages(JSON.parse(bytes.toString('utf8')));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
  store.packages.set(run.id, packages);
  return packages;
}

/** The file's bytes; an InboxError without reading it when it is larger than `max`. */
function readBounded(file: string, max: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > max) throw new InboxError(`it is ${size} bytes, more than the ${max} allowed`);
    const buf = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buf, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buf.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** Moves a bad file to inbox/rejected/ with `<name>.reason.txt`; false when another window moved it first. */
function reject(dir: string, name: string, reason: string): boolean {
  const from = join(dir, name);
  const key = stamp(from);
  if (key === undefined || stuck.has(key)) return false;
  const to = join(dir, 'rejected');
  try {
    mkdirSync(to, { recursive: true });
    renameSync(from, join(to, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    stuck.add(key);
    return true; // reported once; left where it is
  }
  try {
    writeFileSync(join(to, `${name}.reason.txt`), `RunLens did not adopt ${name}: ${reason}\n`);
  } catch {
    // the reason is also in the result
  }
  return true;
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return Infinity; // gone meanwhile: skipped below
  }
}

function age(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

function stamp(file: string): string | undefined {
  try {
    const st = statSync(file);
    return `${file}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

function remove(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already (another window), or a read-only inbox: the uid check skips it next time
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
