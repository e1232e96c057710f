import * as vscode from 'vscode';
import { closeSync, openSync, readSync } from 'node:fs';

/** A terminal that shows a run's output log live (the run itself is not attached to it). */
export function openRunTerminal(name: string, logFile: string, isRunning: () => boolean): vscode.Terminal {
  const write = new vscode.EventEmitter<string>();
  let offset = 0;
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    let fd: number;
    try { fd = openSync(logFile, 'r'); } catch { return; }
    try {
      const buf = Buffer.allocUnsafe(1 << 16);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        write.fire(buf.toString('utf8', 0, n).replace(/\r?\n/g, '\r\n'));
      }
    } finally {
      closeSync(fd);
    }
    if (!isRunning() && timer) {
      clearInterval(timer);
      timer = undefined;
      write.fire('\r\n\x1b[2m[RunLens] the run has ended\x1b[0m\r\n');
    }
  };
  const pty: vscode.Pseudoterminal = {
    onDidWrite: write.event,
    open: () => { pump(); timer = setInterval(pump, 200); },
    close: () => { clearInterval(timer); write.dispose(); },
  };
  const terminal = vscode.window.createTerminal({ name: `RunLens: ${name}`, pty, iconPath: new vscode.ThemeIcon('pulse') });
  terminal.show(true);
  return terminal;
}
