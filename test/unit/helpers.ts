import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { Columns } from '../../src/core/store/chunks.ts';
import type { RunMonitor } from '../../src/core/runs/runMonitor.ts';

/** A fresh temp folder, removed after the test file finishes. */
export function tempDir(prefix = 'runlens-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Columns for points at steps from..from+n-1, value f(step), one second apart. */
export function series(from: number, n: number, f: (step: number) => number, t0 = 1_700_000_000_000): Columns {
  const steps = new Float64Array(n), times = new Float64Array(n), values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    steps[i] = from + i;
    times[i] = t0 + (from + i) * 1000;
    values[i] = f(from + i);
  }
  return { steps, times, values };
}

/** Every file under dir except .git: path → mode and bytes (symlinks: their target). What "untouched" means. */
export function treeSnapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (p === '.git') continue;
      if (e.isDirectory()) walk(p);
      else if (e.isSymbolicLink()) out.set(p, `link ${readlinkSync(join(dir, p))}`);
      else out.set(p, `${(statSync(join(dir, p)).mode & 0o100) ? 'x' : '-'} ${readFileSync(join(dir, p)).toString('base64')}`);
    }
  };
  walk('');
  return out;
}

/** Ticks a run monitor, as the extension's timer does, until the run has ended. */
export async function followUntilEnded(monitor: RunMonitor, runId: number, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (monitor.runningIds.includes(runId)) {
    if (Date.now() > end) throw new Error('the run did not end in time');
    monitor.tick();
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** git in `cwd`, with a fixed identity (tests never read the user's config). */
export const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8', stdio: 'pipe' });

/** A git repository in `dir` (created if missing) whose first commit holds `files`. */
export function gitRepo(dir: string, files: Record<string, string | Buffer>, message = 'init'): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  git(dir, 'add', '.');
  git(dir, 'commit', '-qm', message);
  return dir;
}
