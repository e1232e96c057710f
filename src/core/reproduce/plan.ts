// What to launch for a reproduction, and the datasets it reads, inside the worktree.
import { existsSync } from 'node:fs';
import { lstat, mkdir, stat, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { changedFiles, hashDataset } from '../provenance/datasetHash.ts';
import type { HashOptions } from '../provenance/datasetHash.ts';
import type { StoredDataset } from '../store/provenanceRepository.ts';
import { isInside, mapIntoWorktree, repoTop } from './worktree.ts';

export interface ReproducePlan {
  cwd: string;
  /** Args that were absolute paths inside the repo remapped into the worktree. */
  command: string[] | string;
  /** Datasets linked into the worktree: `path` in the worktree → `from` in the workspace. */
  linkedDatasets: { path: string; from: string }[];
}

export interface DatasetCheck {
  path: string;
  recordedDigest: string;
  /** null: missing. */
  currentDigest: string | null;
  same: boolean;
  added: string[];
  removed: string[];
  changed: string[];
}

/**
 * The run's command and folder, moved into the worktree. Argv entries (and `--flag=value`
 * values) that are absolute paths inside the repo are remapped; the program (argv[0]) only when
 * it exists in the worktree, so an interpreter in an ignored `.venv` keeps working. A shell
 * string is kept as it is. `linkedDatasets` is left empty for prepareDatasets.
 */
export function planReproduction(
  run: { command: string[] | string | null; cwd: string | null }, repoTop: string, worktree: string,
): ReproducePlan {
  const { command } = run;
  if (command === null || command.length === 0) throw new Error('the run has no recorded command');
  if (!run.cwd) throw new Error('the run has no recorded working folder');
  if (!isInside(run.cwd, repoTop)) throw new Error(`the run's folder ${run.cwd} is outside the repository ${repoTop}`);
  const cwd = mapIntoWorktree(run.cwd, repoTop, worktree);
  if (typeof command === 'string') return { cwd, command, linkedDatasets: [] };
  const map = (p: string) => mapIntoWorktree(p, repoTop, worktree);
  const argv = command.map((arg, i) => {
    if (i === 0) {
      const mapped = map(arg);
      return existsSync(mapped) ? mapped : arg;
    }
    const flag = /^([\w.-]+)=(.+)$/.exec(arg);
    if (flag && isAbsolute(flag[2]!)) return `${flag[1]}=${map(flag[2]!)}`;
    return map(arg);
  });
  return { cwd, command: argv, linkedDatasets: [] };
}

/**
 * Symlinks each dataset (a path relative to the run's folder, or absolute) that the worktree
 * lacks, often data kept out of git, to the workspace's copy. Datasets the worktree has (the
 * committed and patched version) are left alone, as are paths that would land outside it.
 */
export async function prepareDatasets(
  datasets: { path: string }[], originalCwd: string, worktreeCwd: string,
): Promise<{ path: string; from: string }[]> {
  if (datasets.length === 0) return [];
  const [originalTop, worktreeTop] = await Promise.all([repoTop(originalCwd), repoTop(worktreeCwd)]);
  const linked: { path: string; from: string }[] = [];
  for (const d of datasets) {
    const from = resolve(originalCwd, d.path);
    const path = isAbsolute(d.path) ? mapIntoWorktree(from, originalTop, worktreeTop) : resolve(worktreeCwd, d.path);
    if (path === from || !isInside(path, worktreeTop) || path === worktreeTop) continue;
    if (await exists(path, lstat)) continue;
    const source = await exists(from, stat);
    if (!source) continue;
    await mkdir(dirname(path), { recursive: true });
    await symlink(from, path, source.isDirectory() ? 'junction' : 'file');
    linked.push({ path, from });
  }
  return linked;
}

/** Rehashes the recorded datasets (paths relative to `cwd`) and lists the files that differ. */
export async function checkDatasets(recorded: StoredDataset[], cwd: string, options: HashOptions = {}): Promise<DatasetCheck[]> {
  const out: DatasetCheck[] = [];
  for (const d of recorded) {
    const root = resolve(cwd, d.path);
    const base = { path: d.path, recordedDigest: d.digest };
    if (!(await exists(root, stat))) {
      out.push({ ...base, currentDigest: null, same: false, added: [], removed: d.files.map((f) => f.path), changed: [] });
      continue;
    }
    const now = await hashDataset(root, options);
    const diff = changedFiles({ ...d, root, cachedFiles: 0 }, now);
    out.push({ ...base, currentDigest: now.digest, same: now.digest === d.digest, ...diff });
  }
  return out;
}

async function exists<T>(path: string, how: (p: string) => Promise<T>): Promise<T | undefined> {
  try {
    return await how(path);
  } catch {
    return undefined;
  }
}
