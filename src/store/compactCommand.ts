import * as vscode from 'vscode';
import { guardedCommands } from '../commands.ts';
import { compactStore } from '../core/store/compact.ts';
import { type FolderScopes, scopedCommands } from '../folders.ts';

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** RunLens: Compact Store: VACUUM under a progress notification, then the size before and after. */
export function registerCompactCommand(scopes: FolderScopes, log: vscode.LogOutputChannel): vscode.Disposable {
  return scopedCommands(scopes, guardedCommands(log))('runlens.compactStore', async ({ store: workspace }) => {
    const store = workspace.get();
    if (!store) throw new Error('This workspace has no RunLens store yet.');
    const { before, after } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'RunLens: compacting the run store…' },
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 50)); // let the notification show: VACUUM holds the window until done
        return workspace.writeSteps([], () => compactStore(store.file));
      },
    );
    log.info(`Compacted ${store.file}: ${mb(before)} -> ${mb(after)}`);
    void vscode.window.showInformationMessage(`RunLens store compacted: ${mb(before)} → ${mb(after)} (${mb(Math.max(0, before - after))} given back to the disk).`);
    return { before, after };
  });
}
