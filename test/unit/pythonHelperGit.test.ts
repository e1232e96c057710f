// The helper's git capture (media/python/runlens/_git.py) against the extension's (src/core/provenance/git.ts):
// the same commit, branch, dirty flag, untracked list and, byte for byte, the same patch.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { applyablePatch, captureGit } from '../../src/core/provenance/git.ts';
import { tempDir } from './helpers.ts';

const PYTHONPATH = resolve(import.meta.dirname, '../../media/python');

function python(cwd: string, env: { [k: string]: string } = {}): any {
  const py = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  const r = spawnSync(py, ['-c', `
import json, os
from runlens._git import capture
print(json.dumps(capture(os.getcwd())))
`], { cwd, encoding: 'utf8', env: { ...process.env, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1', ...env } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' });
}

/** A repository with every kind of change the patch has to carry. */
function messyRepo(): string {
  const dir = tempDir('runlens-pygit-');
  git(dir, 'init', '-q', '-b', 'main');
  const files: Record<string, string | Buffer> = {
    'train.py': 'print("hi")\n',
    'data.bin': Buffer.from([0, 1, 2, 3]),
    'gone.txt': 'bye\n',
    'latin1.txt': Buffer.from('caf\xe9\n', 'latin1'),
    'sub/deep.txt': 'deep\n',
  };
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'init');
  writeFileSync(join(dir, 'train.py'), 'print("hello")\n');
  writeFileSync(join(dir, 'data.bin'), Buffer.from([9, 0, 8]));
  writeFileSync(join(dir, 'latin1.txt'), Buffer.from('caf\xe9 cr\xe8me\n', 'latin1')); // not UTF-8 in the diff
  git(dir, 'rm', '-q', 'gone.txt');
  writeFileSync(join(dir, 'staged.txt'), 'staged\n');
  git(dir, 'add', 'staged.txt');
  const untracked: Record<string, string | Buffer> = {
    'notes.md': 'one\ntwo\n',
    'no-newline.txt': 'last line',
    'empty.txt': '',
    'with space.txt': 'spaced\n',
    'é名.txt': 'unicode\n',
    'quote"back\\slash.txt': 'odd\n',
    'tab\there.txt': 'tab\n',
    'blob.bin': Buffer.from([1, 0, 2]),
    'bad-utf8.txt': Buffer.from([0x63, 0xe9, 0x0a]),
    'big.txt': 'x'.repeat(300 * 1024),
    '.env': 'TOKEN=1\n',
    'hf_token.txt': 'hf_x\n',
    'sub/new.py': 'x = 1\r\ny = 2\r\n',
    'bom.txt': '\ufeffbom\n',
  };
  for (const [p, c] of Object.entries(untracked)) writeFileSync(join(dir, p), c);
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(join(dir, 'run.sh'), 0o755);
  symlinkSync('train.py', join(dir, 'link.py'));
  mkdirSync(join(dir, 'nested'));
  git(join(dir, 'nested'), 'init', '-q'); // a nested repository: listed as "nested/"
  writeFileSync(join(dir, 'nested', 'f'), 'f\n');
  writeFileSync(join(dir, '.gitignore'), 'ignored/\n');
  mkdirSync(join(dir, 'ignored'));
  writeFileSync(join(dir, 'ignored', 'x.txt'), 'ignored\n');
  return dir;
}

async function extension(cwd: string) {
  const r = await captureGit(cwd);
  assert.equal(r.kind, 'git');
  if (r.kind !== 'git') throw new Error('no git');
  const g = r.git;
  return {
    commit: g.commit, branch: g.branch, dirty: g.dirty, patch: applyablePatch(g),
    untracked: g.untracked.map((u) => ({ path: u.path, size: u.size, ...(u.skipped ? { skipped: u.skipped } : {}) })),
  };
}

test('the helper captures the same commit, branch, untracked files and patch as the extension', async () => {
  const dir = messyRepo();
  const ts = await extension(dir);
  assert.deepEqual(python(dir), ts);
  assert.deepEqual(python(join(dir, 'sub')), ts, 'from a subfolder too');
  // the repository has what the test means it to have
  assert.equal(ts.branch, 'main');
  assert.ok(ts.dirty);
  for (const s of ['diff --git a/latin1.txt', 'GIT binary patch', 'deleted file mode', 'new file mode 100755', 'new file mode 120000',
    '"b/quote\\"back\\\\slash.txt"', '+++ b/with space.txt\t', '\\ No newline at end of file', '\ufffd']) {
    assert.ok(ts.patch.includes(s), s);
  }
  const skipped = Object.fromEntries(ts.untracked.filter((u) => u.skipped).map((u) => [u.path, u.skipped]));
  assert.deepEqual(skipped, { '.env': 'secret', 'hf_token.txt': 'secret', 'big.txt': 'too-large', 'blob.bin': 'binary', 'bad-utf8.txt': 'binary' });
});

test('a clean checkout, a detached HEAD, no commit, no repository and no git all match or give null', async () => {
  const dir = tempDir('runlens-pygit-');
  git(dir, 'init', '-q', '-b', 'main');
  assert.equal(python(dir), null, 'no commit yet');
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'one');
  const clean = python(dir);
  assert.deepEqual(clean, await extension(dir));
  assert.equal(clean.dirty, false);
  assert.equal(clean.patch, '');
  git(dir, 'checkout', '-q', '--detach');
  const detached = python(dir);
  assert.deepEqual(detached, await extension(dir));
  assert.equal(detached.branch, null);
  assert.equal(python(tempDir('runlens-pygit-')), null, 'not a repository');
  assert.equal(python(dir, { PATH: '/nonexistent' }), null, 'no git on PATH');
});
