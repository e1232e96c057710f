/**
 * Which MLflow store a path means, found by what the files hold, not by their names: a database is
 * an SQLite file with MLflow's tables (experiments, runs; alembic_version and the rest beside them),
 * whatever it is called; a file store is a folder whose experiment folders hold meta.yaml.
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMlflowFileStore } from '../formats/mlflowFileStore.ts';

export interface MlflowSource {
  kind: 'sqlite' | 'files';
  path: string;
  /** `mlflow:sqlite:///<abs path>` for a database, `mlflow:<abs path>` for a file store. */
  origin: string;
}

export interface FoundSource {
  source: MlflowSource | undefined;
  /** What was looked at and not taken, and why (all of it when nothing was found). */
  notes: { what: string; why: string }[];
}

const SQLITE_MAGIC = 'SQLite format 3\0';
/** The tables every MLflow tracking database has. */
const NEEDED = ['experiments', 'runs'];

/**
 * Finds the store `pathOrUri` means: a path, `sqlite:///` or `file://` URI. A folder may be a file
 * store, hold one in mlruns/, or hold databases (mlflow.db first, else the first by name). When a
 * folder holds both, the database is taken (MLflow 3.7+ keeps runs in mlflow.db, artifacts in mlruns/).
 */
export function findMlflowStore(pathOrUri: string): FoundSource {
  let path = pathOrUri;
  if (path.startsWith('sqlite:///')) path = path.slice('sqlite:///'.length); // SQLAlchemy: 4 slashes before an absolute path
  else if (path.startsWith('file://')) path = fileURLToPath(path);
  path = resolve(path);
  const notes: FoundSource['notes'] = [];
  const kind = kindOf(path);
  if (kind === 'none' || kind === 'other') return { source: undefined, notes: [{ what: path, why: kind === 'none' ? 'no such file or folder' : 'not a file or folder' }] };
  if (kind === 'file') {
    const why = notMlflowDb(path);
    return why ? { source: undefined, notes: [{ what: path, why }] } : { source: sqlite(path), notes };
  }
  const dbs: string[] = [];
  for (const name of list(path).sort((a, b) => (a === 'mlflow.db' ? -1 : b === 'mlflow.db' ? 1 : a < b ? -1 : a > b ? 1 : 0))) {
    const file = join(path, name);
    if (kindOf(file) !== 'file' || !hasSqliteHeader(file)) continue;
    const why = notMlflowDb(file);
    if (why) notes.push({ what: file, why });
    else dbs.push(file);
  }
  const files = isMlflowFileStore(path) ? path : isMlflowFileStore(join(path, 'mlruns')) ? join(path, 'mlruns') : undefined;
  const [db, ...more] = dbs;
  for (const other of more) notes.push({ what: other, why: `another MLflow database; ${db} was imported (import this one on its own)` });
  if (db && files) notes.push({ what: files, why: `an MLflow file store beside the database ${db}, which was imported (import it on its own)` });
  if (db) return { source: sqlite(db), notes };
  if (files) return { source: { kind: 'files', path: files, origin: `mlflow:${files}` }, notes };
  notes.push({
    what: path,
    why: 'no MLflow store in it: no SQLite file with MLflow\'s tables (experiments, runs), and no file store '
      + '(experiment folders holding meta.yaml) in it or in its mlruns/ folder',
  });
  return { source: undefined, notes };
}

/** The store `pathOrUri` means, or undefined (findMlflowStore says why). */
export const mlflowSource = (pathOrUri: string): MlflowSource | undefined => findMlflowStore(pathOrUri).source;

const sqlite = (path: string): MlflowSource => ({ kind: 'sqlite', path, origin: `mlflow:sqlite:///${path}` });

/** Why a file is not an MLflow database, or undefined when it is one. */
function notMlflowDb(file: string): string | undefined {
  if (!hasSqliteHeader(file)) return 'not an SQLite database (no "SQLite format 3" header), so not an MLflow database';
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    const missing = NEEDED.filter((t) => !tables.includes(t));
    if (!missing.length) return undefined;
    const has = tables.length ? `its tables: ${tables.slice(0, 8).join(', ')}${tables.length > 8 ? ', …' : ''}` : 'it has no tables';
    return `an SQLite database without MLflow's ${missing.join(' and ')} table${missing.length > 1 ? 's' : ''} (${has})`;
  } catch (err) {
    return `an SQLite file that cannot be read (${(err as Error).message})`;
  } finally {
    db?.close();
  }
}

function hasSqliteHeader(file: string): boolean {
  try {
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(16);
      return readSync(fd, buf, 0, 16, 0) === 16 && buf.toString('latin1') === SQLITE_MAGIC;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function kindOf(path: string): 'file' | 'dir' | 'none' | 'other' {
  try {
    const s = statSync(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'none';
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
