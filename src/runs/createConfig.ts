import * as vscode from 'vscode';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guardedCommands } from '../commands.ts';
import { starterConfig } from './starterConfig.ts';

/**
 * RunLens: Open or Create runlens.yaml: opens the workspace's runlens.yaml, first writing a commented
 * starter when there is none. An existing file is never overwritten (the write fails if it exists).
 * Writing it is allowed in an untrusted workspace: it runs nothing.
 */
export function registerCreateConfig(folder: () => Promise<vscode.WorkspaceFolder | undefined>, log: vscode.LogOutputChannel): vscode.Disposable {
  return guardedCommands(log)('runlens.createConfig', async () => {
    if (!vscode.workspace.workspaceFolders?.length) {
      const open = await vscode.window.showInformationMessage('RunLens: open a folder first; runlens.yaml lives at its root.', 'Open Folder');
      if (open) await vscode.commands.executeCommand('workbench.action.files.openFolder');
      return undefined;
    }
    const root = await folder();
    if (!root) return undefined;
    const file = join(root.uri.fsPath, 'runlens.yaml');
    try {
      writeFileSync(file, starterConfig(root.name), { flag: 'wx' });
      log.info(`created ${file}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file));
    return file;
  });
}
