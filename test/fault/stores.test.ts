// Opening a store changes nothing until it is known to be ours and current: a refused file keeps every
// byte and gets no -wal, -shm or -journal beside it; a store that cannot be written opens read-only.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import { SCHEMA_VERSION } from '../../src/core/store/migrations.ts';
import { type StoreErrorKind } from '../../src/core/store/database.ts';
import { series, tempDir } from '../unit/helpers.ts';

type Journal = 'wal' | 'delete';
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A closed store with one run of 5,000 points, in `journal` mode, alone in its folder. */
function storeWithRun(journal: Journal, dir = join(tempDir('runlens-stores-'), '.runlens')): string {
  const store = Store.open(dir);
  const run = store.runs.create({ name: 'kept' });
  store.metrics.append(run.id, 'loss', series(0, 5000, (s) => 1 / (s + 1)));
  store.close();
  const db = new Database(join(dir, 'runs.db'));
  db.pragma(`journal_mode = ${journal}`);
  db.close();
  assert.equal(readFileSync(join(dir, 'runs.db'))[18], journal === 'wal' ? 2 : 1, `the store is in ${journal} mode`);
  assert.deepEqual(readdirSync(dir), ['runs.db']);
  return dir;
}

/** Store.open refuses `dir`, writable and read-only, with exactly this error; runs.db keeps its bytes and nothing is beside it. */
function assertRefused(dir: string, kind: StoreErrorKind, message: string): void {
  const file = join(dir, 'runs.db');
  const before = sha256(file);
  for (const readonly of [false, true]) {
    assert.throws(() => Store.open(dir, { readonly }), { name: 'StoreError', kind, message }, `readonly: ${readonly}`);
    assert.equal(sha256(file), before, 'runs.db is byte-identical');
    assert.deepEqual(readdirSync(dir), ['runs.db'], 'no side files');
  }
}

const newerMessage = (file: string) =>
  `The RunLens store at ${file} was written by a newer RunLens (schema ${SCHEMA_VERSION + 1}, this one knows ${SCHEMA_VERSION}). Update the extension; the store was not changed.`;
const corruptMessage = (file: string, why: string) =>
  `The RunLens store at ${file} is not a valid database (${why}). It was left untouched; move it aside to start a new store.`;

for (const journal of ['delete', 'wal'] as const) {
  test(`a store from a newer RunLens in ${journal} journal mode is refused unchanged`, () => {
    const dir = storeWithRun(journal);
    const db = new Database(join(dir, 'runs.db'));
    db.exec('CREATE TABLE from_the_future (a)');
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assertRefused(dir, 'newer', newerMessage(join(dir, 'runs.db')));
  });
}

test('a foreign database (tables foo and bar, user_version 0) is refused, naming the file and its tables', () => {
  const dir = tempDir('runlens-stores-');
  const db = new Database(join(dir, 'runs.db'));
  db.exec('CREATE TABLE foo (a); CREATE TABLE bar (b); INSERT INTO foo VALUES (1)');
  db.close();
  assertRefused(dir, 'foreign', `${join(dir, 'runs.db')} is not a RunLens store: it holds other tables (foo, bar). RunLens left it untouched; set runlens.storeDir to another folder, or move the file aside.`);
});

test('another tool\'s WAL database with a runs table and user_version 3 is refused as foreign', () => {
  const dir = tempDir('runlens-stores-');
  const db = new Database(join(dir, 'runs.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE runs (id); CREATE TABLE a (x); CREATE TABLE b (x); CREATE TABLE c (x); CREATE TABLE d (x); CREATE TABLE e (x)');
  db.pragma('user_version = 3');
  db.close();
  assertRefused(dir, 'foreign', `${join(dir, 'runs.db')} is not a RunLens store: it holds other tables (runs, a, b, c, d and 1 more). RunLens left it untouched; set runlens.storeDir to another folder, or move the file aside.`);
});

test('a store cut short at a page boundary is refused unchanged', () => {
  const dir = storeWithRun('wal');
  const file = join(dir, 'runs.db');
  const pages = statSync(file).size / 8192;
  assert.ok(pages >= 10, `the store has ${pages} pages`);
  truncateSync(file, Math.floor(pages / 2) * 8192);
  assertRefused(dir, 'corrupt', corruptMessage(file, `it has ${Math.floor(pages / 2)} of its ${pages} pages: it was cut short`));
});

test('a store cut short in the middle of a page is refused unchanged', () => {
  const dir = storeWithRun('delete');
  const file = join(dir, 'runs.db');
  truncateSync(file, 3 * 8192 + 100);
  assertRefused(dir, 'corrupt', corruptMessage(file, `its ${3 * 8192 + 100} bytes are not whole pages of 8192: it was cut short`));
});

test('a garbage file is refused unchanged', () => {
  const dir = tempDir('runlens-stores-');
  writeFileSync(join(dir, 'runs.db'), 'this is not sqlite '.repeat(300));
  assertRefused(dir, 'corrupt', corruptMessage(join(dir, 'runs.db'), 'it does not start with the SQLite header'));
});

test('a store whose schema page is overwritten with garbage is refused unchanged', () => {
  const dir = storeWithRun('wal');
  const file = join(dir, 'runs.db');
  const bytes = readFileSync(file);
  bytes.fill(0xab, 100, 8192);
  writeFileSync(file, bytes);
  assertRefused(dir, 'corrupt', corruptMessage(file, 'its schema page 1 has type 171'));
});

/**
 * A closed store, `prepare`d, then made unwritable: with 'disk' its whole folder, with 'file' only runs.db.
 * As non-root by chmod (runs.db 0444, the folder 0555); as root, whom chmod does not stop, by a read-only
 * mount (a tmpfs remounted ro, or runs.db bind-mounted ro). Undefined, the test skipped, if mount fails.
 */
function readOnlyStore(t: TestContext, journal: Journal, lock: 'disk' | 'file', prepare?: (dir: string) => void): string | undefined {
  // Not tempDir: its clean-up would run before this hook could unmount or chmod.
  const parent = mkdtempSync(join(tmpdir(), 'runlens-readonly-'));
  const dir = join(parent, '.runlens');
  const file = join(dir, 'runs.db');
  const mounts: string[] = [];
  t.after(() => {
    for (const m of mounts.reverse()) execFileSync('umount', ['--lazy', m]); // lazy: a failed test may leave the file open
    if (existsSync(dir)) chmodSync(dir, 0o755);
    rmSync(parent, { recursive: true, force: true });
  });
  const mount = (...args: string[]): boolean => {
    try {
      execFileSync('mount', args, { stdio: 'pipe' });
      return true;
    } catch (err) {
      t.skip(`as root, a read-only mount is needed and mount ${args.join(' ')} failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
      return false;
    }
  };
  const root = process.getuid?.() === 0;
  if (root && lock === 'disk') {
    if (!mount('-t', 'tmpfs', '-o', 'size=64m', 'runlens-test', parent)) return undefined;
    mounts.push(parent);
  }
  storeWithRun(journal, dir);
  prepare?.(dir);
  if (!root) {
    chmodSync(file, 0o444);
    if (lock === 'disk') chmodSync(dir, 0o555);
  } else if (lock === 'disk') {
    if (!mount('-o', 'remount,ro', parent)) return undefined;
  } else {
    if (!mount('--bind', file, file)) return undefined;
    mounts.push(file);
    if (!mount('-o', 'remount,ro,bind', file)) return undefined;
  }
  return dir;
}

for (const journal of ['wal', 'delete'] as const) {
  for (const [lock, where] of [['disk', 'on a read-only disk'], ['file', 'as a read-only runs.db in a writable folder']] as const) {
    test(`a store in ${journal} journal mode ${where} opens read-only, its runs can be read, and nothing is written`, (t) => {
      const dir = readOnlyStore(t, journal, lock);
      if (!dir) return;
      const file = join(dir, 'runs.db');
      const before = sha256(file);
      // What the extension does (workspaceStore.openWritableOrReadOnly): a 'readonly' refusal, then a read-only open.
      assert.throws(() => Store.open(dir), (e: Error & { kind?: string }) =>
        e.name === 'StoreError' && e.kind === 'readonly' && e.message.startsWith(`Cannot write the RunLens store at ${file}: the disk or folder is read-only (`));
      const store = Store.open(dir, { readonly: true });
      const runs = store.runs.list({ limit: 10 });
      assert.deepEqual(runs.map((r) => r.name), ['kept']);
      const points = store.metrics.points(runs[0]!.id, 'loss');
      assert.equal(points.values.length, 5000);
      assert.equal(points.values[4999], 1 / 5000);
      assert.throws(() => store.transaction(() => store.runs.create({ name: 'x' })), /readonly|read-only/i);
      store.close();
      assert.equal(sha256(file), before, 'runs.db is byte-identical');
      assert.deepEqual(readdirSync(dir), ['runs.db'], 'no side files');
    });
  }
}

test('a store from a newer RunLens on a read-only disk is refused as newer, not as read-only', (t) => {
  const dir = readOnlyStore(t, 'wal', 'disk', (d) => {
    const db = new Database(join(d, 'runs.db'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
  });
  if (dir) assertRefused(dir, 'newer', newerMessage(join(dir, 'runs.db')));
});

test('a storeDir that is a file gives a clear error and the file is kept', () => {
  const parent = tempDir('runlens-stores-');
  const dir = join(parent, '.runlens');
  writeFileSync(dir, 'my notes');
  for (const readonly of [false, true]) {
    assert.throws(() => Store.open(dir, { readonly }), {
      name: 'StoreError',
      kind: 'not-a-folder',
      message: `The RunLens store folder ${dir} is a file, not a folder: the runlens.storeDir setting points at a file. Set it to a folder.`,
    });
  }
  assert.equal(readFileSync(dir, 'utf8'), 'my notes');
  assert.deepEqual(readdirSync(parent), ['.runlens']);
});

/** Opens dir, records a run, and checks the file became a current WAL store. */
function assertInitialised(dir: string): void {
  const store = Store.open(dir);
  store.runs.create({ name: 'first' });
  store.close();
  const db = new Database(join(dir, 'runs.db'), { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.deepEqual(db.prepare('SELECT name FROM runs').pluck().all(), ['first']);
  db.close();
}

test('an empty 0-byte runs.db is initialised', () => {
  const dir = tempDir('runlens-stores-');
  writeFileSync(join(dir, 'runs.db'), '');
  assertInitialised(dir);
});

test('an empty SQLite database (no tables, user_version 0) is initialised', () => {
  const dir = tempDir('runlens-stores-');
  const db = new Database(join(dir, 'runs.db'));
  db.exec('CREATE TABLE scratch (a); DROP TABLE scratch');
  db.close();
  assert.ok(statSync(join(dir, 'runs.db')).size > 0);
  assertInitialised(dir);
});
