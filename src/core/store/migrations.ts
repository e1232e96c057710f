import type { Db } from './database.ts';
import { StoreError } from './database.ts';

/**
 * Schema versions, applied in order and recorded in PRAGMA user_version.
 * Never edit a released step: append a new one.
 */
const MIGRATIONS: readonly string[] = [
  // 1: experiments, runs, params, tags, metric keys, chunked metric points and their summaries.
  `
  CREATE TABLE experiments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
  );
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    status TEXT NOT NULL CHECK (status IN ('queued','running','finished','failed','stopped','crashed')),
    command TEXT,
    cwd TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL,
    exit_code INTEGER,
    git_commit TEXT,
    git_branch TEXT,
    git_dirty INTEGER,
    notes TEXT NOT NULL DEFAULT '',
    starred INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX runs_newest ON runs (created_at DESC, id DESC);
  CREATE INDEX runs_by_experiment ON runs (experiment_id, created_at DESC, id DESC);
  CREATE INDEX runs_by_status ON runs (status);

  CREATE TABLE params (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('number','string','bool')),
    value,
    PRIMARY KEY (run_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX params_by_key ON params (key, value);

  CREATE TABLE tags (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  ) WITHOUT ROWID;

  CREATE TABLE metric_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
  );

  -- Points are kept in chunks of up to CHUNK_SIZE, appended in log order. metric_chunks holds each
  -- chunk's summary (small rows: range queries scan them and skip or answer whole chunks);
  -- metric_chunk_points holds the points: one blob of n steps, n times, then n values (float64 LE).
  CREATE TABLE metric_chunks (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL REFERENCES metric_keys(id),
    seq INTEGER NOT NULL,
    n INTEGER NOT NULL,
    step_lo REAL NOT NULL,
    step_hi REAL NOT NULL,
    step_last REAL NOT NULL,
    time_lo REAL NOT NULL,
    time_hi REAL NOT NULL,
    v_min REAL,
    v_max REAL,
    v_last REAL,
    PRIMARY KEY (run_id, key_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE metric_chunk_points (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (run_id, key_id, seq)
  ) WITHOUT ROWID;

  -- One row per (run, key): what lists and tables show without touching the points.
  CREATE TABLE metric_summaries (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL REFERENCES metric_keys(id),
    count INTEGER NOT NULL,
    first_step REAL NOT NULL,
    last_step REAL NOT NULL,
    last_value REAL,
    min_value REAL,
    max_value REAL,
    last_time REAL NOT NULL,
    PRIMARY KEY (run_id, key_id)
  ) WITHOUT ROWID;
  `,
  // 2: how far each of a run's files has been read, committed with the points it produced.
  `
  CREATE TABLE ingest_offsets (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    offset INTEGER NOT NULL,
    PRIMARY KEY (run_id, source)
  ) WITHOUT ROWID;
  `,
  // 3: provenance: content-addressed blobs (patches), per-run code and environment, dataset hashes.
  `
  CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE run_provenance (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    git_remote TEXT,
    patch_sha256 TEXT,
    untracked TEXT,
    interpreter TEXT,
    interpreter_version TEXT,
    os TEXT,
    hostname TEXT,
    gpu TEXT,
    command_line TEXT,
    env TEXT
  );
  -- Per-file hashes keyed by (path, device, inode, size, mtime), as DVC's state DB does.
  CREATE TABLE file_hash_cache (
    path TEXT PRIMARY KEY,
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns TEXT NOT NULL,
    sha256 TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE run_datasets (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    digest TEXT NOT NULL,
    file_count INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (run_id, path)
  ) WITHOUT ROWID;
  CREATE TABLE run_dataset_files (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    dataset TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (run_id, dataset, path)
  ) WITHOUT ROWID;
  `,
  // 4: the keys runs have, for the Runs view's filter: which metric keys are in use, and distinct
  // tag keys, each without scanning every run (9 ms -> 0.05 ms and 1.2 ms -> 0.02 ms at 10,000 runs).
  // key_id alone, not last_value: appends rewrite last_value, and then would rewrite this index too.
  `
  CREATE INDEX metric_summaries_by_key ON metric_summaries (key_id);
  CREATE INDEX tags_by_key ON tags (key);
  `,
  // 5: artifacts (bytes kept once in <storeDir>/objects by sha256), what runs asked to keep, the
  // model registry with aliases and their history, and which run a run reproduces.
  `
  CREATE TABLE artifacts (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('file','directory')),
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    file_count INTEGER NOT NULL,
    source TEXT NOT NULL,
    created_at REAL NOT NULL
  );
  CREATE INDEX artifacts_by_run ON artifacts (run_id, path);
  CREATE TABLE artifact_files (
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (artifact_id, path)
  ) WITHOUT ROWID;
  CREATE INDEX artifact_files_by_object ON artifact_files (sha256);
  -- Written with the ingest offset that read them, removed when collected; a failure is kept with its reason.
  CREATE TABLE artifact_requests (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('artifact','model','output')),
    path TEXT NOT NULL,
    model TEXT,
    metadata TEXT,
    after_end INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    error TEXT
  );
  CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
  );
  -- run_id has no ON DELETE: a run with model versions cannot be deleted.
  CREATE TABLE model_versions (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id),
    version INTEGER NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    artifact_id INTEGER REFERENCES artifacts(id),
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    file_count INTEGER NOT NULL,
    metadata TEXT NOT NULL DEFAULT 'null',
    description TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL,
    metrics TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (model_id, version)
  );
  CREATE INDEX model_versions_by_run ON model_versions (run_id);
  CREATE TABLE model_aliases (
    model_id INTEGER NOT NULL REFERENCES models(id),
    alias TEXT NOT NULL,
    version_id INTEGER NOT NULL REFERENCES model_versions(id),
    set_at REAL NOT NULL,
    PRIMARY KEY (model_id, alias)
  ) WITHOUT ROWID;
  CREATE TABLE model_alias_history (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id),
    alias TEXT NOT NULL,
    version_id INTEGER,
    previous_version_id INTEGER,
    set_at REAL NOT NULL
  );
  ALTER TABLE runs ADD COLUMN reproduces INTEGER REFERENCES runs(id) ON DELETE SET NULL;
  ALTER TABLE run_provenance ADD COLUMN launch_env TEXT;
  `,
  // 6: where an imported run came from (mlflow:<uri>#<run_id>, tensorboard:<dir>); unique, so a re-import adds nothing.
  `
  ALTER TABLE runs ADD COLUMN origin TEXT;
  CREATE UNIQUE INDEX runs_by_origin ON runs (origin) WHERE origin IS NOT NULL;
  `,
  // 7: which window or process ingests a running run: one owner at a time, renewed by heartbeat.
  `
  CREATE TABLE run_leases (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    heartbeat REAL NOT NULL
  );
  `,
  // 8: chunk blobs are compressed (codec.ts: a format byte, then each column coded for training data).
  // Blobs of the raw layout before are converted after the store opens, in batches, each its own
  // transaction (codecMigration.ts); this row counts them and holds the last chunk converted, so a killed
  // conversion resumes. No row: nothing to convert. Older RunLens versions refuse the store from here on.
  `
  CREATE TABLE chunk_conversion (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    total INTEGER NOT NULL,
    done INTEGER NOT NULL,
    run_id INTEGER NOT NULL,
    key_id INTEGER NOT NULL,
    seq INTEGER NOT NULL
  );
  INSERT INTO chunk_conversion SELECT 1, count(*), 0, -1, -1, -1 FROM metric_chunks HAVING count(*) > 0;
  `,
  // 9: the installed packages of a run's interpreter, stored once per distinct set (keyed by the
  // sha256 of its canonical form, see provenance/packages.ts); each run links to its set.
  `
  CREATE TABLE package_sets (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    conda TEXT,
    count INTEGER NOT NULL,
    list TEXT NOT NULL
  );
  CREATE TABLE run_packages (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    set_id INTEGER NOT NULL REFERENCES package_sets(id)
  );
  CREATE INDEX run_packages_by_set ON run_packages (set_id);
  `,
  // 10: run-health alerts with their run; the rules' small state per (run, key), key '' for the run's own
  // (health/evaluate.ts), so evaluation goes on after a reload; profiles of tabular data files by sha256.
  `
  CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    key TEXT,
    step REAL,
    value REAL,
    time REAL NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX alerts_by_run ON alerts (run_id, id);
  CREATE TABLE health_state (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  ) WITHOUT ROWID;
  CREATE TABLE profiles (
    sha256 TEXT PRIMARY KEY,
    rows INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    profile TEXT NOT NULL,
    created_at REAL NOT NULL
  ) WITHOUT ROWID;
  `,
  // 11: evaluations: a run that evaluated a model version (models/evaluations.ts), the reference it named
  // (a version number or an alias, resolved when the run was adopted), its time and its metric values.
  `
  CREATE TABLE evaluations (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    version_id INTEGER NOT NULL REFERENCES model_versions(id),
    ref TEXT NOT NULL,
    at REAL NOT NULL,
    metrics TEXT NOT NULL
  );
  CREATE INDEX evaluations_by_version ON evaluations (version_id, at);
  `,
  // 12: which (run, rule, key) alerts a window has notified about: the first window to claim one tells it,
  // so two windows on one store do not both notify.
  `
  CREATE TABLE alert_notices (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (run_id, rule, key)
  ) WITHOUT ROWID;
  `,
  // 13: the digest the helper took when log_model / log_artifact was called; the collector keeps only those bytes.
  `
  ALTER TABLE artifact_requests ADD COLUMN sha256 TEXT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The tables each schema step creates, read from its SQL. */
const STEP_TABLES = MIGRATIONS.map((sql) => [...sql.matchAll(/CREATE TABLE (\w+)/g)].map((m) => m[1]!));

/** At most five names, then how many more. */
function brief(names: readonly string[]): string {
  return names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
}

/**
 * Refuses a database that is not a RunLens store this version can use: foreign (it lacks the tables
 * every store has, or has tables but user_version 0), newer, or missing tables its version should have.
 * An empty database (no tables, user_version 0) passes: it is ready to set up.
 */
export function checkSchema(file: string, version: number, tables: readonly string[]): void {
  const own = tables.filter((t) => !t.startsWith('sqlite_'));
  if (version === 0 && own.length === 0) return;
  if (version <= 0 || STEP_TABLES[0]!.some((t) => !own.includes(t))) {
    const holds = own.length ? `it holds other tables (${brief(own)})` : `it has no RunLens tables (user_version ${version})`;
    throw new StoreError(`${file} is not a RunLens store: ${holds}. RunLens left it untouched; set runlens.storeDir to another folder, or move the file aside.`, { kind: 'foreign' });
  }
  if (version > SCHEMA_VERSION) {
    throw new StoreError(`The RunLens store at ${file} was written by a newer RunLens (schema ${version}, this one knows ${SCHEMA_VERSION}). Update the extension; the store was not changed.`, { kind: 'newer' });
  }
  const missing = STEP_TABLES.slice(0, version).flat().filter((t) => !own.includes(t));
  if (missing.length) {
    throw new StoreError(`The RunLens store at ${file} is not a valid database (schema ${version} but no table ${brief(missing)}). It was left untouched; move it aside to start a new store.`, { kind: 'corrupt' });
  }
}

/** checkSchema through an open connection (which sees a WAL's changes); returns the schema version. */
export function checkStore(db: Db, file: string): number {
  // One snapshot for both reads: between two autocommit reads another window may commit its migration
  // (user_version 0, then its tables: refused as foreign).
  const read = () => ({
    version: db.pragma('user_version', { simple: true }) as number,
    tables: db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[],
  });
  const { version, tables } = db.inTransaction ? read() : db.transaction(read)();
  checkSchema(file, version, tables);
  return version;
}

/** Brings the database up to SCHEMA_VERSION. Safe when two windows start at once. */
export function migrate(db: Db): void {
  const current = () => db.pragma('user_version', { simple: true }) as number;
  if (current() === SCHEMA_VERSION) return;
  db.exec('BEGIN IMMEDIATE'); // takes the write lock, so only one window migrates
  try {
    const from = checkStore(db, db.name); // again under the lock: another window may have changed it
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}
