// The path-traversal suite: logged artifact paths and store write-out paths never reach outside the run folder.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectArtifact } from '../../src/core/artifacts/collect.ts';
import { ObjectStore } from '../../src/core/artifacts/objectStore.ts';
import { checkRelativePath, PathError, resolveInside, safeWritePath } from '../../src/core/artifacts/safePath.ts';
import { tempDir } from './helpers.ts';

const sha = (data: string) => createHash('sha256').update(data).digest('hex');

/** A run folder with a model, a sentinel folder beside it, and an empty object store. */
function setup() {
  const base = tempDir();
  const root = join(base, 'run');
  const outside = join(base, 'outside');
  mkdirSync(join(root, 'out'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'out/model.json'), '{"w":1}');
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  writeFileSync(join(outside, 'x'), 'x');
  const objects = new ObjectStore(join(base, 'store/objects'));
  return { base, root, outside, objects, before: snapshot(outside) };
}

/** Every entry below `dir` with its size and mtime, to prove nothing changed. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()
    .map((rel) => { const st = statSync(join(dir, rel)); return `${rel} ${st.size} ${st.mtimeMs}`; });
}

/** Files anywhere below `dir` (none if it does not exist). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((rel) => statSync(join(dir, rel)).isFile());
}

/** Collecting `raw` fails with a PathError matching `message`, and nothing is written anywhere. */
async function rejectsCollect(env: ReturnType<typeof setup>, raw: string, message: RegExp | string) {
  await assert.rejects(collectArtifact(env.objects, env.root, raw), (err: Error) => {
    assert.equal(err.name, 'PathError');
    assert.ok(err instanceof PathError);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
  assert.deepEqual(await env.objects.list(), []);
  assert.deepEqual(filesUnder(join(env.base, 'store')), [], 'no object or temp file');
  assert.deepEqual(snapshot(env.outside), env.before, 'the folder outside the run is unchanged');
}

const REJECTED: [raw: string, message: string][] = [
  ['../x', 'artifact path "../x" leaves the run folder'],
  ['a/../../x', 'artifact path "a/../../x" leaves the run folder'],
  ['..', 'artifact path ".." leaves the run folder'],
  ['out/../../outside/secret.txt', 'artifact path "out/../../outside/secret.txt" leaves the run folder'],
  ['a/../b', 'artifact path "a/../b" contains a ".." segment; write it without ".."'],
  ['/etc/passwd', 'artifact path "/etc/passwd" is absolute; log paths relative to the run\'s working directory'],
  ['C:\\x', 'artifact path "C:\\\\x" is absolute; log paths relative to the run\'s working directory'],
  ['C:/x', 'artifact path "C:/x" is absolute; log paths relative to the run\'s working directory'],
  ['//server/share', 'artifact path "//server/share" is absolute; log paths relative to the run\'s working directory'],
  ['\\\\server\\share', 'artifact path "\\\\\\\\server\\\\share" is absolute; log paths relative to the run\'s working directory'],
  ['a\\b', 'artifact path "a\\\\b" contains a backslash'],
  ['..\\secret', 'artifact path "..\\\\secret" contains a backslash'],
  ['a\u0000b', 'artifact path "a\\u0000b" contains a NUL character'],
  ['out/model.json\u0000.png', 'artifact path "out/model.json\\u0000.png" contains a NUL character'],
  ['a\nb', 'artifact path "a\\nb" contains a control character'],
  ['a\tb', 'artifact path "a\\tb" contains a control character'],
  ['a\u001bb', 'artifact path "a\\u001bb" contains a control character'],
  ['', 'artifact path is empty'],
  ['.', 'artifact path "." names the whole run folder; log a file or a subfolder'],
  ['./', 'artifact path "./" names the whole run folder; log a file or a subfolder'],
  ['.//./', 'artifact path ".//./" names the whole run folder; log a file or a subfolder'],
];

for (const [raw, message] of REJECTED) {
  test(`${JSON.stringify(raw)} is rejected by name, and collecting it writes nothing`, async () => {
    assert.throws(() => checkRelativePath(raw), { name: 'PathError', message });
    await rejectsCollect(setup(), raw, message);
  });
}

test('the message says what kind of path it was', () => {
  assert.throws(() => checkRelativePath('../m', 'model path'), { message: 'model path "../m" leaves the run folder' });
  assert.throws(() => checkRelativePath(42 as unknown as string), { name: 'PathError', message: 'artifact path 42 is not a string' });
});

test('a symlinked file pointing outside is rejected, naming the link and its target', async () => {
  const env = setup();
  symlinkSync(join(env.outside, 'secret.txt'), join(env.root, 'out/link'));
  const message = `artifact path "out/link" is a symlink that points outside the run folder (to ${join(env.outside, 'secret.txt')})`;
  assert.throws(() => resolveInside(env.root, 'out/link'), { name: 'PathError', message });
  await rejectsCollect(env, 'out/link', message);
});

test('a relative symlink climbing out of the run folder is rejected', async () => {
  const env = setup();
  symlinkSync('../../outside/secret.txt', join(env.root, 'out/rel-link'));
  await rejectsCollect(env, './out/rel-link', /^artifact path "\.\/out\/rel-link" is a symlink that points outside the run folder \(to .*outside\/secret\.txt\)$/);
});

test('a symlinked folder along the path pointing outside is rejected', async () => {
  const env = setup();
  symlinkSync(env.outside, join(env.root, 'out/link'));
  await rejectsCollect(env, 'out/link/x',
    `artifact path "out/link/x" goes through "out/link", a symlink that points outside the run folder (to ${env.outside})`);
  await rejectsCollect(env, 'out/link', `artifact path "out/link" is a symlink that points outside the run folder (to ${env.outside})`);
});

test('a symlink inside a logged folder pointing outside rejects the whole folder; nothing is stored', async () => {
  const env = setup();
  writeFileSync(join(env.root, 'out/a-first.bin'), 'would be stored first');
  mkdirSync(join(env.root, 'out/sub'));
  symlinkSync(join(env.outside, 'secret.txt'), join(env.root, 'out/sub/evil'));
  await rejectsCollect(env, 'out',
    `artifact path "out" contains "out/sub/evil", a symlink that points outside the run folder (to ${join(env.outside, 'secret.txt')})`);
});

test('a symlinked subfolder inside a logged folder pointing outside rejects the folder', async () => {
  const env = setup();
  symlinkSync(env.outside, join(env.root, 'out/data'));
  await rejectsCollect(env, 'out', /^artifact path "out" contains "out\/data", a symlink that points outside/);
});

test('a symlink to the run folder itself is as broad as "." and rejected', async () => {
  const env = setup();
  symlinkSync('..', join(env.root, 'out/everything'));
  await rejectsCollect(env, 'out/everything', 'artifact path "out/everything" is a symlink to the whole run folder; log a file or a subfolder');
});

test('a path that does not exist is an error naming it and the run folder', async () => {
  const env = setup();
  await rejectsCollect(env, 'out/missing.pt', `artifact path "out/missing.pt" does not exist in ${env.root}`);
  await rejectsCollect(env, 'out/model.json/x', `artifact path "out/model.json/x" does not exist in ${env.root}`);
});

test('./out//model.json normalizes to out/model.json and is collected', async () => {
  const env = setup();
  assert.equal(checkRelativePath('./out//model.json'), 'out/model.json');
  assert.equal(checkRelativePath('out/./sub/'), 'out/sub');
  assert.equal(checkRelativePath('..hidden/x..y'), '..hidden/x..y', 'dots inside names are fine');
  const a = await collectArtifact(env.objects, env.root, './out//model.json');
  assert.equal(a.path, 'out/model.json');
  assert.equal(a.kind, 'file');
  assert.equal(a.digest, sha('{"w":1}'));
  assert.deepEqual(a.files, [{ path: 'model.json', sha256: sha('{"w":1}'), size: 7 }]);
  assert.deepEqual(await env.objects.list(), [sha('{"w":1}')]);
});

test('symlinks that stay inside the run folder work', async () => {
  const env = setup();
  symlinkSync('model.json', join(env.root, 'out/latest.json'));
  symlinkSync('out', join(env.root, 'current'));
  assert.equal(resolveInside(env.root, 'out/latest.json'), join(env.root, 'out/model.json'));
  const file = await collectArtifact(env.objects, env.root, 'current/latest.json');
  assert.deepEqual(file.files, [{ path: 'latest.json', sha256: sha('{"w":1}'), size: 7 }]);
  const dir = await collectArtifact(env.objects, env.root, 'out');
  assert.deepEqual(dir.files.map((f) => f.path), ['latest.json', 'model.json']);
  assert.deepEqual(await env.objects.list(), [sha('{"w":1}')]);
});

test('inside a logged folder, dangling links, links to elsewhere in the run and odd names are skipped, not stored', async () => {
  const env = setup();
  writeFileSync(join(env.root, 'notes.txt'), 'run notes');
  symlinkSync('nowhere', join(env.root, 'out/dangling'));
  symlinkSync('../notes.txt', join(env.root, 'out/notes-link'));
  writeFileSync(join(env.root, 'out/a\\b'), 'backslash name');
  writeFileSync(join(env.root, 'out/line\nbreak'), 'newline name');
  const a = await collectArtifact(env.objects, env.root, 'out');
  assert.deepEqual(a.files.map((f) => f.path), ['model.json']);
  assert.deepEqual(a.skipped, ['a\\b', 'dangling', 'line\nbreak', 'notes-link']);
  assert.deepEqual(await env.objects.list(), [sha('{"w":1}')]);
});

test('safeWritePath makes parent folders inside the root and returns the path', () => {
  const root = join(tempDir(), 'export');
  const p = safeWritePath(root, './model//weights/final.bin');
  assert.equal(p, join(root, 'model/weights/final.bin'));
  assert.ok(statSync(join(root, 'model/weights')).isDirectory());
  assert.equal(existsSync(p), false, 'the file itself is left to the caller');
});

test('safeWritePath refuses unsafe paths and creates nothing outside the root', () => {
  const base = tempDir();
  const root = join(base, 'export');
  mkdirSync(root);
  for (const [rel, message] of REJECTED) {
    assert.throws(() => safeWritePath(root, rel, 'artifact path'), { name: 'PathError', message });
  }
  assert.deepEqual(readdirSync(base), ['export']);
  assert.deepEqual(readdirSync(root), []);
});

test('safeWritePath will not write through a parent folder that is a symlink to outside', () => {
  const base = tempDir();
  const root = join(base, 'export');
  const outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  symlinkSync(outside, join(root, 'a'));
  assert.throws(() => safeWritePath(root, 'a/x'),
    { name: 'PathError', message: `file path "a/x" goes through "a", an existing symlink in ${root}; refusing to write through it` });
  assert.throws(() => safeWritePath(root, 'a/new/deeper/x'), { name: 'PathError' });
  assert.deepEqual(readdirSync(outside), [], 'no folder or file was created outside');
});

test('safeWritePath will not write through a symlink even when it points inside the root', () => {
  const root = join(tempDir(), 'export');
  mkdirSync(join(root, 'real'), { recursive: true });
  symlinkSync('real', join(root, 'alias'));
  assert.throws(() => safeWritePath(root, 'alias/x'), { name: 'PathError' });
  assert.deepEqual(readdirSync(join(root, 'real')), []);
});

test('safeWritePath refuses a final path that is an existing symlink', () => {
  const base = tempDir();
  const root = join(base, 'export');
  mkdirSync(root);
  writeFileSync(join(base, 'target.txt'), 'keep me');
  symlinkSync(join(base, 'target.txt'), join(root, 'model.bin'));
  assert.throws(() => safeWritePath(root, 'model.bin'),
    { name: 'PathError', message: `file path "model.bin" is an existing symlink in ${root}; refusing to write through it` });
  assert.equal(readFileSync(join(base, 'target.txt'), 'utf8'), 'keep me');
});

test('safeWritePath refuses a parent that is a file', () => {
  const root = tempDir();
  writeFileSync(join(root, 'f'), 'file');
  assert.throws(() => safeWritePath(root, 'f/x'), { name: 'PathError', message: `file path "f/x": "f" is not a folder in ${root}` });
});
