import * as vscode from 'vscode';

/** Requests after which the debuggee runs again (the adapter then sends no `continued` event). */
const RESUMING = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'restartFrame']);

/** A debug session: its debuggee's process id once the adapter said it, and whether it is stopped. */
interface Session {
  pid: number | undefined;
  stopped: boolean;
}

interface Message {
  type?: string;
  command?: string;
  event?: string;
  body?: { systemProcessId?: unknown };
}

/**
 * Python debug sessions stopped at a breakpoint (or a step, or an exception), seen by a debug adapter
 * tracker: a run held there is not stalled. The debuggee's process id comes with the adapter's `process` event.
 */
export class DebugPauses implements vscode.DebugAdapterTrackerFactory, vscode.Disposable {
  private readonly sessions = new Map<string, Session>();
  private readonly registrations = ['python', 'debugpy'].map((type) => vscode.debug.registerDebugAdapterTrackerFactory(type, this));

  createDebugAdapterTracker(session: vscode.DebugSession): vscode.DebugAdapterTracker {
    const s: Session = { pid: undefined, stopped: false };
    this.sessions.set(session.id, s);
    const end = () => { this.sessions.delete(session.id); };
    return {
      onWillReceiveMessage: (m: Message) => {
        if (m?.type === 'request' && RESUMING.has(m.command ?? '')) s.stopped = false;
      },
      onDidSendMessage: (m: Message) => {
        if (m?.type !== 'event') return;
        if (m.event === 'stopped') s.stopped = true;
        else if (m.event === 'continued') s.stopped = false;
        else if (m.event === 'process' && typeof m.body?.systemProcessId === 'number') s.pid = m.body.systemProcessId;
      },
      onWillStopSession: end,
      onExit: end,
    };
  }

  /**
   * Whether a stopped session holds the process `pid`; a session whose debuggee is not known holds the
   * runs started under the debugger (`underDebugger`, asked only then).
   */
  paused(pid: number | undefined, underDebugger: () => boolean): boolean {
    for (const s of this.sessions.values()) {
      if (s.stopped && (s.pid !== undefined ? s.pid === pid : underDebugger())) return true;
    }
    return false;
  }

  dispose(): void {
    for (const r of this.registrations) r.dispose();
    this.sessions.clear();
  }
}
