// The ingest under faults, driven the way the extension drives it: real processes, real SQLite files.
// Every test prints its exact counts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { isAlive, readProcess, runFolder } from '../../src/core/runs/runProcess.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { importMlflowFrom } from '../../src/core/importers/importMlflow.ts';
import { JsonlIngestor } from '../../src/core/ingest/jsonlIngestor.ts';
import { faultKind } from '../../src/core/store/faults.ts';
import { tempDir } from '../unit/helpers.ts';
import { prng } from '../../src/core/hparams/sweep.ts';
import { audit, node, startWriter, until } from './fixtures/writerRun.ts';

/** An MLflow file store with `runs` runs of `points` points each (what an import reads at the same time). */
function mlruns(dir: string, runs: number, points: number): string {
  const at = join(dir, 'mlruns', '1');
  mkdirSync(at, { recursive: true });
  writeFileSync(join(at, 'meta.yaml'), 'artifact_location: file:///x\ncreation_time: 1700000000000\nexperiment_id: \'1\'\nlifecycle_stage: active\nname: imported\n');
  for (let r = 0; r < runs; r++) {
    const id = `run${String(r).padStart(29, '0')}`;
    mkdirSync(join(at, id, 'metrics'), { recursive: true });
    writeFileSync(join(at, id, 'meta.yaml'), `experiment_id: '1'\nlifecycle_stage: active\nrun_id: ${id}\nrun_uuid: ${id}\nrun_name: imp-${r}\nstart_time: 1700000000000\nend_time: 1700000100000\nstatus: 3\nuser_id: x\n`);
    writeFileSync(join(at, id, 'metrics', 'loss'), Array.from({ length: points }, (_, i) => `${1700000000000 + i} ${i} ${i}\n`).join(''));
  }
  return join(dir, 'mlruns');
}

test('two windows follow the same running run while an import writes: 0 duplicates, 0 lost, 3 rounds', async () => {
  const rand = prng(12);
  for (let round = 0; round < 3; round++) {
    const dir = tempDir();
    const storeDir = join(dir, '.runlens');
    const store = Store.open(storeDir);
    const n = 20_000;
    const run = startWriter(store, storeDir, n, 50 + Math.floor(rand() * 400), dir);
    const ticks = [5 + Math.floor(rand() * 40), 5 + Math.floor(rand() * 40)];
    // Where each window ingests: a worker thread (as the extension does) or its own thread (the fallback).
    const modes = [['inline', 'worker'], ['worker', 'worker'], ['worker', 'inline']][round]!;
    const windows = ticks.map((t, i) => node('monitor.ts', [storeDir, String(t), '15000', modes[i]!]));
    // Round 2: the first window is killed mid-run; the other takes over at once (its pid is gone).
    if (round === 2) setTimeout(() => windows[0]!.child.kill('SIGKILL'), 300 + rand() * 500);
    const report = await importMlflowFrom(store, mlruns(dir, 20, 2000));
    await Promise.all(windows.map((w) => w.done));
    for (const w of windows) assert.doesNotMatch(w.output(), /ingesting runs on this thread/, 'no worker fell back');
    const a = audit(store, run.id, n);
    const imported = store.runs.list({ limit: 100 }).filter((r) => r.name.startsWith('imp-'))
      .reduce((s, r) => s + store.metrics.points(r.id, 'loss').values.length, 0);
    console.log(`round ${round} (${modes.join('/')}, ticks ${ticks.join('/')} ms${round === 2 ? ', one window killed' : ''}): `
      + `${a.stored} of ${3 * n} points stored, ${a.duplicated} duplicated, ${a.lost} lost, ${a.misplaced} at a wrong step; `
      + `import ${report.runs} runs, ${imported} points`);
    assert.deepEqual({ lost: a.lost, duplicated: a.duplicated, misplaced: a.misplaced }, { lost: 0, duplicated: 0, misplaced: 0 });
    assert.equal(a.stored, 3 * n);
    assert.equal(imported, 20 * 2000);
    assert.equal(store.runs.get(run.id)!.status, 'finished');
    store.close();
  }
});

test('30 SIGKILLs of the ingesting process (every other one ingesting in a worker) at random moments: 0 lost, 0 duplicated', async () => {
  const rand = prng(30);
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  const store = Store.open(storeDir);
  const n = 30_000;
  const run = startWriter(store, storeDir, n, 20, dir, 10); // writes for about 15 s, while the kills go on
  const info = readProcess(storeDir, run.uid)!;
  let kills = 0, whileWriting = 0;
  for (; kills < 30; kills++) {
    if (isAlive(info)) whileWriting++;
    const w = node('monitor.ts', [storeDir, String(5 + Math.floor(rand() * 20)), '15000', kills % 2 ? 'inline' : 'worker']);
    await new Promise((r) => setTimeout(r, 100 + rand() * 300));
    w.child.kill('SIGKILL');
    await w.done;
  }
  const writerEnded = !isAlive(info);
  await node('monitor.ts', [storeDir, '10', '15000', 'worker']).done; // the window that stays
  const a = audit(store, run.id, n);
  console.log(`${kills} SIGKILLs, ${whileWriting} while the writer was writing (it ${writerEnded ? 'had ended' : 'was still going'} at the last): ${a.stored} of ${3 * n} points stored, `
    + `${a.duplicated} duplicated, ${a.lost} lost, ${a.misplaced} at a wrong step`);
  assert.deepEqual(a, { stored: 3 * n, lost: 0, duplicated: 0, misplaced: 0 });
  assert.ok(whileWriting >= 10, `most kills came while the run was writing (${whileWriting})`);
  assert.equal(store.runs.get(run.id)!.status, 'finished');
  store.close();
});

test('a busy store: the tick waits briefly, the fault is reported, and ingest resumes by itself with every point at its step', async () => {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  const store = Store.open(storeDir);
  const n = 5000;
  const run = startWriter(store, storeDir, n, 200, dir);
  const faults: string[] = [];
  const monitor = new RunMonitor(store, storeDir, {
    parse: () => undefined, busyReportMs: 1000,
    onFault: (_r, f) => faults.push(f ? `fault ${f.kind}` : 'recovered'),
  });
  monitor.track(run);
  const holder = node('lockHolder.ts', [store.file, '4000']);
  await until('the other process to take the lock', () => /locked/.test(holder.output()));
  let slowest = 0;
  const t0 = Date.now();
  let held = true;
  void holder.done.then(() => { held = false; });
  while (held || monitor.runningIds.includes(run.id)) {
    const t = performance.now();
    monitor.tick();
    slowest = Math.max(slowest, performance.now() - t);
    if (Date.now() - t0 > 120_000) assert.fail('the run was not followed to its end');
    await new Promise((r) => setTimeout(r, 50));
  }
  const a = audit(store, run.id, n);
  console.log(`lock held 4 s: slowest tick ${slowest.toFixed(0)} ms (before: 5,000 ms per poll); faults told: ${faults.join(', ')}; `
    + `${a.stored} of ${3 * n} stored, ${a.lost} lost, ${a.duplicated} duplicated, ${a.misplaced} at a wrong step`);
  assert.deepEqual(a, { stored: 3 * n, lost: 0, duplicated: 0, misplaced: 0 });
  assert.deepEqual(faults, ['fault busy', 'recovered'], 'the user is told once, and told when it is over');
  assert.ok(slowest < 2500, `a tick never waits out the 5 s busy timeout (slowest ${slowest.toFixed(0)} ms)`);
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

test('a full disk: nothing half-stored, every point at its logged step, and ingest resumes by itself when space is back', async () => {
  const dir = tempDir();
  const disk = join(dir, 'disk');
  mkdirSync(disk);
  const real = smallDisk(disk, 24);
  try {
    await fullDisk(disk, real !== undefined);
  } finally {
    if (real) execFileSync('umount', ['-l', disk], { stdio: 'pipe' });
  }
});

async function fullDisk(disk: string, real: boolean): Promise<void> {
  const dir = join(disk, '..');
  const storeDir = join(disk, '.runlens');
  const store = Store.open(storeDir);
  const n = 50_000;
  const run = startWriter(store, storeDir, n, 1000, dir);
  await until('the writer to finish', () => existsSync(runFolder(storeDir, run.uid).exit));
  let full = true;
  const filler = join(disk, 'filler');
  if (real) {
    // Leave 256 KB: a few slices fit, then SQLite gets SQLITE_FULL.
    const fs = statfsSync(disk);
    writeFileSync(filler, Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - (256 << 10))));
  } else {
    // Not root: the same error, injected where SQLite would raise it, after a few slices.
    const append = store.metrics.appendMany.bind(store.metrics);
    let calls = 0;
    store.metrics.appendMany = (...a) => {
      if (full && ++calls > 3) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      return append(...a);
    };
  }
  const faults: string[] = [];
  const monitor = new RunMonitor(store, storeDir, {
    parse: () => undefined, budget: 64 << 10, onFault: (_r, f) => faults.push(f ? `fault ${f.kind}` : 'recovered'),
  });
  monitor.track(run);
  await until('the full disk to be reported', () => { monitor.tick(); return faults.length > 0; });
  const during = audit(store, run.id, n);
  for (let i = 0; i < 20; i++) { monitor.tick(); await new Promise((r) => setTimeout(r, 20)); }
  assert.equal(audit(store, run.id, n).stored, during.stored, 'nothing more is stored while the disk is full');
  assert.ok(monitor.faults.get(run.id)?.kind === 'full', 'the run carries the fault while it lasts');
  if (real) rmSync(filler);
  full = false;
  await until('the run to be recorded to its end', () => { monitor.tick(); return !monitor.runningIds.includes(run.id); });
  const a = audit(store, run.id, n);
  console.log(`full disk (${real ? 'a 24 MB tmpfs' : 'SQLITE_FULL injected: not root'}): ${during.stored} points stored before it filled, `
    + `${during.misplaced} at a wrong step; after space came back ${a.stored} of ${3 * n}, ${a.lost} lost, ${a.duplicated} duplicated, `
    + `${a.misplaced} at a wrong step (before: 133,445 of 150,000 per key at a wrong step); told: ${faults.join(', ')}`);
  assert.deepEqual(a, { stored: 3 * n, lost: 0, duplicated: 0, misplaced: 0 });
  assert.equal(during.misplaced, 0);
  assert.deepEqual(faults, ['fault full', 'recovered']);
  assert.equal(store.runs.get(run.id)!.status, 'finished');
  store.close();
}

test('two readers of one file without a lease (the compare-and-set alone): every line stored once', () => {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  const a = Store.open(storeDir), b = Store.open(storeDir);
  const runId = a.runs.create({ name: 'cas', status: 'running' }).id;
  const file = join(dir, 'metrics.jsonl');
  const n = 3000;
  writeFileSync(file, '');
  const readers = [a, b].map((s) => new JsonlIngestor(s, runId, file));
  // The race: one reader has read its lines; before its transaction begins, the other stores the same lines.
  const rand = prng(7);
  let inRace = false;
  for (const [mine, other] of [[a, readers[1]!], [b, readers[0]!]] as const) {
    const transaction = mine.transaction.bind(mine);
    mine.transaction = <T>(fn: () => T): T => {
      if (!inRace && rand() < 0.3) {
        inRace = true;
        try { other.poll(); } catch (err) { if (faultKind(err) !== 'conflict') throw err; }
        inRace = false;
      }
      return transaction(fn);
    };
  }
  let conflicts = 0;
  for (let i = 0; i < n; i++) {
    writeFileSync(file, `{"t": 1, "metrics": {"a": ${i}, "b": ${-i}}}\n{"t": 1, "step": ${2 * i}, "metrics": {"c": ${i}}}\n`, { flag: 'a' });
    for (const r of i % 3 ? readers : [...readers].reverse()) {
      try {
        r.poll();
      } catch (err) {
        if (faultKind(err) !== 'conflict') throw err;
        conflicts++;
      }
    }
  }
  const r = audit(a, runId, n);
  console.log(`two readers, ${n} lines each read by both: ${r.stored} of ${3 * n} stored, ${r.duplicated} duplicated, ${conflicts} conflicts rolled back`);
  assert.deepEqual(r, { stored: 3 * n, lost: 0, duplicated: 0, misplaced: 0 });
  assert.ok(conflicts > 100, `the race happened and was caught (${conflicts} times)`);
  a.close();
  b.close();
});
