import * as vscode from 'vscode';
import type { Store } from '../core/store/store.ts';
import type { ConversionProgress } from '../core/store/codecMigration.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';

/**
 * Compresses the metric chunks of a store written before compressed chunks (schema 8), a batch at a time
 * with the window free in between, under a progress notification. Points read the same all along; a
 * window closed halfway goes on from there the next time the store opens.
 */
export async function convertOldChunks(workspace: WorkspaceStore, opened: Store, log: vscode.LogOutputChannel): Promise<void> {
  let p: ConversionProgress | undefined = opened.metrics.conversionProgress();
  if (!p) return;
  const started = performance.now();
  log.info(`Compressing the metric points of ${opened.file}: ${p.total - p.done} of ${p.total} chunks to go`);
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'RunLens: compressing the run store' }, async (progress) => {
      let shown = p!.done;
      while (!p!.finished) {
        await new Promise((resolve) => setImmediate(resolve));
        if (!opened.isOpen || workspace.get() !== opened) return; // closed or reopened: the next open goes on
        p = workspace.writeSteps([], () => opened.metrics.convertBatch());
        progress.report({ increment: ((p.done - shown) / p.total) * 100, message: `${p.done.toLocaleString('en')} of ${p.total.toLocaleString('en')} chunks` });
        shown = p.done;
      }
    });
  } catch (err) {
    log.warn(`Compressing the run store stopped (${err instanceof Error ? err.message : String(err)}); it goes on the next time the store opens.`);
    return;
  }
  if (!p.finished) return;
  log.info(`Compressed ${p.total} chunks of ${opened.file} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const compact = 'Compact Store';
  if (await vscode.window.showInformationMessage('RunLens compressed its run store. Compact it now to give the freed space back to the disk?', compact) === compact) {
    await vscode.commands.executeCommand('runlens.compactStore');
  }
}
