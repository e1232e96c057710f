// Reproduce's package check: the interpreter's installed packages now, against the recorded set.
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { type PackageChange, type Packages, type PackagesDiff, diffPackages, parsePackages, samePackages } from '../provenance/packages.ts';
import { packageChanges } from '../models/lineage.ts';

export interface PackageCheck {
  /** False when the run recorded no packages (nothing to compare). */
  recorded: boolean;
  same: boolean;
  /** From the recorded set to the current one; null when none was recorded. */
  diff: PackagesDiff | null;
}

/** What differs between the packages a run recorded and the current ones. */
export function checkPackages(recorded: Packages | undefined, current: Packages): PackageCheck {
  if (!recorded) return { recorded: false, same: true, diff: null };
  const diff = diffPackages(recorded, current);
  return { recorded: true, same: samePackages(diff), diff };
}

/** Runs the Python helper's own listing (runlens/_packages.py), so the two sets are made alike. */
const LIST_PACKAGES = 'import json, sys; sys.path.insert(0, sys.argv[1]); from runlens._packages import packages; print(json.dumps(packages()))';

/**
 * The packages installed for `interpreter` now, listed by the helper in `helperDir` (the extension's
 * media/python), run in `cwd` with `env` as the reproduction would run.
 */
export function currentPackages(interpreter: string, helperDir: string, options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Packages> {
  return new Promise((resolve, reject) => {
    execFile(interpreter, ['-c', LIST_PACKAGES, helperDir], {
      cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 20_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20, windowsHide: true, encoding: 'utf8',
    }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`could not list the packages of ${interpreter}: ${stderr.trim().split('\n').pop() || err.message}`));
      try {
        resolve(parsePackages(JSON.parse(stdout)));
      } catch (e) {
        reject(new Error(`could not read the packages ${interpreter} listed: ${(e as Error).message}`));
      }
    });
  });
}

/** What the reproduction report says about packages. */
export interface PackagesReport {
  /** differs and same: compared; not-recorded: the run recorded none; unknown: the current ones could not be listed. */
  state: 'same' | 'differs' | 'not-recorded' | 'unknown';
  /** From the recorded version to the current one, by name. */
  changes: PackageChange[];
  conda: { from: string | null; to: string | null } | null;
  /** Why the current packages are unknown. */
  error?: string;
}

/** The report's packages part, from the check (or the error listing the current packages). */
export function packagesReport(check: PackageCheck | Error): PackagesReport {
  if (check instanceof Error) return { state: 'unknown', changes: [], conda: null, error: check.message };
  if (!check.recorded || !check.diff) return { state: 'not-recorded', changes: [], conda: null };
  return { state: check.same ? 'same' : 'differs', changes: packageChanges(check.diff), conda: check.diff.conda ?? null };
}

/** "torch 2.3.0 → 2.4.1"; "—" stands for not installed. */
export function changeText(c: { name: string; from: string | null; to: string | null }): string {
  return `${c.name} ${c.from ?? '—'} → ${c.to ?? '—'}`;
}

/** One line for a warning: "3 packages differ from the recorded run: torch 2.3.0 → 2.4.1, …"; null when none differ. */
export function packagesWarning(r: PackagesReport, shown = 3): string | null {
  if (r.state !== 'differs') return null;
  const n = r.changes.length;
  const items = [...(r.conda ? [changeText({ name: 'conda environment', ...r.conda })] : []), ...r.changes.map(changeText)];
  const head = n ? `${n} package${n === 1 ? '' : 's'} differ${n === 1 ? 's' : ''} from the recorded run` : 'The conda environment differs from the recorded run';
  return `${head}: ${items.slice(0, shown).join(', ')}${items.length > shown ? ', …' : ''}`;
}

const PYTHON = /^python(\d+(\.\d+)*)?(\.exe)?$/i;

/**
 * The interpreter a reproduction runs: the command's program when it is a Python, else the one the
 * run recorded; null when there is none to ask (a shell command and no recorded interpreter).
 */
export function reproductionInterpreter(command: readonly string[] | string, recorded: string | null): string | null {
  const program = typeof command === 'string' ? undefined : command[0];
  if (program && PYTHON.test(basename(program))) return program;
  return recorded;
}
