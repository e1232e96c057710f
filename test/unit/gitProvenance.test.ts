import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyablePatch, captureGit, stripUrlCredentials } from '../../src/core/provenance/git.ts';
import type { GitCapture } from '../../src/core/provenance/git.ts';
import { isSecretFile } from '../../src/core/provenance/redact.ts';
import { git, gitRepo, tempDir, treeSnapshot  } from './helpers.ts';

function repo(): string {
  return gitRepo(tempDir(), {
    'train.py': 'print(1)\n', 'old.txt': 'to be deleted\n', 'staged.txt': 'one\n',
    'model.bin': Buffer.from([0, 1, 2, 3, 255]), 'résumé v1.txt': 'draft\n',
  });
}

async function capture(dir: string, options?: Parameters<typeof captureGit>[1]): Promise<GitCapture> {
  const r = await captureGit(dir, options);
  assert.equal(r.kind, 'git', r.kind === 'no-git' ? r.reason : '');
  return (r as { git: GitCapture }).git;
}


/** Applies the capture to a fresh worktree at its commit and returns that worktree. */
function replay(dir: string, c: GitCapture): string {
  const wt = join(tempDir(), 'wt');
  git(dir, 'worktree', 'add', '-q', '--detach', wt, c.commit);
  const patchFile = join(tempDir(), 'run.patch');
  writeFileSync(patchFile, applyablePatch(c));
  git(wt, 'apply', '--check', patchFile);
  git(wt, 'apply', patchFile);
  return wt;
}

test('a clean repository: commit and branch, not dirty, empty patch', async () => {
  const dir = repo();
  const c = await capture(dir);
  assert.equal(c.commit, git(dir, 'rev-parse', 'HEAD').trim());
  assert.equal(c.branch, 'main');
  assert.equal(c.dirty, false);
  assert.equal(c.patch, '');
  assert.deepEqual(c.untracked, []);
  assert.equal(c.remote, null);
  assert.equal(applyablePatch(c), '');
});

test('a modified tracked file makes the repo dirty and is in the patch', async () => {
  const dir = repo();
  writeFileSync(join(dir, 'train.py'), 'print(2)\n');
  const c = await capture(dir);
  assert.equal(c.dirty, true);
  assert.match(c.patch, /^-print\(1\)$/m);
  assert.match(c.patch, /^\+print\(2\)$/m);
  assert.deepEqual(treeSnapshot(replay(dir, c)), treeSnapshot(dir));
});

test('an untracked file alone makes the repo dirty', async () => {
  const dir = repo();
  writeFileSync(join(dir, 'notes.md'), 'hi\n');
  const c = await capture(dir);
  assert.equal(c.patch, '');
  assert.equal(c.dirty, true);
  assert.deepEqual(c.untracked, [{ path: 'notes.md', size: 3, content: 'hi\n' }]);
});

test('ignored files are not untracked', async () => {
  const dir = repo();
  writeFileSync(join(dir, '.git', 'info', 'exclude'), 'checkpoints/\n');
  mkdirSync(join(dir, 'checkpoints'));
  writeFileSync(join(dir, 'checkpoints', 'a.pt'), 'x');
  const c = await capture(dir);
  assert.equal(c.dirty, false);
  assert.deepEqual(c.untracked, []);
});

test('applyablePatch on a clean checkout of the commit reproduces the working tree', async () => {
  const dir = repo();
  writeFileSync(join(dir, 'train.py'), 'print(2)\nprint(3)\n');
  rmSync(join(dir, 'old.txt'));
  writeFileSync(join(dir, 'staged.txt'), 'one\ntwo\n');
  git(dir, 'add', 'staged.txt');
  writeFileSync(join(dir, 'staged.txt'), 'one\ntwo\nthree (unstaged)\n');
  writeFileSync(join(dir, 'model.bin'), Buffer.from([0, 9, 9, 9, 255, 0]));
  mkdirSync(join(dir, 'data sets', 'données'), { recursive: true });
  writeFileSync(join(dir, 'data sets', 'données', 'notes ü.txt'), 'no trailing newline');
  writeFileSync(join(dir, 'my config.yaml'), 'lr: 0.1\r\nepochs: 3\r\n');
  writeFileSync(join(dir, 'empty.txt'), '');
  writeFileSync(join(dir, 'quote"back\\slash.txt'), 'odd name\n');
  writeFileSync(join(dir, 'tab\there.txt'), 'tab in name\n');
  writeFileSync(join(dir, 'trailing space '), 'space at the end\n');
  writeFileSync(join(dir, 'résumé v1.txt'), 'final\n');
  writeFileSync(join(dir, 'bom.txt'), '\uFEFFwith bom\n');
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(join(dir, 'run.sh'), 0o755);
  symlinkSync('train.py', join(dir, 'link.py'));
  git(dir, 'add', 'my config.yaml'); // a staged new file
  const c = await capture(dir);
  assert.equal(c.dirty, true);
  assert.match(c.patch, /^deleted file mode/m);
  assert.match(c.patch, /^GIT binary patch$/m, 'tracked binary changes are in the patch');
  assert.match(c.patch, /my config\.yaml/);
  assert.match(c.patch, /^diff --git a\/résumé v1\.txt b\/résumé v1\.txt$/m, 'unicode names unquoted');
  const paths = c.untracked.map((f) => f.path).sort();
  assert.deepEqual(paths, ['bom.txt', 'data sets/données/notes ü.txt', 'empty.txt', 'link.py', 'quote"back\\slash.txt', 'run.sh', 'tab\there.txt', 'trailing space ']);
  assert.ok(c.untracked.every((f) => f.content !== undefined && !f.skipped));
  const wt = replay(dir, c);
  // the index is not part of the working tree: compare files only
  assert.deepEqual(treeSnapshot(wt), treeSnapshot(dir));
});

test('untracked files render exactly as git renders new files', async () => {
  const dir = repo();
  const files: [string, string][] = [
    ['plain.txt', 'a\nb\n'], ['one line', 'x\n'], ['no newline.txt', 'a\nb'], ['crlf.txt', 'a\r\nb\r\n'],
    ['empty', ''], ['trailing space ', 'y\n'], ['tab\tname', 'z\n'], ['naïve €.txt', 'ü\n'], ['q"b\\s', 'w\n'],
  ];
  for (const [name, content] of files) writeFileSync(join(dir, name), content);
  writeFileSync(join(dir, 'exec.sh'), 'echo\n');
  chmodSync(join(dir, 'exec.sh'), 0o755);
  symlinkSync('plain.txt', join(dir, 'link'));
  const c = await capture(dir);
  assert.equal(c.untracked.length, files.length + 2);
  git(dir, 'add', '-N', '.');
  const fromGit = git(dir, '-c', 'core.quotepath=off', 'diff', '--no-color').replace(/^index .*\n/gm, '');
  const chunks = (p: string) => p.split(/^(?=diff --git )/m).filter(Boolean).sort();
  assert.deepEqual(chunks(applyablePatch(c)), chunks(fromGit));
});

test('untracked binary and too-large files are listed without content', async () => {
  const dir = repo();
  writeFileSync(join(dir, 'weights.bin'), Buffer.concat([Buffer.from('abc'), Buffer.from([0]), Buffer.from('def')]));
  writeFileSync(join(dir, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])); // not UTF-8
  writeFileSync(join(dir, 'big.txt'), 'x'.repeat(2000));
  writeFileSync(join(dir, 'small.txt'), 'ok\n');
  const c = await capture(dir, { untrackedFileLimit: 1000 });
  const byPath = Object.fromEntries(c.untracked.map((f) => [f.path, f]));
  assert.deepEqual(byPath['weights.bin'], { path: 'weights.bin', size: 7, skipped: 'binary' });
  assert.deepEqual(byPath['latin1.txt'], { path: 'latin1.txt', size: 5, skipped: 'binary' });
  assert.deepEqual(byPath['big.txt'], { path: 'big.txt', size: 2000, skipped: 'too-large' });
  assert.deepEqual(byPath['small.txt'], { path: 'small.txt', size: 3, content: 'ok\n' });
  const patch = applyablePatch(c);
  assert.match(patch, /small\.txt/);
  assert.doesNotMatch(patch, /weights\.bin|big\.txt|latin1/);
});

test('untracked files with secret-looking names are listed as skipped, never read into the patch', async () => {
  const dir = repo();
  mkdirSync(join(dir, 'config'));
  const secrets = ['.env', 'config/.env.local', 'id_rsa', 'server.pem', 'creds.key', 'credentials.json', '.netrc'];
  for (const name of secrets) writeFileSync(join(dir, name), 'SECRET-MARK\n');
  writeFileSync(join(dir, 'notes.txt'), 'kept\n');
  const c = await capture(dir);
  assert.deepEqual(c.untracked.filter((f) => f.skipped === 'secret').map((f) => f.path).sort(), [...secrets].sort());
  assert.ok(c.untracked.every((f) => !f.content?.includes('SECRET-MARK')));
  const patch = applyablePatch(c);
  assert.doesNotMatch(patch, /SECRET-MARK/);
  assert.match(patch, /^\+kept$/m);
});

test('isSecretFile: by name', () => {
  const secret = ['.env', 'a/.env.production', '.envrc', 'id_rsa', 'keys/id_ed25519', 'server.pem', 'creds.key', 'cert.P12', 'x.pfx',
    '.netrc', '.git-credentials', 'credentials.json', 'client_secret_123.json', 'hf_token.txt', 'secrets.yaml', 'api_keys.json'];
  const kept = ['id_rsa.pub', 'train.py', 'api.py', 'auth.py', 'session.py', 'special_tokens_map.json', 'tokenizer.json', 'keyboard.txt',
    'environment.yml', '.envelope', 'id_map.py', 'key_points.md'];
  assert.deepEqual(secret.filter((p) => !isSecretFile(p)), []);
  assert.deepEqual(kept.filter(isSecretFile), []);
});

test('content stops at the total limit; later files are too-large', async () => {
  const dir = repo();
  for (const name of ['a.txt', 'b.txt', 'c.txt']) writeFileSync(join(dir, name), `${name}\n`.repeat(10)); // 60 bytes each
  writeFileSync(join(dir, 'd.txt'), 'd\n'); // would fit, but content stopped at c.txt
  const c = await capture(dir, { untrackedTotalLimit: 150 });
  const byPath = Object.fromEntries(c.untracked.map((f) => [f.path, f]));
  assert.equal(byPath['a.txt']!.content, 'a.txt\n'.repeat(10));
  assert.equal(byPath['b.txt']!.content, 'b.txt\n'.repeat(10));
  assert.deepEqual(byPath['c.txt'], { path: 'c.txt', size: 60, skipped: 'too-large' });
  assert.deepEqual(byPath['d.txt'], { path: 'd.txt', size: 2, skipped: 'too-large' });
});

test('a capture from a subfolder covers the whole repository', async () => {
  const dir = repo();
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'top.txt'), 'top\n');
  writeFileSync(join(dir, 'train.py'), 'print(5)\n');
  const c = await capture(join(dir, 'src'));
  assert.deepEqual(c.untracked.map((f) => f.path), ['top.txt']);
  assert.match(c.patch, /^\+print\(5\)$/m);
});

test('detached HEAD has no branch', async () => {
  const dir = repo();
  git(dir, 'checkout', '-q', '--detach');
  const c = await capture(dir);
  assert.equal(c.branch, null);
  assert.equal(c.commit, git(dir, 'rev-parse', 'HEAD').trim());
});

test('remote: credentials stripped; upstream remote preferred, then origin, then the first', async () => {
  const dir = repo();
  git(dir, 'remote', 'add', 'aaa', 'git@example.com:team/first.git');
  assert.equal((await capture(dir)).remote, 'git@example.com:team/first.git');
  git(dir, 'remote', 'add', 'origin', 'https://user:s3cret-token@github.com/team/proj.git');
  assert.equal((await capture(dir)).remote, 'https://github.com/team/proj.git');
  git(dir, 'remote', 'add', 'fork', 'https://ghp_abc123@github.com/me/proj.git');
  git(dir, 'config', 'branch.main.remote', 'fork');
  assert.equal((await capture(dir)).remote, 'https://github.com/me/proj.git');
});

test('stripUrlCredentials', () => {
  const table: [string, string][] = [
    ['https://user:token@host/x.git', 'https://host/x.git'],
    ['HTTP://tok@host:8080/x', 'HTTP://host:8080/x'],
    ['https://host/x.git', 'https://host/x.git'],
    ['https://host/a@b', 'https://host/a@b'],
    ['ssh://git:pw@host/x.git', 'ssh://git@host/x.git'],
    ['ssh://git@host/x.git', 'ssh://git@host/x.git'],
    ['git@github.com:team/x.git', 'git@github.com:team/x.git'],
    ['https://user:to/k#e?n@host/x.git', 'https://host/x.git'],
    ['https://me@mail.com:p@ss@host/x.git', 'https://host/x.git'],
    ['ssh://git:p/w@host/x.git', 'ssh://git@host/x.git'],
  ];
  for (const [input, want] of table) assert.equal(stripUrlCredentials(input), want, input);
});

test('not a repository: no-git', async () => {
  const r = await captureGit(tempDir());
  assert.equal(r.kind, 'no-git');
  assert.match((r as { reason: string }).reason, /not in a git repository/);
  const missing = await captureGit(join(tempDir(), 'nope'));
  assert.equal(missing.kind, 'no-git');
  assert.match((missing as { reason: string }).reason, /does not exist/);
});

test('a repository with no commits: no-git, saying so', async () => {
  const dir = tempDir();
  git(dir, 'init', '-q');
  writeFileSync(join(dir, 'a.py'), 'x\n');
  const r = await captureGit(dir);
  assert.equal(r.kind, 'no-git');
  assert.match((r as { reason: string }).reason, /no commits/);
});

test('git not installed: no-git, no throw', async () => {
  const dir = repo();
  const saved = process.env.PATH;
  process.env.PATH = tempDir(); // an empty folder: no git on PATH
  try {
    const r = await captureGit(dir);
    assert.equal(r.kind, 'no-git');
    assert.match((r as { reason: string }).reason, /not installed/);
  } finally {
    process.env.PATH = saved;
  }
});
