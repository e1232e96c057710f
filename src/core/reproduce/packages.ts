// Reproduce's package check: the interpreter's installed packages now, against the recorded set.
import { execFile } from 'node:child_process';
import { type Packages, type PackagesDiff, diffPackages, parsePackages, samePackages } from '../provenance/packages.ts';

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
