import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import { SCHEMA_VERSION } from '../../src/core/store/migrations.ts';
import { explain, StoreError, type StoreErrorKind } from '../../src/core/store/database.ts';
import { tempDir } from './helpers.ts';

test('opening a store creates runs.db in WAL mode at the current schema', () => {
  const dir = join(tempDir(), '.runlens');
  const store = Store.open(dir);
  store.close();
  const db = new Database(join(dir, 'runs.db'), { readonly: true });
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
  assert.deepEqual(tables, ['alert_notices', 'alerts', 'artifact_files', 'artifact_requests', 'artifacts', 'blobs', 'chunk_conversion', 'evaluations', 'experiments', 'file_hash_cache',
    'health_state', 'ingest_offsets', 'metric_chunk_points', 'metric_chunks', 'metric_keys', 'metric_summaries', 'model_alias_history',
    'model_aliases', 'model_versions', 'models', 'package_sets', 'params', 'profiles', 'run_dataset_files', 'run_datasets', 'run_leases', 'run_packages', 'run_provenance', 'runs', 'tags']);
  db.close();
});

test('reopening keeps the data and does not migrate again', () => {
  const dir = tempDir();
  const a = Store.open(dir);
  const run = a.runs.create({ name: 'first' });
  a.close();
  const b = Store.open(dir);
  assert.equal(b.runs.get(run.id)?.name, 'first');
  b.close();
});

test('a store written by a newer RunLens is refused and left untouched', () => {
  const dir = tempDir();
  Store.open(dir).close();
  const db = new Database(join(dir, 'runs.db'));
  db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
  db.close();
  const before = readFileSync(join(dir, 'runs.db'));
  assert.throws(() => Store.open(dir), (e: Error) => e instanceof StoreError && e.kind === 'newer' && /newer RunLens/.test(e.message));
  assert.deepEqual(readFileSync(join(dir, 'runs.db')), before);
});

test('a file that is not a database gives a clear error and is not overwritten', () => {
  const dir = tempDir();
  const junk = 'this is not sqlite '.repeat(300);
  writeFileSync(join(dir, 'runs.db'), junk);
  assert.throws(() => Store.open(dir), (e: Error) => e instanceof StoreError && e.kind === 'corrupt' && /not a valid database/.test(e.message));
  assert.equal(readFileSync(join(dir, 'runs.db'), 'utf8'), junk);
});

test('writing to a store that cannot be written says it is read-only', () => {
  const dir = tempDir();
  Store.open(dir).close();
  const store = Store.open(dir, { readonly: true });
  assert.equal(store.runs.count(), 0); // reading works
  assert.throws(() => store.transaction(() => store.runs.create({ name: 'x' })), /readonly|read-only/i);
  store.close();
});

test('dataVersion changes when another connection commits', () => {
  const dir = tempDir();
  const a = Store.open(dir);
  const b = Store.open(dir);
  const v = a.dataVersion();
  a.runs.create({ name: 'mine' });
  assert.equal(a.dataVersion(), v, 'own writes do not count');
  b.runs.create({ name: 'theirs' });
  assert.notEqual(a.dataVersion(), v);
  a.close();
  b.close();
});

test('explain sorts SQLite and file system errors by kind', () => {
  const kinds: [code: string, kind: StoreErrorKind][] = [['SQLITE_READONLY', 'readonly'], ['SQLITE_READONLY_DBMOVED', 'readonly'],
    ['SQLITE_CANTOPEN', 'readonly'], ['EACCES', 'readonly'], ['EROFS', 'readonly'], ['SQLITE_BUSY', 'busy'], ['SQLITE_LOCKED', 'busy'],
    ['SQLITE_CORRUPT', 'corrupt'], ['SQLITE_NOTADB', 'corrupt'], ['SQLITE_FULL', 'full'], ['ENOSPC', 'full'],
    ['ENOTDIR', 'not-a-folder'], ['SQLITE_MISMATCH', 'other'], ['', 'other']];
  for (const [code, kind] of kinds) {
    const err = explain(Object.assign(new Error('boom'), { code }), '/s/runs.db');
    assert.ok(err instanceof StoreError);
    assert.equal(err.kind, kind, code);
  }
  assert.equal(explain(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }), '/s/runs.db').message,
    'The disk holding the RunLens store at /s/runs.db is full (database or disk is full). The last change was not saved; what was stored before is kept. Free some space and try again.');
  const mine = new StoreError('as it was', { kind: 'busy' });
  assert.equal(explain(mine, '/s/runs.db'), mine);
});
