// Reload survival, in two code-server sessions on one workspace (extensionTestsPath: dist/test/reload.js).
// Phase "start": start a slow run and leave while it runs (the runner then kills code-server).
// Phase "resume": a new window must reattach; the run finishes with every point exactly once.
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
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
      }
    });
  });
}
