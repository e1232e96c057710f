import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { excludeFromGit, findGitRepo } from '../../src/core/gitExclude.ts';
import { Store } from '../../src/core/store/store.ts';
import { tempDir } from './helpers.ts';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' });

function repo(): string {
  const dir = tempDir();
  git(dir, 'init', '-q');
  writeFileSync(join(dir, 'train.py'), 'print(1)\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '-qm', 'init');
  return dir;
}

test('the store folder is excluded, so runs never dirty the repo', () => {
  const dir = repo();
  const storeDir = join(dir, '.runlens');
  Store.open(storeDir).close();
  assert.match(git(dir, 'status', '--porcelain'), /\.runlens/, 'without the exclude git sees the store');
  assert.equal(excludeFromGit(storeDir), '/.runlens/');
  assert.equal(git(dir, 'status', '--porcelain'), '');
  excludeFromGit(storeDir);
  const lines = readFileSync(join(dir, '.git', 'info', 'exclude'), 'utf8').split('\n').filter((l) => l === '/.runlens/');
  assert.equal(lines.length, 1, 'the pattern is added once');
});

test('a nested store dir in a subfolder is excluded by its repo-relative path', () => {
  const dir = repo();
  mkdirSync(join(dir, 'proj'));
  const storeDir = join(dir, 'proj', 'runs store');
  Store.open(storeDir).close();
  assert.equal(excludeFromGit(storeDir), '/proj/runs store/');
  assert.equal(git(dir, 'status', '--porcelain'), '');
});

test('a git worktree writes to the main repository exclude file', () => {
  const dir = repo();
  const wt = join(tempDir(), 'wt');
  git(dir, 'worktree', 'add', '-q', wt);
  const found = findGitRepo(wt)!;
  assert.equal(found.root, wt);
  assert.equal(found.commonDir, join(dir, '.git'));
  Store.open(join(wt, '.runlens')).close();
  excludeFromGit(join(wt, '.runlens'));
  assert.equal(git(wt, 'status', '--porcelain'), '');
});

test('no repository, or a store outside it, changes nothing', () => {
  const plain = tempDir();
  assert.equal(findGitRepo(plain), undefined);
  assert.equal(excludeFromGit(join(plain, '.runlens')), undefined);
  const dir = repo();
  assert.equal(excludeFromGit(join(tempDir(), 'elsewhere')), undefined);
  assert.equal(git(dir, 'status', '--porcelain'), '');
});
