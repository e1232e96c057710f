// Liveness and Stop for runs whose process.json names a host: the Python helper's own runs, which may
// run on another machine sharing the store (a cluster node, a container, an SSH host).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { adoptInbox } from '../../src/core/runs/inbox.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { HEARTBEAT_MS, StopRefused, isAlive, readProcess, runFolder, startTicks, stopProcess, stopRefusal } from '../../src/core/runs/runProcess.ts';
import { inboxEntry, writeHelperRun } from './inboxFixture.ts';
import { tempDir } from './helpers.ts';

const OTHER = `not-${hostname()}`;
const ago = (file: string, ms: number) => utimesSync(file, new Date(Date.now() - ms), new Date(Date.now() - ms));

/** A run folder with process.json; returns what readProcess makes of it. */
function recorded(storeDir: string, info: Record<string, unknown>, heartbeatAgeMs?: number) {
  const uid = `${Math.random().toString(16).slice(2)}`;
  const f = runFolder(storeDir, uid);
  mkdirSync(f.dir, { recursive: true });
  writeFileSync(f.process, JSON.stringify(info));
  if (heartbeatAgeMs !== undefined) {
    writeFileSync(f.heartbeat, '');
    ago(f.heartbeat, heartbeatAgeMs);
  }
  return { f, info: readProcess(storeDir, uid)! };
}

test('on another host the pid means nothing: alive while the heartbeat is younger than 60 s (configurable)', () => {
  const storeDir = tempDir();
  const dead = 2 ** 22 + 17; // above pid_max's default: no such process here
  const fresh = recorded(storeDir, { pid: dead, startTicks: 5, host: OTHER }, 5_000);
  assert.equal(fresh.info.host, OTHER);
  assert.equal(isAlive(fresh.info), true, 'a fresh heartbeat: going, though no such pid lives here');
  const stale = recorded(storeDir, { pid: process.pid, startTicks: null, host: OTHER }, HEARTBEAT_MS + 5_000);
  assert.equal(isAlive(stale.info), false, 'a stale heartbeat: gone, though a process of that pid lives here');
  assert.equal(isAlive(fresh.info, { heartbeatMs: 2_000 }), false);
  assert.equal(isAlive(stale.info, { heartbeatMs: 10 * HEARTBEAT_MS }), true);
  // Before the first beat, process.json's own time counts; a folder with neither is gone.
  const starting = recorded(storeDir, { pid: dead, startTicks: null, host: OTHER });
  assert.equal(isAlive(starting.info), true);
  ago(starting.f.process, HEARTBEAT_MS + 1000);
  assert.equal(isAlive(starting.info), false);
});

test('on this host the pid and its start time decide, whatever the heartbeat says', () => {
  const storeDir = tempDir();
  const me = recorded(storeDir, { pid: process.pid, startTicks: startTicks(process.pid), host: hostname() }, HEARTBEAT_MS * 10);
  assert.equal(isAlive(me.info), true);
  const reused = recorded(storeDir, { pid: process.pid, startTicks: 1, host: hostname() }, 0);
  assert.equal(isAlive(reused.info), startTicks(process.pid) === null, 'a reused pid is not the run (where start times are known)');
  const launched = recorded(storeDir, { pid: process.pid, startTicks: null }); // a launched run's process.json: no host
  assert.equal(launched.info.host, undefined);
  assert.equal(isAlive(launched.info), true);
  assert.equal(recorded(storeDir, { pid: 0, startTicks: null }).info, undefined, 'pid 0 would signal our own group: not a process');
});

test('Stop refuses a process on another host with a clear reason and signals nothing', async () => {
  const storeDir = tempDir();
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const { info } = recorded(storeDir, { pid: child.pid, startTicks: null, host: OTHER }, 0);
    const refusal = stopRefusal(info);
    assert.ok(refusal instanceof StopRefused);
    assert.equal(refusal.host, OTHER);
    assert.match(refusal.message, new RegExp(`runs on ${OTHER}, not on this machine \\(${hostname()}\\)`));
    await assert.rejects(stopProcess(info), (err: Error) => err instanceof StopRefused && err.message === refusal.message);
    assert.equal(child.exitCode, null);
    assert.equal(child.signalCode, null, 'the local process with that pid was left alone');
    assert.equal(stopRefusal({ pid: child.pid!, startTicks: null, host: hostname() }), undefined);
  } finally {
    child.kill('SIGKILL');
  }
});

test('Stop signals a process that leads no group (a script started from a shell) by its pid alone', async () => {
  const storeDir = tempDir();
  // Not detached: it is in this test's process group, as a script is in its shell's; the group must not be signalled.
  const child = spawn('python3', ['-c', 'import time\nwhile True: time.sleep(0.05)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  const { info } = recorded(storeDir, { pid: child.pid, startTicks: startTicks(child.pid!), host: hostname() });
  const exited = new Promise<[number | null, string | null]>((r) => child.on('exit', (code, signal) => r([code, signal])));
  assert.equal(await stopProcess(info, { int: 3000, term: 2000 }), 'SIGINT');
  const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the process did not get the signal')), 5000).unref());
  const [code, signal] = await Promise.race([exited, late]).finally(() => child.kill('SIGKILL')); // KeyboardInterrupt: exit code 1, or killed by SIGINT (Python re-raises it)
  assert.ok(code === 1 || signal === 'SIGINT', `it ended on the signal (${code}, ${signal}); this test, in the same group, did not get it`);
});

test('the monitor keeps a run on another host while its heartbeat goes, and marks it crashed once it stops', async () => {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  const store = Store.open(storeDir);
  const e = inboxEntry(dir);
  writeHelperRun(storeDir, e, { heartbeat: '' }, { pid: 2 ** 22 + 17, startTicks: 1, host: OTHER });
  const [run] = (await adoptInbox(store, storeDir)).adopted;
  const monitor = new RunMonitor(store, storeDir, { parse: () => undefined });
  assert.deepEqual(monitor.recover(), { reattached: 1, ended: 0 });
  monitor.tick();
  assert.equal(store.runs.get(run!.id)!.status, 'running');
  ago(runFolder(storeDir, e.uid).heartbeat, HEARTBEAT_MS + 1000);
  monitor.tick();
  assert.equal(store.runs.get(run!.id)!.status, 'crashed');
  monitor.dispose();
  store.close();
});
