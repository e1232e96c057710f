// A throwaway git worktree at a run's commit, with the run's uncommitted changes applied.
// Only `git worktree add/remove/prune` and `git apply` inside the new worktree are run: the
// main working tree, its index and HEAD are never touched.
import { realpathSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { GitError, type RunGitOptions, runGit } from '../provenance/runGit.ts';

export interface Worktree {
  dir: string;
  /** Removes the worktree and its temp folder; safe to call more than once. */
  remove(): Promise<void>;
}

export interface WorktreeOptions {
  repoTop: string;
  commit: string;
  /** An `applyablePatch` of the run's uncommitted changes, relative to the repo top. */
  patch?: string | Buffer | null;
  /** Default: the OS temp folder. */
  parent?: string;
  /** Folder name of the worktree inside its temp folder. Default 'tree'. */
  name?: string;
}

/**
 * The top of the git repository containing `cwd`, spelled like `cwd` when that reaches it
 * through a symlink (so the run's recorded paths still map), else as git prints it.
 */
export async function repoTop(cwd: string): Promise<string> {
  let out: string;
  try {
    out = await git(cwd, ['rev-parse', '--show-toplevel', '--show-cdup']);
  } catch (e) {
    if (e instanceof GitError && e.kind === 'not-a-repo') throw new GitError(`not a git repository: ${cwd}`, { kind: e.kind, cause: e });
    throw e;
  }
  const [top = '', cdup = ''] = out.split('\n');
  if (!top) throw new GitError(`not a git repository: ${cwd}`, { kind: 'not-a-repo' });
  const spelled = resolve(cwd, cdup);
  try {
    return realpathSync(spelled) === realpathSync(top) ? spelled : top;
  } catch {
    return top;
  }
}

/** `git worktree add --detach` at `commit` in a new temp folder, then the patch applied there. */
export async function createWorktree(options: WorktreeOptions): Promise<Worktree> {
  const { repoTop: top, commit } = options;
  const short = commit.slice(0, 7);
  if (!/^[0-9a-f]{4,64}$/i.test(commit)) throw new Error(`${commit} is not a commit id`);
  // no hooks: a post-checkout hook could write anywhere, the main tree included
  const inTop = (args: string[]) => git(top, args, { config: ['core.hooksPath=/dev/null'] });
  let known: string;
  try {
    known = (await inTop(['rev-parse', '--verify', '-q', `${commit}^{commit}`])).trim();
  } catch (e) {
    if (!(e instanceof GitError) || e.kind !== 'no-commit') throw e;
    throw new GitError(`commit ${short} is not in this repository (was it rebased away or not fetched?)`, { kind: e.kind, cause: e });
  }

  const temp = await mkdtemp(join(options.parent ?? tmpdir(), 'runlens-repro-'));
  const dir = join(temp, options.name ?? 'tree');
  let removing: Promise<void> | undefined;
  const remove = () => (removing ??= removeWorktree(inTop, dir, temp));
  try {
    await inTop(['worktree', 'add', '--detach', dir, known]);
  } catch (e) {
    await remove();
    throw new GitError(`cannot create a worktree at ${short}: ${gitMessage(e)}`, { kind: e instanceof GitError ? e.kind : 'other', cause: e });
  }
  const patch = options.patch;
  if (patch && patch.length > 0) {
    const file = join(temp, 'run.patch');
    try {
      await writeFile(file, patch);
      await git(dir, ['apply', '--binary', '--whitespace=nowarn', file]);
    } catch (e) {
      await remove();
      if (!(e instanceof GitError) || (e.kind !== 'patch-failed' && e.kind !== 'conflict')) throw e;
      throw new GitError(`the stored patch does not apply to ${short}: ${gitMessage(e)}`, { kind: e.kind, cause: e });
    }
    await rm(file, { force: true });
  }
  return { dir, remove };
}

async function removeWorktree(inTop: (args: string[]) => Promise<string>, dir: string, temp: string): Promise<void> {
  try {
    await inTop(['worktree', 'remove', '--force', dir]);
  } catch {
    // not created, or already gone: the folder is deleted and pruned below
  }
  await rm(temp, { recursive: true, force: true }); // does not follow symlinks (linked datasets)
  try {
    await inTop(['worktree', 'prune']);
  } catch {
    // best effort
  }
}

/** An absolute path inside `repoTop` → the same relative path inside `worktree`; anything else unchanged. */
export function mapIntoWorktree(path: string, repoTop: string, worktree: string): string {
  if (!isInside(path, repoTop)) return path;
  const mapped = join(worktree, relative(repoTop, path));
  return /[\\/]$/.test(path) && !mapped.endsWith(sep) ? mapped + sep : mapped;
}

/** Whether `path` is absolute and is `dir` or below it. */
export function isInside(path: string, dir: string): boolean {
  if (!isAbsolute(path)) return false;
  const rel = relative(dir, path);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** Git in `dir`, allowed 10 minutes without output (a checkout of a big tree). */
function git(dir: string, args: string[], options: RunGitOptions = {}): Promise<string> {
  return runGit(dir, args, { timeout: 600_000, ...options, config: ['core.quotepath=off', ...(options.config ?? [])] });
}

/** Git's stderr on one line. */
function gitMessage(e: unknown): string {
  return String(e instanceof Error ? e.message : e).trim().split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
}
