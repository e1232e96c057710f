// The ingest worker under faults: the same leases, offsets and fault reports as ingest on the
// window's thread, plus what only a worker has (it dies, it cannot start, it shares the process's
// locks on the database file). Real processes, real SQLite files; every test prints its counts.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Store } from '../../src/core/store/store.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { runFolder } from '../../src/core/runs/runProcess.ts';
import { tempDir } from '../unit/helpers.ts';
import { INGEST_WORKER, audit, node, startWriter, until } from './fixtures/writerRun.ts';

const FAULTY_WORKER = new URL('./fixtures/faultyWorker.ts', import.meta.url);

function setup() {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  return { dir, storeDir, store: Store.open(storeDir) };
}

/** Follows the monitor's runs as the extension does (a 250 ms timer, and a tick on each notice) until none is left. */
async function follow(monitor: RunMonitor, timeoutMs = 120_000): Promise<{ slowestTickMs: number }> {
  let slowest = 0;
  const end = Date.now() + timeoutMs;
  while (monitor.runningIds.length) {
    if (Date.now() > end) assert.fail('the runs were not followed to their end');
    const t = performance.now();
    monitor.tick();
    slowest = Math.max(slowest, performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { slowestTickMs: slowest };
}

test('a busy store, with a worker ingesting: the fault is reported once and cleared, every point at its step, this thread never waits', async () => {
  const { dir, storeDir, store } = setup();
  const n = 5000;
  const run = startWriter(store, storeDir, n, 200, dir);
  const faults: string[] = [];
  const logged: string[] = [];
  const monitor = new RunMonitor(store, storeDir, {
    parse: () => undefined, busyReportMs: 1000, log: (m) => logged.push(m), worker: { script: INGEST_WORKER },
    onFault: (_r, f) => faults.push(f ? `fault ${f.kind}` : 'recovered'),
  });
  monitor.track(run);
  const holder = node('lockHolder.ts', [store.file, '4000']);
  await until('the other process to take the lock', () => /locked/.test(holder.output()));
  const { slowestTickMs } = await follow(monitor);
  await holder.done;
  const a = audit(store, run.id, n);
  console.log(`worker, lock held 4 s: slowest tick on this thread ${slowestTickMs.toFixed(1)} ms; faults told: ${faults.join(', ')}; `
    + `${a.stored} of ${3 * n} stored, ${a.lost} lost, ${a.duplicated} duplicated, ${a.misplaced} at a wrong step`);
  assert.deepEqual(a, { stored: 3 * n, lost: 0, duplicated: 0, misplaced: 0 });
  assert.deepEqual(faults, ['fault busy', 'recovered'], 'the user is told once, and told when it is over');
  assert.ok(monitor.inWorker, logged.join('\n'));
  assert.ok(slowestTickMs < 50, `this thread never waits for the lock (slowest tick ${slowestTickMs.toFixed(1)} ms)`);
  assert.equal(store.runs.get(run.id)!.status, 'finished');
  monitor.dispose();
  store.close();
});

/** A small tmpfs at `dir` when this process may mount one (root); else undefined. */
function smallDisk(dir: string, mb: number): string | undefined {
  if (process.getuid?.() !== 0 || process.platform !== 'linux') return undefined;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch {
    return undefined;
  }
  return dir;
}

test('a full disk, with a worker ingesting: nothing half-stored, the fault carried by the run, and ingest resumes when space is back', async () => {
  const dir = tempDir();
  const disk = join(dir, 'disk');
  mkdirSync(disk);
  const real = smallDisk(disk, 24);
  try {
    const storeDir = join(disk, '.runlens');
    const store = Store.open(storeDir);
    const n = 50_000;
    const run = startWriter(store, storeDir, n, 1000, dir);
    await until('the writer to finish', () => existsSync(runFolder(storeDir, run.uid).exit));
    const filler = join(disk, 'filler');
    if (real) {
      const fs = statfsSync(disk);
      writeFileSync(filler, Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - (256 << 10)))); // leave 256 KB
    } else {
      writeFileSync(filler, ''); // the faulty worker raises SQLITE_FULL while this file exists
      process.env.RUNLENS_FAULT_FULL_WHILE = filler;
    }
    const faults: string[] = [];
    const monitor = new RunMonitor(store, storeDir, {
      parse: () => undefined, budget: 64 << 10, onFault: (_r, f) => faults.push(f ? `fault ${f.kind}` : 'recovered'),
      worker: { script: real ? INGEST_WORKER : FAULTY_WORKER },
    });
    delete process.env.RUNLENS_FAULT_FULL_WHILE;
    monitor.track(run);
    await until('the full disk to be reported', () => { monitor.tick(); return faults.length > 0; });
    const during = audit(store, run.id, n);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(audit(store, run.id, n).stored, during.stored, 'nothing more is stored while the disk is full');
    assert.equal(monitor.faults.get(run.id)?.kind, 'full', 'the run carries the fault while it lasts');
    rmSync(filler);
    await follow(monitor);
    const a = audit(store, run.id, n);
    console.log(`worker, full disk (${real ? 'a 24 MB tmpfs' : 'SQLITE_FULL injected in the worker: not root'}): ${during.stored} points stored before it filled, `
      + `${during.misplaced} at a wrong step; after space came back ${a.stored} of ${3 * n}, ${a.lost} lost, ${a.duplicated} duplicated; told: ${faults.join(', ')}`);
    assert.deepEqual(a, { stored: 3 * n, lost: 0, duplicated: 0, misplaced: 0 });
    assert.equal(during.misplaced, 0);
    assert.deepEqual(faults, ['fault full', 'recovered']);
    assert.ok(monitor.inWorker);
    assert.equal(store.runs.get(run.id)!.status, 'finished');
    monitor.dispose();
    store.close();
  } finally {
    if (real) execFileSync('umount', ['-l', disk], { stdio: 'pipe' });
  }
});

test('the worker dies inside a transaction: this thread takes over its runs, with nothing lost or stored twice', async () => {
  const { dir, storeDir, store } = setup();
  const n = 6000;
  const run = startWriter(store, storeDir, n, 20, dir, 10); // writes for about 3 s: the worker dies while it goes
  const logged: string[] = [];
  process.env.RUNLENS_FAULT_EXIT_AFTER = '3';
  const monitor = new RunMonitor(store, storeDir, { parse: () => undefined, log: (m) => logged.push(m), worker: { script: FAULTY_WORKER } });
  delete process.env.RUNLENS_FAULT_EXIT_AFTER;
  monitor.track(run);
  monitor.markStopping(-1); // a run it does not follow: ignored
  await until('the worker to die', () => !monitor.inWorker, 30_000);
  const before = audit(store, run.id, n).stored;
  await follow(monitor);
  const a = audit(store, run.id, n);
  console.log(`worker died in its 3rd append (${before} points stored by it): ${a.stored} of ${3 * n} stored, ${a.lost} lost, ${a.duplicated} duplicated; logged: ${logged.join(' | ')}`);
  assert.deepEqual(a, { stored: 3 * n, lost: 0, duplicated: 0, misplaced: 0 });
  assert.ok(before > 0, 'the worker stored points before it died');
  assert.match(logged.join('\n'), /ingesting runs on this thread: the ingest worker exited with code 3/);
  assert.equal(store.runs.get(run.id)!.status, 'finished');
  monitor.dispose();
  store.close();
});

test('a worker that cannot start: this thread ingests instead, and says why', async () => {
  const { dir, storeDir, store } = setup();
  const n = 2000;
  const run = startWriter(store, storeDir, n, 100, dir);
  const logged: string[] = [];
  const monitor = new RunMonitor(store, storeDir, { parse: () => undefined, log: (m) => logged.push(m), worker: { script: join(dir, 'no-such-worker.js') } });
  monitor.track(run);
  await follow(monitor);
  const a = audit(store, run.id, n);
  console.log(`no worker script: ${a.stored} of ${3 * n} stored; logged: ${logged[0]?.split('\n')[0]}`);
  assert.deepEqual(a, { stored: 3 * n, lost: 0, duplicated: 0, misplaced: 0 });
  assert.equal(monitor.inWorker, false);
  assert.match(logged[0] ?? '', /ingesting runs on this thread: the ingest worker stopped: .*Cannot find module/);
  monitor.dispose();
  store.close();
});

test('a window lets go: its worker stores nothing more and releases its leases, so another window takes over at once', async () => {
  const { dir, storeDir, store } = setup();
  const n = 20_000;
  const run = startWriter(store, storeDir, n, 50, dir, 5);
  const first = new RunMonitor(store, storeDir, { parse: () => undefined, worker: { script: INGEST_WORKER } });
  first.track(run);
  await until('the worker to store some points', () => audit(store, run.id, n).stored > 0, 30_000);
  first.dispose();
  const atDispose = store.leases.holder(run.id);
  await new Promise((r) => setTimeout(r, 500));
  const after = audit(store, run.id, n).stored;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(audit(store, run.id, n).stored, after, 'the disposed worker stores nothing more');
  assert.equal(atDispose, undefined, 'the lease is released when dispose returns');
  const second = new RunMonitor(store, storeDir, { parse: () => undefined, worker: { script: INGEST_WORKER } });
  const t0 = Date.now();
  second.recover();
  await until('the second window to store points', () => audit(store, run.id, n).stored > after, 30_000);
  const tookOver = Date.now() - t0;
  await follow(second);
  const a = audit(store, run.id, n);
  console.log(`dispose: ${after} points before, the next window stored more after ${tookOver} ms; ${a.stored} of ${3 * n}, ${a.lost} lost, ${a.duplicated} duplicated`);
  assert.deepEqual(a, { stored: 3 * n, lost: 0, duplicated: 0, misplaced: 0 });
  assert.ok(tookOver < 5000, `taken over at once, not after the 15 s lease (${tookOver} ms)`);
  second.dispose();
  store.close();
});

/** Another process opens the store, reads and closes it: the last connection there, it would delete a WAL it thinks unused. */
function otherProcessOpensAndCloses(file: string): void {
  const r = spawnSync('python3', ['-c', 'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute("PRAGMA user_version").fetchone()\nc.close()', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** Runs `code` (a module body with `file` in scope) in a worker thread of this process and waits for it to end. */
async function inWorker(code: string, file: string): Promise<void> {
  const src = `import { workerData } from 'node:worker_threads';\nconst file = workerData;\n${code}`;
  const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`), { workerData: file });
  await new Promise<void>((resolve, reject) => { w.on('error', reject); w.on('exit', () => resolve()); });
}

test('the worker opening and closing its connection keeps this thread\'s locks; a plain file read in a worker would not (the control)', async () => {
  const { dir, storeDir, store } = setup();
  const run = startWriter(store, storeDir, 500, 100, dir);
  const monitor = new RunMonitor(store, storeDir, { parse: () => undefined, worker: { script: INGEST_WORKER } });
  monitor.track(run);
  await follow(monitor);
  monitor.dispose();
  await new Promise((r) => setTimeout(r, 300)); // the worker closes its connection
  otherProcessOpensAndCloses(store.file);
  assert.ok(existsSync(`${store.file}-wal`), 'the WAL is still there while this process has the store open');
  store.runs.create({ name: 'after the worker' });
  assert.equal(audit(store, run.id, 500).stored, 1500);

  // The control: the pre-open inspection (plain open and close of the file) run in a worker drops the locks.
  const database = new URL('../../src/core/store/database.ts', import.meta.url).href;
  await inWorker(`const { inspectFile } = await import(${JSON.stringify(database)});\ninspectFile(file);`, store.file);
  otherProcessOpensAndCloses(store.file);
  assert.ok(!existsSync(`${store.file}-wal`), 'the control: with the locks dropped, the other process deleted the WAL');
  store.close();
});
