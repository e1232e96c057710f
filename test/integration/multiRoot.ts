// The suite for a multi-root workspace (extensionTestsPath: dist/test/multiroot.js): two folders, each
// with its own store, Runs view section, lenses and runs. `first` has seeded runs; `second` starts empty.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { runSuites } from './mochaRunner.ts';
import { activate, eventually } from './util.ts';
import type { RunLensApi } from '../../src/extension.ts';
import type { RunsNode } from '../../src/views/runsTree.ts';

const labelOf = (api: RunLensApi, node: RunsNode) => {
  const item = api.runsTree.getTreeItem(node);
  return typeof item.label === 'string' ? item.label : item.label?.label ?? '';
};

/** Opens a file of a folder, so commands given no run act on that folder (as they do for a user). */
async function focus(folder: vscode.WorkspaceFolder): Promise<void> {
  await vscode.window.showTextDocument(vscode.Uri.file(join(folder.uri.fsPath, 'train.py')));
}

export function run(): Promise<void> {
  return runSuites(() => {
    describe('Multi-root workspace', function () {
      this.timeout(180_000);

      it('gives every folder its own scope and store', async () => {
        const api = await activate();
        const folders = vscode.workspace.workspaceFolders ?? [];
        assert.equal(folders.length, 2);
        assert.deepEqual(api.scopes.all.map((s) => s.folder.name), folders.map((f) => f.name));
        const [a, b] = api.scopes.all;
        assert.equal(a!.store.dir, join(folders[0]!.uri.fsPath, '.runlens'));
        assert.equal(b!.store.dir, join(folders[1]!.uri.fsPath, '.runlens'));
        assert.ok(a!.store.get()!.runs.count() > 0, 'the first folder has its seeded runs');
        assert.equal(b!.store.get(), undefined, 'the second folder has no store until it records a run');
      });

      it('shows one Runs view section per folder', async () => {
        const api = await activate();
        const top = api.runsTree.getChildren();
        assert.deepEqual(top.map((n) => n.kind), ['folder', 'folder']);
        assert.deepEqual(top.map((n) => labelOf(api, n)), api.scopes.all.map((s) => s.folder.name));
        const ids = top.map((n) => api.runsTree.getTreeItem(n).id);
        assert.equal(new Set(ids).size, 2, 'the sections have distinct ids');
        const first = api.runsTree.getChildren(top[0]);
        assert.deepEqual(first.map((n) => labelOf(api, n)), ['demo']);
        assert.deepEqual(api.runsTree.getChildren(top[1]), [], 'the second folder shows nothing yet');
        assert.equal(api.runsTree.getTreeItem(top[1]!).description, 'no runs yet');
      });

      it('records a run started in the second folder in its own store, with its own commit', async () => {
        const api = await activate();
        const [a, b] = api.scopes.all;
        const before = a!.store.get()!.runs.count();
        await focus(b!.folder);
        const id = await vscode.commands.executeCommand<number>('runlens.startRun', 'train');
        assert.ok(typeof id === 'number', 'a run started');
        const run = await eventually(() => {
          const r = b!.store.get()?.runs.get(id);
          return r && r.status !== 'running' && r.status !== 'queued' && r;
        }, 'the run in the second folder to end', 120_000);
        assert.equal(run.status, 'finished');
        assert.equal(run.cwd, b!.folder.uri.fsPath);
        assert.equal(a!.store.get()!.runs.count(), before, 'the first folder\'s store is untouched');
        assert.ok(b!.store.get()!.metrics.summaries(id).length > 0, 'its points are in the second store');
        const section = await eventually(() => {
          const top = api.runsTree.getChildren();
          const experiments = api.runsTree.getChildren(top[1]);
          return experiments.length > 0 && experiments;
        }, 'the second section to show the run');
        const runs = api.runsTree.getChildren(section[0]);
        assert.deepEqual(runs.map((n) => n.kind), ['run']);
        assert.equal(runs[0]!.scope, b, 'the node knows its folder');
        // run ids restart in each store: the first folder also has a run with this id, told apart by the folder
        const same = a!.store.get()!.runs.get(id);
        if (same) assert.notEqual(api.runsTree.getTreeItem(runs[0]!).id, `run:${same.uid}`);
      });

      it('acts on the folder of the node or run a command is given', async () => {
        const api = await activate();
        const [a, b] = api.scopes.all;
        await focus(a!.folder); // the active editor is in the other folder: the node decides
        const section = api.runsTree.getChildren(api.runsTree.getChildren()[1]);
        const node = api.runsTree.getChildren(section[0])[0]!;
        assert.equal(node.kind, 'run');
        await vscode.commands.executeCommand('runlens.renameRun', node, 'second-folder-run');
        const uid = node.kind === 'run' ? node.run.uid : '';
        assert.equal(b!.store.get()!.runs.getByUid(uid)?.name, 'second-folder-run');
        assert.equal(a!.store.get()!.runs.list({ limit: 1000 }).filter((r) => r.name === 'second-folder-run').length, 0);
        // a run uid finds its folder too (the status bar and hovers name runs by uid)
        await vscode.commands.executeCommand('runlens.addNote', uid, 'noted by uid');
        assert.equal(b!.store.get()!.runs.getByUid(uid)?.notes, 'noted by uid');
      });

      it('shows lenses from the folder of the document', async () => {
        const api = await activate();
        const [a, b] = api.scopes.all;
        api.hparamLenses.refresh();
        const lensTitles = async (folder: vscode.WorkspaceFolder) => {
          const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(folder.uri.fsPath, 'params.yaml')));
          const lenses = api.hparamLenses.provideCodeLenses(doc);
          return lenses.map((l) => l.command?.title ?? '').filter((t) => t && !t.startsWith('$('));
        };
        const inA = await lensTitles(a!.folder);
        const inB = await lensTitles(b!.folder);
        assert.ok(inA.length > 0 && inB.length > 0, `lenses in both folders (${inA.length}, ${inB.length})`);
        assert.notDeepEqual(inA, inB, 'each folder\'s lenses come from its own runs');
        assert.ok(inB.some((t) => /\b1 run\b/.test(t)), `the second folder has one run: ${inB.join(' | ')}`);
      });

      it('lets a removed folder go, and keeps the other', async () => {
        const api = await activate();
        const [a, b] = api.scopes.all;
        const gone = new Promise<void>((resolve) => { const d = api.scopes.onDidChange(() => { d.dispose(); resolve(); }); });
        assert.ok(vscode.workspace.updateWorkspaceFolders(1, 1), 'the folder can be removed');
        await gone;
        assert.deepEqual(api.scopes.all, [a]);
        assert.equal(b!.store.get(), undefined, 'the removed folder\'s store is closed');
        const top = api.runsTree.getChildren();
        assert.deepEqual(top.map((n) => n.kind), ['experiment'], 'one folder: the view shows experiments at the top again');
      });
    });
  });
}
