// A second open of a store in a process that already has it open (a test, a reopened window, a
// second workspace folder) must not drop the first connection's locks: closing any descriptor of
// the file releases the process's POSIX locks on it (sqlite.org/howtocorrupt.html, 2.2), and then
// another process that closes its connection believes it is the last, checkpoints and deletes the
// WAL under the first connection ("disk I/O error").
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { tempDir } from '../unit/helpers.ts';

test('opening a store again in the same process keeps the first connection working when another process closes', () => {
  const storeDir = join(tempDir(), '.runlens');
  const first = Store.open(storeDir);
  first.runs.create({ name: 'before' });
  for (let i = 0; i < 3; i++) {
    const again = Store.open(storeDir); // what the integration tests and a reopened window do
    again.close();
    // another process writes and closes its connection
    const r = spawnSync('python3', ['-c', 'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute("PRAGMA user_version").fetchone()\nc.close()',
      first.file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(`${first.file}-wal`), `round ${i}: the WAL is still there while this process has the store open`);
    first.runs.create({ name: `after ${i}` }); // "disk I/O error" when the WAL was deleted under it
  }
  assert.equal(first.runs.count(), 4);
  first.close();
});
