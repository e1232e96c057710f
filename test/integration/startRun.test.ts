import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activate, eventually, git, runEnded, workspaceDir } from './util.ts';

export function registerStartRunTests(): void {
  describe('Start Run', () => {
    it('launches the demo training from runlens.yaml, streams its metrics and finishes', async () => {
      const api = await activate();
      const train = join(workspaceDir(), 'train.py');
      const original = readFileSync(train, 'utf8');
      writeFileSync(train, `${original}\n# tuned by hand, not committed\n`); // a deliberate uncommitted edit
      let runId: number;
      try {
        runId = await vscode.commands.executeCommand<number>('runlens.startRun', 'train');
      } finally {
        writeFileSync(train, original);
      }
      assert.equal(typeof runId, 'number');
      const store = api.store.get()!;
      assert.equal(store.runs.get(runId)!.status, 'running');
      const run = await runEnded(store, runId);
      assert.equal(run.status, 'finished', `exit ${run.exitCode}`);
      assert.equal(run.exitCode, 0);
      assert.equal(run.experiment, 'demo');
      const acc = store.metrics.points(runId, 'val_acc');
      assert.equal(acc.values.length, 30);
      assert.deepEqual(Array.from(acc.steps), Array.from({ length: 30 }, (_, i) => i + 1), 'every epoch, in order, once');
      assert.ok(acc.values[29]! > acc.values[0]!, 'the model learned something');
      assert.equal(store.runs.params(runId)['train.lr'], 0.3, 'params.yaml is recorded');
      const log = readFileSync(api.runs.logFile(run)!, 'utf8');
      assert.match(log, /epoch=30 step=30/);
      assert.equal(git(workspaceDir(), 'status', '--porcelain', '--', '.runlens'), '', 'run files stay out of git');
      assert.deepEqual(run.git, { commit: git(workspaceDir(), 'rev-parse', 'HEAD').trim(), branch: 'main', dirty: true });
      const provenance = store.provenance.get(runId)!;
      const patch = store.provenance.blob(provenance.patchSha256!)!.toString('utf8');
      assert.match(patch, /^\+# tuned by hand, not committed$/m, 'the stored patch holds the uncommitted edit');
      assert.match(provenance.interpreter!, /python3/);
      assert.match(provenance.interpreterVersion!, /^Python 3\./);
      assert.match(provenance.commandLine!, /train\.py/);
      const [data] = store.provenance.datasets(runId);
      assert.equal(data!.path, 'data');
      assert.deepEqual(data!.files.map((f) => f.path), ['make_data.py', 'train.csv', 'val.csv']);
      const csv = readFileSync(join(workspaceDir(), 'data', 'train.csv'));
      const { createHash } = await import('node:crypto');
      assert.equal(data!.files[1]!.sha256, createHash('sha256').update(csv).digest('hex'), 'per-file hashes are real content hashes');
    });

    it('shows a run\'s stored patch as a read-only diff document', async () => {
      const api = await activate();
      const store = api.store.get()!;
      const run = store.runs.list({ limit: 50 }).find((r) => store.provenance.get(r.id)?.patchSha256)!;
      const patch = store.provenance.blob(store.provenance.get(run.id)!.patchSha256!)!.toString('utf8');
      await vscode.commands.executeCommand('runlens.showPatch', run.id);
      const doc = await eventually(() => vscode.window.activeTextEditor?.document.uri.scheme === 'runlens-patch' && vscode.window.activeTextEditor.document, 'the patch document');
      assert.equal(doc.isDirty, false);
      assert.equal(doc.isUntitled, false);
      assert.equal(doc.languageId, 'diff');
      assert.equal(doc.getText(), patch);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });

    it('offers the last run again after a run was started', async () => {
      await activate();
      const original = vscode.window.showQuickPick;
      let seen: readonly vscode.QuickPickItem[] | undefined;
      (vscode.window as { showQuickPick: unknown }).showQuickPick = async (items: readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>) => {
        seen = await items;
        return undefined;
      };
      try {
        const started = vscode.commands.executeCommand('runlens.startRun');
        const offered = await eventually(() => seen, 'the Start Run picker', 5_000).catch(async (err: unknown) => {
          await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
          throw err;
        });
        await started;
        assert.ok(offered.some((i) => i.description === 'the last run again' && i.label.endsWith(' train')),
          `items: ${offered.map((i) => `${i.label} (${i.description})`).join(', ')}`);
      } finally {
        (vscode.window as { showQuickPick: unknown }).showQuickPick = original;
      }
    });

    it('passes overrides on the command line and records them, leaving params.yaml untouched', async () => {
      const api = await activate();
      const before = readFileSync(join(workspaceDir(), 'params.yaml'), 'utf8');
      const runId = await vscode.commands.executeCommand<number>('runlens.startRunWithOverrides', 'train', 'train.lr=0.05 train.epochs=4');
      const store = api.store.get()!;
      const run = await runEnded(store, runId);
      assert.equal(run.status, 'finished');
      assert.deepEqual(run.command, ['python3', 'train.py', '--lr', '0.05', '--epochs', '4']);
      assert.equal(store.runs.params(runId)['train.lr'], 0.05);
      assert.equal(store.metrics.points(runId, 'val_acc').values.length, 4, 'the program saw --epochs 4');
      assert.equal(readFileSync(join(workspaceDir(), 'params.yaml'), 'utf8'), before);
    });

    it('with override_style: file, passes a per-run copy of params.yaml and leaves the original alone', async () => {
      const api = await activate();
      const before = readFileSync(join(workspaceDir(), 'params.yaml'), 'utf8');
      const runId = await vscode.commands.executeCommand<number>('runlens.startRunWithOverrides', 'train-copy', 'train.lr=0.05 train.epochs=3');
      const store = api.store.get()!;
      const run = await runEnded(store, runId);
      assert.equal(run.status, 'finished');
      const command = run.command as string[];
      assert.equal(command[2], '--params');
      assert.match(command[3]!, /params-overrides\/.+params\.yaml$/);
      assert.match(readFileSync(command[3]!, 'utf8'), /lr: 0\.05/);
      assert.equal(store.metrics.points(runId, 'val_acc').values.length, 3, 'the program read the copy');
      assert.equal(store.runs.params(runId)['train.lr'], 0.05);
      assert.equal(readFileSync(join(workspaceDir(), 'params.yaml'), 'utf8'), before);
    });

    it('reruns a finished run with the same command and params, and tags it', async () => {
      const api = await activate();
      const store = api.store.get()!;
      const first = store.runs.list({ status: ['finished'], limit: 1 })[0]!;
      const againId = await vscode.commands.executeCommand<number>('runlens.rerun', first.id);
      const again = await runEnded(store, againId);
      assert.equal(again.status, 'finished');
      assert.deepEqual(again.command, first.command);
      assert.deepEqual(store.runs.params(againId), store.runs.params(first.id));
      assert.equal(store.runs.tags(againId)['runlens.rerun_of'], first.uid);
      await vscode.commands.executeCommand('runlens.tagRun', againId, 'dataset=v2 owner=ana');
      assert.equal(store.runs.tags(againId).owner, 'ana');
    });

    it('stops a running run and marks it stopped', async () => {
      const api = await activate();
      const runId = await vscode.commands.executeCommand<number>('runlens.startRun', 'train');
      const store = api.store.get()!;
      await vscode.commands.executeCommand('runlens.stopRun', runId);
      const run = await runEnded(store, runId, 20_000);
      assert.equal(run.status, 'stopped');
      assert.ok(existsSync(join(store.dir, 'runs', run.uid, 'output.log')));
    });

    it('shows mistakes in a runlens.yaml as editor diagnostics at their line', async () => {
      await activate();
      const dir = join(workspaceDir(), 'broken-config');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'runlens.yaml');
      writeFileSync(file, 'runs:\n  bad:\n    command: 42\n');
      try {
        const doc = await vscode.workspace.openTextDocument(file);
        await vscode.window.showTextDocument(doc);
        const diags = await eventually(() => { const d = vscode.languages.getDiagnostics(doc.uri); return d.length > 0 && d; }, 'diagnostics');
        assert.equal(diags.length, 1);
        assert.equal(diags[0]!.source, 'RunLens');
        assert.equal(diags[0]!.range.start.line, 2);
        assert.match(diags[0]!.message, /`command` must be a list/);
      } finally {
        await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
