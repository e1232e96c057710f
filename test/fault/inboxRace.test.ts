// Two windows (real processes) adopt the same inbox at the same moment: every run is recorded once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import { tempDir } from '../unit/helpers.ts';
import { inboxEntry, writeHelperRun } from '../unit/inboxFixture.ts';

const adopter = join(import.meta.dirname, 'fixtures', 'inboxAdopter.ts');
const RUNS = 200;

/** A process that adopts the inbox once `go` exists; `ready` resolves when it has the store open. */
function window(storeDir: string, go: string): { ready: Promise<void>; done: Promise<{ uids: string[]; lost: number; problems: string[] }> } {
  const child = spawn(process.execPath, ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', adopter, storeDir, go], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => (out += d));
  const ready = new Promise<void>((resolve) => child.stderr.on('data', (d) => {
    err += d;
    if (err.includes('ready')) resolve();
  }));
  const done = new Promise<{ uids: string[]; lost: number; problems: string[] }>((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`adopter exited ${code}: ${err}`))));
  });
  return { ready, done };
}

test(`two processes adopting the same ${RUNS} inbox files at once record ${RUNS} runs, none twice`, async () => {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  Store.open(storeDir).close();
  const written = new Set<string>();
  for (let i = 0; i < RUNS; i++) {
    const e = inboxEntry(dir, { params: { i }, packages: { conda: null, list: [['numpy', i % 2 ? '1.26.4' : '2.0.0']] } });
    writeHelperRun(storeDir, e);
    written.add(e.uid);
  }
  const go = join(dir, 'go');
  const both = [window(storeDir, go), window(storeDir, go)];
  await Promise.race([Promise.all(both.map((w) => w.ready)), ...both.map((w) => w.done)]); // both have the store open
  writeFileSync(go, '');
  const [a, b] = await Promise.all(both.map((w) => w.done));
  assert.deepEqual([...a.problems, ...b.problems], []);
  assert.equal(a.uids.length + b.uids.length, RUNS, `each run is reported adopted by one process (${a.uids.length} + ${b.uids.length})`);
  // The race was real: files both processes read, recorded by one of them, the other finding the uid taken under the write lock.
  assert.ok(a.lost + b.lost > 0, `the processes contended (${a.lost} + ${b.lost} lost races)`);

  const db = new Database(join(storeDir, 'runs.db'), { readonly: true });
  const rows = db.prepare('SELECT uid FROM runs').pluck().all() as string[];
  assert.equal(rows.length, RUNS);
  assert.equal(new Set(rows).size, RUNS, 'no duplicates');
  assert.deepEqual(new Set(rows), written);
  assert.equal(db.prepare('SELECT count(*) FROM run_provenance').pluck().get(), RUNS);
  assert.equal(db.prepare('SELECT count(*) FROM run_packages').pluck().get(), RUNS);
  assert.equal(db.prepare('SELECT count(*) FROM package_sets').pluck().get(), 2);
  assert.equal(db.prepare('PRAGMA integrity_check').pluck().get(), 'ok');
  db.close();
});
