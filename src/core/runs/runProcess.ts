import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { redactArgs } from '../provenance/redact.ts';

/** How a run's command is started. `shell` runs `command` through the shell (a string from runlens.yaml). */
export interface LaunchSpec {
  command: string;
  args: string[];
  shell: boolean;
  cwd: string;
  env: { [name: string]: string | undefined };
}

/** What identifies the process across a window reload: its pid, and its start time where the OS tells it. */
export interface ProcessInfo {
  pid: number;
  startTicks: number | null;
  /** The machine it runs on, when process.json says (the Python helper's own runs); absent: this one. */
  host?: string | null;
  /** The run's folder, set by readProcess: its `heartbeat` file tells whether a process on another host goes on. */
  folder?: string;
}

/** A process on another host counts as alive while its heartbeat file is younger than this. */
export const HEARTBEAT_MS = 60_000;

export interface ExitRecord {
  code: number | null;
  signal: string | null;
  /** The stop signal the wrapper received, if any. */
  signalled: string | null;
  error?: string;
  endedAt: number;
}

/** The files of one run: `<storeDir>/runs/<uid>/`. */
export function runFolder(storeDir: string, uid: string) {
  const dir = join(storeDir, 'runs', uid);
  return {
    dir,
    log: join(dir, 'output.log'),
    metrics: join(dir, 'metrics.jsonl'),
    process: join(dir, 'process.json'),
    exit: join(dir, 'exit.json'),
    /** Touched every 10 s by the Python helper while its run goes. */
    heartbeat: join(dir, 'heartbeat'),
    /** The interpreter's installed packages, written once by the Python helper. */
    packages: join(dir, 'packages.json'),
    /** Written before a stop's signal: whoever finds the process gone reads it as stopped, not crashed. */
    stopAsked: join(dir, 'stop-asked'),
  };
}

/**
 * Records that the user asked the run to stop, before any signal is sent: the thread, window or host
 * that then finds the process gone without an exit record marks the run stopped, not crashed.
 */
export function markStopAsked(storeDir: string, uid: string): void {
  try {
    writeFileSync(runFolder(storeDir, uid).stopAsked, String(Date.now()));
  } catch { /* the run folder is gone or read-only: the in-memory request still holds */ }
}

/**
 * Starts the command through run-wrapper.cjs, detached in its own process group, with output going
 * to the run's log file. The process does not depend on this one: it survives a window reload.
 * The wrapper gets the command in $RUNLENS_LAUNCH; launch.json keeps it with secrets redacted.
 */
export function startProcess(storeDir: string, uid: string, spec: LaunchSpec, wrapper: string, nodePath = process.execPath): ProcessInfo {
  const f = runFolder(storeDir, uid);
  mkdirSync(f.dir, { recursive: true });
  const launch = { command: spec.command, args: spec.args, cwd: spec.cwd, shell: spec.shell };
  const [command, ...args] = spec.shell ? [redactArgs(spec.command), ...redactArgs(spec.args)] : redactArgs([spec.command, ...spec.args]);
  writeFileSync(join(f.dir, 'launch.json'), JSON.stringify({ ...launch, command, args }));
  const out = openSync(f.log, 'a');
  try {
    const child = spawn(nodePath, [wrapper, f.dir], {
      cwd: spec.cwd,
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...spec.env, ELECTRON_RUN_AS_NODE: '1', RUNLENS_METRICS_FILE: f.metrics, RUNLENS_LAUNCH: JSON.stringify(launch) },
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${nodePath}`);
    const info = { pid: child.pid, startTicks: startTicks(child.pid) };
    writeFileSync(f.process, JSON.stringify(info));
    return info;
  } finally {
    closeSync(out);
  }
}

/** Linux: the process start time in clock ticks since boot (field 22 of /proc/<pid>/stat); else null. */
export function startTicks(pid: number): number | null {
  const fields = procStat(pid);
  return fields ? Number(fields[19]) : null;
}

/** The fields of /proc/<pid>/stat after the command name (state first), or undefined. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** True when the process runs on another machine than this one: its pid means nothing here. */
export function onOtherHost(info: ProcessInfo): boolean {
  return typeof info.host === 'string' && info.host !== '' && info.host !== hostname();
}

/**
 * True when the recorded process is still the one that was started (a reused pid does not count).
 * On another host: while the run folder's heartbeat (or, before the first beat, process.json) was
 * touched within `heartbeatMs`.
 */
export function isAlive(info: ProcessInfo, options: { heartbeatMs?: number; now?: number } = {}): boolean {
  if (onOtherHost(info)) return heartbeatAge(info, options.now ?? Date.now()) < (options.heartbeatMs ?? HEARTBEAT_MS);
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (info.startTicks === null) return true;
  const fields = procStat(info.pid);
  return fields !== undefined && fields[0] !== 'Z' && Number(fields[19]) === info.startTicks; // a zombie has ended
}

/** Milliseconds since the heartbeat (else process.json) changed; 0 without a folder to look in (it cannot be told). */
function heartbeatAge(info: ProcessInfo, now: number): number {
  if (!info.folder) return 0;
  for (const name of ['heartbeat', 'process.json']) {
    try {
      return now - statSync(join(info.folder, name)).mtimeMs;
    } catch {
      // not there: the next one
    }
  }
  return Infinity;
}

export function readProcess(storeDir: string, uid: string): ProcessInfo | undefined {
  const f = runFolder(storeDir, uid);
  try {
    const info = JSON.parse(readFileSync(f.process, 'utf8')) as ProcessInfo;
    if (!Number.isSafeInteger(info.pid) || info.pid <= 1) return undefined; // never signal 0 (our own group) or init
    const ticks = typeof info.startTicks === 'number' ? info.startTicks : null;
    return { pid: info.pid, startTicks: ticks, ...(typeof info.host === 'string' ? { host: info.host } : {}), folder: f.dir };
  } catch {
    return undefined;
  }
}

export function readExit(storeDir: string, uid: string): ExitRecord | undefined {
  const file = runFolder(storeDir, uid).exit;
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ExitRecord;
  } catch {
    return undefined; // being written
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why a run cannot be stopped from here: its process runs on another machine. */
export class StopRefused extends Error {
  readonly host: string;

  constructor(host: string) {
    super(`This run's process runs on ${host}, not on this machine (${hostname()}): RunLens can only stop it from there.`);
    this.name = 'StopRefused';
    this.host = host;
  }
}

/** The reason Stop is refused for this process (another host), or undefined when it can be stopped here. */
export function stopRefusal(info: ProcessInfo): StopRefused | undefined {
  return onOtherHost(info) ? new StopRefused(info.host!) : undefined;
}

/**
 * Stops a run's process group: SIGINT (lets training save and exit cleanly), then SIGTERM, then SIGKILL,
 * each after a grace period. A process that leads no group (a script the Python helper recorded by
 * itself, started from a shell without job control) gets the signals alone. Resolves with the signal
 * that ended it, or undefined if it was already gone. Throws StopRefused for a process on another host.
 */
export async function stopProcess(info: ProcessInfo, graceMs = { int: 5000, term: 3000 }): Promise<string | undefined> {
  const refused = stopRefusal(info);
  if (refused) throw refused;
  if (!isAlive(info)) return undefined;
  const steps: [NodeJS.Signals, number][] = [['SIGINT', graceMs.int], ['SIGTERM', graceMs.term], ['SIGKILL', 1000]];
  for (const [signal, wait] of steps) {
    if (!signalGroup(info.pid, signal)) return signal;
    for (let waited = 0; waited < wait; waited += 50) {
      if (!isAlive(info)) return signal;
      await sleep(50);
    }
  }
  return 'SIGKILL';
}

/** Sends `signal` to the group `pid` leads (wrapper and command), else to `pid` alone; false when it is gone. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
      return true;
    } catch {
      // no such group: the process alone
    }
  }
  return false;
}
