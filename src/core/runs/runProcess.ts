import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
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
}

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
  };
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

/** True when the recorded process is still the one that was started (a reused pid does not count). */
export function isAlive(info: ProcessInfo): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (info.startTicks === null) return true;
  const fields = procStat(info.pid);
  return fields !== undefined && fields[0] !== 'Z' && Number(fields[19]) === info.startTicks; // a zombie has ended
}

export function readProcess(storeDir: string, uid: string): ProcessInfo | undefined {
  try {
    return JSON.parse(readFileSync(runFolder(storeDir, uid).process, 'utf8')) as ProcessInfo;
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

/**
 * Stops a run's process group: SIGINT (lets training save and exit cleanly), then SIGTERM, then SIGKILL,
 * each after a grace period. Resolves with the signal that ended it, or undefined if it was already gone.
 */
export async function stopProcess(info: ProcessInfo, graceMs = { int: 5000, term: 3000 }): Promise<string | undefined> {
  if (!isAlive(info)) return undefined;
  const steps: [NodeJS.Signals, number][] = [['SIGINT', graceMs.int], ['SIGTERM', graceMs.term], ['SIGKILL', 1000]];
  for (const [signal, wait] of steps) {
    try {
      process.kill(-info.pid, signal); // the whole group: wrapper and command
    } catch {
      return signal;
    }
    for (let waited = 0; waited < wait; waited += 50) {
      if (!isAlive(info)) return signal;
      await sleep(50);
    }
  }
  return 'SIGKILL';
}
