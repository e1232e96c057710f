import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import { checkStore, migrate } from '../../src/core/store/migrations.ts';
import { tempDir } from './helpers.ts';

const writer = join(import.meta.dirname, 'fixtures', 'windowWriter.ts');
const opener = join(import.meta.dirname, 'fixtures', 'openRace.ts');

function runWindow(storeDir: string, name: string, runs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', writer, storeDir, name, String(runs)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${name} exited ${code}: ${out}`))));
  });
}

test('two windows writing the same store at once neither corrupt it nor lock each other out', async () => {
  const dir = join(tempDir(), '.runlens');
  // Both processes start on a store that does not exist yet, so they also race the migration.
  const outs = await Promise.all([runWindow(dir, 'left', 60), runWindow(dir, 'right', 60)]);
  for (const out of outs) assert.match(out, /done/);
  const store = Store.open(dir);
  assert.equal(store.runs.count(), 120);
  for (const w of ['left', 'right']) {
    const runs = store.runs.list({ limit: 1000 }).filter((r) => r.name.startsWith(w));
    assert.equal(runs.length, 60);
    for (const r of runs) {
      const pts = store.metrics.points(r.id, 'loss');
      assert.equal(pts.values.length, 300, `${r.name} has all its points`);
      assert.deepEqual(Array.from(pts.steps.subarray(0, 3)), [0, 1, 2]);
    }
  }
  store.close();
  const db = new Database(join(dir, 'runs.db'), { readonly: true });
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  db.close();
});

test('a reader in one window sees committed runs of another while it keeps writing', async () => {
  const dir = join(tempDir(), '.runlens');
  const store = Store.open(dir);
  let ended = false;
  const other = runWindow(dir, 'busy', 80).finally(() => (ended = true));
  other.catch(() => {}); // awaited below
  let sawPartial = false;
  const deadline = Date.now() + 120_000;
  while (true) {
    const n = store.runs.count();
    if (n > 0 && n < 80) sawPartial = true;
    if (n === 80) break;
    // Bounded: a writer that ended (or failed) or stalls fails the test instead of hanging it.
    if (ended) { await other; assert.fail(`the writer ended, but ${n} of its 80 runs are visible`); }
    if (Date.now() > deadline) assert.fail(`${n} of 80 runs visible after 120 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await other;
  assert.ok(sawPartial, 'reads were not blocked until the writer finished');
  store.close();
});

test('a window that checks a new store while another commits its migration between the two reads does not refuse it', () => {
  const file = join(tempDir(), 'runs.db');
  const first = new Database(file);
  first.pragma('journal_mode = WAL');
  const second = new Database(file);
  // The second window reads user_version, then the table list; the first window's migration commits
  // in between (a proxy makes that moment deterministic).
  let committed = false;
  const between = new Proxy(second, {
    get(target, prop) {
      if (prop === 'prepare' && !committed) {
        committed = true;
        migrate(first);
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  assert.doesNotThrow(() => checkStore(between, file), 'one snapshot: empty, then ready');
  assert.ok(committed, 'the migration ran between the reads');
  assert.ok(checkStore(second, file) > 0, 'after it, the migrated store');
  first.close();
  second.close();
});

function opening(root: string, role: string, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', opener, root, role, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${role} exited ${code}: ${out}`))));
  });
}

test('a second window opening each new store the moment it appears is never refused (200 stores)', async () => {
  const root = tempDir();
  const [a, b] = await Promise.all([opening(root, 'first', 200), opening(root, 'second', 200)]);
  assert.match(a, /done 0/, a);
  assert.match(b, /done 0/, b);
});
