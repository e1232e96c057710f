// The suite for an untrusted workspace (extensionTestsPath: dist/test/untrusted.js): browsing works,
// nothing from the workspace is ever executed.
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { runSuites } from './mochaRunner.ts';
import { activate, eventually, viewRows } from './util.ts';

export function run(): Promise<void> {
  return runSuites(() => {
    describe('Untrusted workspace', () => {
      it('is really untrusted', () => {
        assert.equal(vscode.workspace.isTrusted, false);
      });

      it('still shows the stored runs', async () => {
        const api = await activate();
        const rows = await eventually(() => { const r = viewRows(api); return r.length > 0 && r; }, 'the stored runs');
        assert.equal(rows[0]!.label, 'demo');
        assert.ok(rows[0]!.children.some((c) => c.icon === 'pass'), 'a finished run, by its icon');
      });

      it('refuses to start a run, and starts no process', async () => {
        const api = await activate();
        const store = api.store.get()!;
        const before = store.runs.count();
        const runFolders = () => (existsSync(join(store.dir, 'runs')) ? readdirSync(join(store.dir, 'runs')) : []);
        const foldersBefore = runFolders();
        const result = await vscode.commands.executeCommand('runlens.startRun', 'train');
        assert.equal(result, undefined);
        assert.equal(store.runs.count(), before, 'no run was recorded');
        assert.equal(api.runs.running.length, 0);
        assert.deepEqual(runFolders(), foldersBefore, 'no new run folder, so no process was started');
      });
    });
  });
}
