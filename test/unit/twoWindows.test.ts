import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import { tempDir } from './helpers.ts';

const writer = join(import.meta.dirname, 'fixtures', 'windowWriter.ts');

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
