import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Store } from '../../src/core/store/store.ts';
import type { StoreChange } from '../../src/core/store/storeWrites.ts';
import type { Run } from '../../src/core/types.ts';
import { activate, eventually, viewRows, workspaceDir } from './util.ts';

export function registerCommandTests(): void {
  describe('Run commands', () => {
    let store: Store;
    before(() => { store = Store.open(join(workspaceDir(), '.runlens')); });
    after(() => store.close());

    const find = (api: Awaited<ReturnType<typeof activate>>, label: string) =>
      viewRows(api).flatMap((e) => e.children).find((r) => r.label === label);

    it('renames a run, in the store and in the view', async () => {
      const api = await activate();
      const run = store.runs.create({ name: 'to-rename', experiment: 'commands', status: 'finished' });
      await eventually(() => find(api, 'to-rename'), 'the new run');
      await vscode.commands.executeCommand('runlens.renameRun', run.id, 'renamed run');
      assert.equal(store.runs.get(run.id)?.name, 'renamed run');
      assert.ok(find(api, 'renamed run'), 'the view shows the new name at once');
      assert.equal(find(api, 'to-rename'), undefined);
    });

    it('stars, notes and copies the id of a run chosen from the view', async () => {
      const api = await activate();
      const run = store.runs.create({ name: 'to-star', experiment: 'commands', status: 'finished' });
      const row = await eventually(() => find(api, 'to-star'), 'the run row');
      await vscode.commands.executeCommand('runlens.toggleStar', row.node);
      assert.equal(store.runs.get(run.id)?.starred, true);
      assert.match(find(api, 'to-star')!.description, /^★ /);
      assert.match(find(api, 'to-star')!.contextValue!, /starred/);
      await vscode.commands.executeCommand('runlens.addNote', run.uid, '  warmup helped  ');
      assert.equal(store.runs.get(run.id)?.notes, 'warmup helped');
      await vscode.commands.executeCommand('runlens.copyRunId', run.id);
      assert.equal(await vscode.env.clipboard.readText(), run.uid);
    });

    it('deletes a run with its points, and refuses to rename a run that no longer exists', async () => {
      const api = await activate();
      const run = store.runs.create({ name: 'to-delete', experiment: 'commands', status: 'finished' });
      const steps = Float64Array.from([1, 2, 3]);
      store.metrics.append(run.id, 'loss', { steps, times: steps, values: steps });
      await eventually(() => find(api, 'to-delete'), 'the run row');
      await vscode.commands.executeCommand('runlens.deleteRun', run.id, { confirmed: true });
      assert.equal(store.runs.get(run.id), undefined);
      assert.equal(store.metrics.points(run.id, 'loss').values.length, 0);
      assert.equal(find(api, 'to-delete'), undefined);
      // A second window deleted it: the command reports it and changes nothing.
      await vscode.commands.executeCommand('runlens.renameRun', run.id, 'ghost');
      assert.ok(!store.runs.list({ limit: 10_000 }).some((r) => r.name === 'ghost'));
      assert.equal(find(api, 'ghost'), undefined);
    });

    it('each command that changes a run announces it with exactly one change event', async () => {
      const api = await activate();
      const [kept, gone] = [0, 1].map((i) => store.runs.create({ name: `announced-${i}`, experiment: 'commands', status: 'finished' })) as [Run, Run];
      await eventually(() => find(api, 'announced-1'), 'the runs');
      const own: StoreChange[] = []; // this window's writes; other connections' (this test's) are found by polling
      const sub = api.store.onDidChange((c) => { if (!c.external) own.push(c); });
      try {
        for (const [command, ...args] of [
          ['runlens.renameRun', kept.id, 'announced-renamed'], ['runlens.tagRun', kept.id, 'owner=ana'], ['runlens.toggleStar', kept.id],
          ['runlens.addNote', kept.id, 'noted'], ['runlens.deleteRun', gone.id, { confirmed: true }],
        ] as [string, ...unknown[]][]) {
          own.length = 0;
          await vscode.commands.executeCommand(command, ...args);
          assert.equal(own.length, 1, `${command} fired ${own.length} change events`);
          assert.ok(own[0]!.kinds.has('runs'), command);
        }
      } finally {
        sub.dispose();
      }
      assert.equal(store.runs.get(gone.id), undefined);
      assert.equal(store.runs.tags(kept.id).owner, 'ana');
    });

    it('shows a clear message in the view when the store setting points at something unusable', async () => {
      const api = await activate();
      const cfg = vscode.workspace.getConfiguration('runlens');
      // A file where a folder should be: the store cannot open there.
      await cfg.update('storeDir', 'params.yaml', vscode.ConfigurationTarget.Workspace);
      try {
        await eventually(() => { api.runsTree.getChildren(); return api.store.error; }, 'a store error');
        assert.match(api.store.error!, /params\.yaml/);
        assert.deepEqual(api.runsTree.getChildren(), []);
      } finally {
        await cfg.update('storeDir', undefined, vscode.ConfigurationTarget.Workspace);
      }
      await eventually(() => viewRows(api).length > 0, 'the runs to come back');
      assert.equal(api.store.error, undefined);
    });
  });
}
