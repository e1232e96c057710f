// Reload survival, in two code-server sessions on one workspace (extensionTestsPath: dist/test/reload.js).
// Phase "start": start a slow run and leave while it runs (the runner then kills code-server).
// Phase "resume": a new window must reattach; the run finishes with every point exactly once. Between the
// phases, with no window open, a script records a run through the helper: the new window adopts it once.
import * as assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { adoptInbox } from '../../src/core/runs/inbox.ts';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { runSuites } from './mochaRunner.ts';
import { activate, eventually, runEnded, withLog, workspaceDir } from './util.ts';

const POINTS = 60;
const marker = () => join(workspaceDir(), '.reload-run-id');

export function run(): Promise<void> {
  const phase = process.env.RUNLENS_RELOAD_PHASE;
  return runSuites(() => {
    describe(`Reload survival (${phase})`, () => {
      if (phase === 'start') {
        it('starts a slow run and sees its first points', async () => {
          const api = await activate();
          const runId = await vscode.commands.executeCommand<number>('runlens.startRun', 'slow');
          writeFileSync(marker(), String(runId));
          const store = api.store.get()!;
          await eventually(() => store.metrics.points(runId, 'loss').values.length >= 5, 'the first points', 20_000);
          assert.equal(store.runs.get(runId)!.status, 'running');
        });
      } else {
        it('reattaches after the window went away, and the run finishes with no gaps or duplicates', async () => {
          const api = await activate();
          const { readFileSync } = await import('node:fs');
          const runId = Number(readFileSync(marker(), 'utf8'));
          const store = await eventually(() => api.store.get(), 'the store');
          await withLog(api, () => eventually(() => api.runs.running.includes(runId), 'this window to reattach to the live run'));
          const before = store.metrics.points(runId, 'loss').values.length;
          writeFileSync(join(workspaceDir(), '.reload-resumed'), ''); // the run waits for this halfway
          assert.ok(before < POINTS, 'the run was still going when this window opened');
          const done = await runEnded(store, runId);
          assert.equal(done.status, 'finished');
          assert.deepEqual(Array.from(store.metrics.points(runId, 'loss').steps), Array.from({ length: POINTS }, (_, i) => i));
          assert.deepEqual(Array.from(store.metrics.points(runId, 'loss').values), Array.from({ length: POINTS }, (_, i) => 1 / (i + 1)));
        });

        it('records a run the helper wrote while no window was open, once, and a second window does not again', async () => {
          const api = await activate();
          const store = await eventually(() => api.store.get(), 'the store');
          const named = () => store.runs.list({ limit: 1000 }).filter((r) => r.name === 'while-no-window');
          const [run] = await eventually(() => named().length > 0 && named(), 'the run written between the windows', 20_000);
          const ended = await runEnded(store, run!.id);
          assert.equal(ended.status, 'finished');
          assert.equal(store.runs.tags(run!.id)['runlens.source'], 'script');
          assert.deepEqual(Array.from(store.metrics.points(run!.id, 'loss').steps), Array.from({ length: 100 }, (_, i) => i));
          // another window (or process) looking at the same inbox now finds nothing to adopt
          const again = await adoptInbox(store, store.dir);
          assert.deepEqual([again.adopted.length, again.rejected.length], [0, 0]);
          assert.equal(named().length, 1, 'recorded exactly once');
          assert.deepEqual(readdirSync(join(store.dir, 'inbox')).filter((n) => n.endsWith('.json')), [], 'the inbox is empty');
        });
      }
    });
  });
}
