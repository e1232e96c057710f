import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { captureGit, showCommit } from '../../src/core/provenance/git.ts';
import { GitError, type GitErrorKind, runGit } from '../../src/core/provenance/runGit.ts';
import { createWorktree, repoTop } from '../../src/core/reproduce/worktree.ts';
import { git, gitRepo, tempDir } from './helpers.ts';

/** Asserts a rejection is a GitError of `kind`. */
async function rejectsWith(p: Promise<unknown>, kind: GitErrorKind): Promise<GitError> {
  let caught: unknown;
  await assert.rejects(p, (e) => { caught = e; return true; });
  assert.ok(caught instanceof GitError, `a GitError, not ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  return caught;
}

async function noGitWhy(cwd: string): Promise<GitErrorKind | undefined> {
  const r = await captureGit(cwd);
  assert.equal(r.kind, 'no-git');
  return r.kind === 'no-git' ? r.why : undefined;
}

const repo = () => gitRepo(join(tempDir(), 'repo'), { 'train.py': 'lr = 0.1\n' }, 'A');

test('a folder that is not a repository: not-a-repo', async () => {
  const dir = tempDir();
  await rejectsWith(runGit(dir, ['rev-parse', '--show-toplevel']), 'not-a-repo');
  await rejectsWith(runGit(join(dir, 'missing'), ['status']), 'not-a-repo');
  const e = await rejectsWith(repoTop(dir), 'not-a-repo');
  assert.equal(e.message, `not a git repository: ${dir}`);
  assert.equal(await noGitWhy(dir), 'not-a-repo');
  await rejectsWith(showCommit(dir, 'abcdef0'), 'not-a-repo');
});

test('git missing from PATH: no-git, also where the folder is a repository', async () => {
  const dir = repo();
  const saved = process.env.PATH;
  process.env.PATH = tempDir(); // an empty folder: no git on PATH
  try {
    await rejectsWith(runGit(dir, ['status']), 'no-git');
    const e = await rejectsWith(repoTop(dir), 'no-git');
    assert.equal(e.message, 'git is not installed or not on PATH');
    assert.equal(await noGitWhy(dir), 'no-git');
  } finally {
    process.env.PATH = saved;
  }
});

test('a repository with no commit, and a commit it does not have: no-commit', async () => {
  const empty = tempDir();
  git(empty, 'init', '-q');
  writeFileSync(join(empty, 'a.py'), 'x\n');
  await rejectsWith(runGit(empty, ['rev-parse', '--verify', '-q', 'HEAD^{commit}']), 'no-commit');
  assert.equal(await noGitWhy(empty), 'no-commit');

  const dir = repo();
  const e = await rejectsWith(createWorktree({ repoTop: dir, commit: 'deadbeef'.repeat(5), parent: tempDir() }), 'no-commit');
  assert.match(e.message, /^commit deadbee is not in this repository/);
  await rejectsWith(showCommit(dir, 'deadbeef'.repeat(5)), 'no-commit');
  await rejectsWith(runGit(dir, ['show', 'no-such-branch']), 'no-commit');
});

test('a patch that does not apply: patch-failed; one that applies with conflicts: conflict', async () => {
  const dir = repo();
  const commit = git(dir, 'rev-parse', 'HEAD').trim();
  const patch = 'diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-something else\n+lr = 9\n';
  const e = await rejectsWith(createWorktree({ repoTop: dir, commit, patch, parent: tempDir() }), 'patch-failed');
  assert.match(e.message, /^the stored patch does not apply to /);

  // the same change made two ways: a three-way apply leaves conflict markers
  writeFileSync(join(dir, 'train.py'), 'lr = 0.2\n');
  const mine = git(dir, 'diff');
  git(dir, 'checkout', '-q', '--', 'train.py');
  writeFileSync(join(dir, 'train.py'), 'lr = 0.3\n');
  git(dir, 'commit', '-qam', 'B');
  const file = join(tempDir(), 'mine.patch');
  writeFileSync(file, mine);
  await rejectsWith(runGit(dir, ['apply', '--3way', file]), 'conflict');
});

test('exit codes listed as ok return stdout; others carry the exit code', async () => {
  const dir = repo();
  git(dir, 'checkout', '-q', '--detach');
  assert.equal(await runGit(dir, ['symbolic-ref', '-q', 'HEAD'], { okExits: [0, 1] }), '');
  const e = await rejectsWith(runGit(dir, ['symbolic-ref', '-q', 'HEAD']), 'other');
  assert.equal(e.exitCode, 1);
});
