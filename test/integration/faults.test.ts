import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { activate, eventually, row, runEnded, withLog, workspaceDir } from './util.ts';

/** A run that logs one point every 50 ms for 30 s, through the helper. */
const SLOW = 'import runlens, time\nfor i in range(600):\n    runlens.log({"probe": i}); runlens.flush(); time.sleep(0.05)';

/** Another process (Python's sqlite3) holding the store's write lock for `seconds`. */
function holdLock(file: string, seconds: number): Promise<void> {
  const code = 'import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n'
    + 'c.execute("BEGIN IMMEDIATE")\nprint("locked", flush=True)\ntime.sleep(float(sys.argv[2]))\nc.execute("ROLLBACK")';
  const child = spawn('python3', ['-c', code, file, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { if (/locked/.test(String(d))) resolve(); });
    child.on('exit', (c) => reject(new Error(`the lock holder exited ${c} before taking the lock`)));
  });
}

export function registerFaultTests(): void {
  describe('Faults while a run goes', () => {
    it('a store that stays busy marks the run with a warning, and ingest resumes with every point at its step', async function () {
      this.timeout(120_000);
      const api = await activate();
      const run = await api.runs.start({ name: 'busy-probe', spec: { command: 'python3', args: ['-c', SLOW], shell: false, cwd: workspaceDir() } });
      const store = api.store.get()!;
      await eventually(() => store.metrics.points(run.id, 'probe').values.length > 5, 'the first points', 30_000);
      await holdLock(store.file, 25); // the busy store is told after 10 s
      const marked = await withLog(api, () => eventually(() => {
        if (!api.runs.faults.has(run.id)) return false;
        const experiment = api.runsTree.getChildren().find((e) => api.runsTree.getChildren(e).some((n) => n.kind === 'run' && n.run.id === run.id))!;
        const node = api.runsTree.getChildren(experiment).find((n) => n.kind === 'run' && n.run.id === run.id)!;
        return row(api, node);
      }, 'the run to be marked', 60_000));
      assert.equal(marked.icon, 'warning');
      assert.match(marked.description, /not stored: busy/);
      assert.equal(api.runs.faults.get(run.id)!.kind, 'busy');
      const ended = await runEnded(store, run.id, 90_000);
      assert.equal(ended.status, 'finished');
      assert.equal(api.runs.faults.has(run.id), false, 'the mark goes once points are stored again');
      assert.deepEqual(Array.from(store.metrics.points(run.id, 'probe').steps), Array.from({ length: 600 }, (_, i) => i));
      assert.deepEqual(Array.from(store.metrics.points(run.id, 'probe').values), Array.from({ length: 600 }, (_, i) => i));
    });
  });
}
