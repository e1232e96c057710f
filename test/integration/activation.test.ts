import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, activate, eventually, measured, workspaceDir } from './util.ts';

export function registerActivationTests(): void {
  describe('Activation', () => {
    it('activates lazily and quickly, without creating a store just by viewing', async () => {
      const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
      const api = await activate();
      assert.ok(ext.isActive);
      assert.ok(api.activationMs >= 0);
      measured.activationMs = api.activationMs;
      const events: string[] = ext.packageJSON.activationEvents;
      assert.ok(!events.includes('*'), 'no eager activation');
      assert.deepEqual(api.runsTree.getChildren(), [], 'an empty workspace has no runs');
      assert.ok(!existsSync(join(workspaceDir(), '.runlens', 'runs.db')), 'viewing does not create a store');
    });

    it('contributes every RunLens command, in the RunLens category with an icon', async () => {
      const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
      const contributed: { command: string; category: string; icon: string }[] = ext.packageJSON.contributes.commands;
      const registered = new Set(await vscode.commands.getCommands(true));
      for (const c of contributed) {
        assert.ok(registered.has(c.command), `${c.command} is registered`);
        assert.equal(c.category, 'RunLens');
        assert.match(c.icon, /^\$\([a-z-]+\)$/);
      }
    });

    it('declares limited support for untrusted workspaces and runs next to the code', () => {
      const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON;
      assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
      assert.deepEqual(pkg.extensionKind, ['workspace']);
      const storeDir = vscode.workspace.getConfiguration('runlens').inspect<string>('storeDir');
      assert.equal(storeDir?.defaultValue, '.runlens');
    });

    it('logs its activation to the RunLens log channel', async () => {
      const api = await activate();
      await vscode.commands.executeCommand('runlens.showLog');
      const file = join(api.logUri.fsPath, 'RunLens.log');
      const text = await eventually(() => existsSync(file) && readFileSync(file, 'utf8').includes('activated in') && readFileSync(file, 'utf8'), 'the log file');
      assert.match(text, /RunLens \d+\.\d+\.\d+ activated in [\d.]+ ms/);
    });
  });
}
