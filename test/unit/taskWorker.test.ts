// Dataset hashing and imports in the task worker (src/core/tasks): its own connection to the store,
// the same results, progress, warnings and errors as on this thread, cancel, and the fallback.
import assert from 'node:assert/strict';
import { mkdirSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { DB_FILE, Store } from '../../src/core/store/store.ts';
import { runTask } from '../../src/core/tasks/taskClient.ts';
import type { Job } from '../../src/core/tasks/taskProtocol.ts';
import { MAX_COLUMNS } from '../../src/core/drift/profile.ts';
import { tempDir } from './helpers.ts';

const TASK_WORKER = new URL('../../src/core/tasks/taskWorker.ts', import.meta.url);
const TENSORBOARD = join(import.meta.dirname, 'fixtures', 'logs', 'tensorboard');
const LONG_AGO = new Date(Date.now() - 3600_000); // older than the hash cache's racy window

function write(file: string, text: string): string {
  writeFileSync(file, text);
  utimesSync(file, LONG_AGO, LONG_AGO);
  return file;
}

/** A folder of datasets: two tables, one too wide to profile (a warning), and a binary file. */
function datasets(): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'data'));
  write(join(dir, 'data', 'train.csv'), 'x,y,label\n1,2.5,cat\n2,3.5,dog\n3,,cat\n');
  write(join(dir, 'data', 'test.tsv'), 'x\ty\n4\t0.1\n5\t0.2\n');
  write(join(dir, 'data', 'wide.csv'), `${Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => `c${i}`).join(',')}\n`);
  write(join(dir, 'weights.bin'), 'not a table');
  return dir;
}

const stamp = (file: string) => {
  const st = statSync(file, { bigint: true });
  return { dev: Number(st.dev), ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs };
};

/** Everything a run's datasets leave in the store: their profiles (by content) and cache entries. */
function hashedState(store: Store, dir: string, files: string[]) {
  const cache = store.provenance.hashCache();
  return files.map((f) => {
    const sha256 = cache.get(join(dir, f), stamp(join(dir, f)));
    return { f, sha256, profile: sha256 === undefined ? undefined : store.profiles.get(sha256) };
  });
}

function runsOf(store: Store) {
  return store.runs.list({}).sort((a, b) => a.name.localeCompare(b.name)).map((r) => ({
    name: r.name, experiment: r.experiment, status: r.status, origin: r.origin, startedAt: r.startedAt, endedAt: r.endedAt,
    params: store.runs.params(r.id), tags: store.runs.tags(r.id),
    metrics: store.metrics.summaries(r.id).map((s) => {
      const p = store.metrics.points(r.id, s.key);
      return { key: s.key, steps: [...p.steps], times: [...p.times], values: [...p.values] };
    }),
  }));
}

test('hashing in the worker gives the digests, profiles, warnings and cache of hashing on this thread, and writes nothing on this connection', async () => {
  const dir = datasets();
  const here = Store.open(join(tempDir(), '.runlens'));
  const there = Store.open(join(tempDir(), '.runlens'));
  const job: Job = { kind: 'hash', paths: ['data', 'weights.bin'], cwd: dir };
  const warned = { here: [] as string[], there: [] as string[] };
  const logged: string[] = [];
  const expected = await runTask(undefined, here, job, { warn: (m) => warned.here.push(m) });
  const writes = there.changeCount();
  const progress: [number, number][] = [];
  const got = await runTask(TASK_WORKER, there, job, { warn: (m) => warned.there.push(m), log: (m) => logged.push(m), onProgress: (d, t) => progress.push([d, t]) });
  assert.deepEqual(logged, [], 'the worker ran it');
  assert.deepEqual(got, expected);
  assert.deepEqual(got.map((d) => [d.path, d.kind, d.fileCount]), [['data', 'directory', 3], ['weights.bin', 'file', 1]]);
  assert.deepEqual(warned.there, warned.here);
  assert.match(warned.there.join('\n'), /no data profile of .*wide\.csv: 2001 columns/);
  const files = ['data/train.csv', 'data/test.tsv', 'data/wide.csv', 'weights.bin'];
  const state = hashedState(there, dir, files);
  assert.deepEqual(state, hashedState(here, dir, files), 'the worker\'s commits are seen on this connection');
  assert.ok(state.every((s) => s.sha256), 'every file cached');
  assert.deepEqual(state.map((s) => s.profile?.rows), [3, 2, undefined, undefined], 'the tables profiled');
  assert.equal(there.changeCount(), writes, 'no row written on this thread');
  assert.deepEqual(progress.at(-1), [progress.at(-1)![1], progress.at(-1)![1]], 'the last progress is everything read');
  here.close();
  there.close();
});

test('an error in the worker surfaces as on this thread: a missing dataset', async () => {
  const dir = tempDir();
  const store = Store.open(join(dir, '.runlens'));
  const job: Job = { kind: 'hash', paths: ['nope.csv'], cwd: dir };
  const expected = { name: 'Error', message: `dataset not found: ${join(dir, 'nope.csv')}` };
  await assert.rejects(runTask(undefined, store, job), expected);
  await assert.rejects(runTask(TASK_WORKER, store, job, { log: (m) => assert.fail(m) }), expected);
  store.close();
});

test('cancelling mid-hash of a large file rejects with an AbortError and caches nothing; hashed to the end, it is cached', async () => {
  const dir = tempDir();
  const file = join(dir, 'big.bin');
  writeFileSync(file, '');
  truncateSync(file, 256 << 20); // sparse: no disk, all the hashing
  utimesSync(file, LONG_AGO, LONG_AGO);
  const store = Store.open(join(dir, '.runlens'));
  const job: Job = { kind: 'hash', paths: ['big.bin'], cwd: dir };
  const abort = new AbortController();
  let at: [number, number] | undefined;
  let abortedAt = 0;
  const onProgress = (done: number, total: number) => {
    if (done > 0 && !at) { at = [done, total]; abortedAt = performance.now(); abort.abort(); }
  };
  await assert.rejects(runTask(TASK_WORKER, store, job, { signal: abort.signal, onProgress, log: (m) => assert.fail(m) }), { name: 'AbortError' });
  assert.ok(at && at[0] < at[1], `cancelled part way (${at})`);
  assert.ok(performance.now() - abortedAt < 5000, 'the worker stopped by itself, not at the grace period\'s end');
  assert.equal(store.provenance.hashCache().get(file, stamp(file)), undefined, 'no cache entry');
  const [whole] = await runTask(TASK_WORKER, store, job);
  assert.equal(store.provenance.hashCache().get(file, stamp(file)), whole!.digest, 'hashed to the end, it would have been cached');
  store.close();
});

test('a busy store: the worker waits for another connection\'s write, then stores its cache and profiles', async () => {
  const dir = datasets();
  const storeDir = join(dir, '.runlens');
  const store = Store.open(storeDir);
  const other = new Database(join(storeDir, DB_FILE));
  other.exec('BEGIN IMMEDIATE');
  let released = 0;
  const release = new Promise<void>((resolve) => setTimeout(() => { other.exec('COMMIT'); released = Date.now(); resolve(); }, 1500));
  const [hashed] = await runTask(TASK_WORKER, store, { kind: 'hash', paths: ['data/train.csv'], cwd: dir }, { log: (m) => assert.fail(m) });
  const finished = Date.now();
  await release;
  other.close();
  assert.ok(released > 0 && finished >= released, 'finished after the other write committed');
  const [state] = hashedState(store, dir, ['data/train.csv']);
  assert.equal(state!.sha256, hashed!.digest);
  assert.equal(state!.profile?.rows, 3);
  store.close();
});

test('a TensorBoard import in the worker stores what the import on this thread stores', async () => {
  const here = Store.open(join(tempDir(), '.runlens'));
  const there = Store.open(join(tempDir(), '.runlens'));
  const job: Job = { kind: 'import', from: 'tensorboard', source: TENSORBOARD };
  const expected = await runTask(undefined, here, job);
  const progress: number[] = [];
  const got = await runTask(TASK_WORKER, there, job, { onProgress: (done) => progress.push(done), log: (m) => assert.fail(m) });
  assert.deepEqual(got, expected);
  assert.ok(got.runs >= 2 && got.points > 0, `imported runs (${JSON.stringify(got)})`);
  assert.deepEqual(runsOf(there), runsOf(here));
  assert.ok(progress.length > 0, 'progress came from the worker');
  const again = await runTask(TASK_WORKER, there, job);
  assert.deepEqual([again.runs, again.points, again.unchanged], [0, 0, got.runs], 'a second import finds them');
  here.close();
  there.close();
});

test('when the worker script cannot be loaded, the job runs on this thread, and says why', async () => {
  const dir = datasets();
  const store = Store.open(join(dir, '.runlens'));
  const job: Job = { kind: 'hash', paths: ['data'], cwd: dir };
  const logged: string[] = [];
  const writes = store.changeCount();
  const got = await runTask(join(dir, 'missing', 'taskWorker.js'), store, job, { log: (m) => logged.push(m), warn: () => undefined });
  assert.equal(logged.length, 1);
  assert.match(logged[0]!, /the task worker could not start \(.*Cannot find module.*\); running the hash here/s);
  assert.deepEqual(got, await runTask(undefined, Store.open(join(tempDir(), '.runlens')), job, { warn: () => undefined }));
  assert.ok(store.changeCount() > writes, 'this thread stored the cache');
  store.close();
});
