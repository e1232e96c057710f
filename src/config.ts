import * as vscode from 'vscode';
import { isAbsolute, join } from 'node:path';

/** RunLens settings, read fresh each time (they can change while the window is open). */
export const config = {
  /** The absolute store folder for a workspace folder. */
  storeDir(folder: vscode.WorkspaceFolder): string {
    const raw = vscode.workspace.getConfiguration('runlens', folder.uri).get<string>('storeDir', '.runlens').trim() || '.runlens';
    return isAbsolute(raw) ? raw : join(folder.uri.fsPath, raw);
  },
  pageSize(): number {
    return Math.max(20, Math.floor(vscode.workspace.getConfiguration('runlens').get<number>('runsView.pageSize', 200)));
  },
  watchInterval(): number {
    return Math.max(250, vscode.workspace.getConfiguration('runlens').get<number>('runsView.watchInterval', 1000));
  },
};
