import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { collectArtifact } from '../../src/core/artifacts/collect.ts';
import { ObjectStore } from '../../src/core/artifacts/objectStore.ts';
import { safeWritePath } from '../../src/core/artifacts/safePath.ts';
import { hashDataset } from '../../src/core/provenance/datasetHash.ts';
import { tempDir } from './helpers.ts';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function setup() {
  const base = tempDir();
  const objects = new ObjectStore(join(base, 'objects'));
  const file = (rel: string, content: string | Buffer) => {
    const p = join(base, 'work', rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
    return p;
  };
  return { base, objects, file };
}

const tempFiles = (objects: ObjectStore) => (existsSync(join(objects.dir, 'tmp')) ? readdirSync(join(objects.dir, 'tmp')) : []);

test('the same bytes are stored once, named by their sha256', async () => {
  const { objects, file } = setup();
  const a = await objects.putFile(file('a.bin', 'same bytes'));
  const b = await objects.putFile(file('other/b.bin', 'same bytes'));
  assert.deepEqual(a, { sha256: sha('same bytes'), size: 10, stored: true });
  assert.deepEqual(b, { sha256: sha('same bytes'), size: 10, stored: false });
  assert.deepEqual(await objects.list(), [sha('same bytes')]);
  assert.equal(objects.path(a.sha256), join(objects.dir, a.sha256.slice(0, 2), a.sha256.slice(2)));
  assert.ok(objects.has(a.sha256));
  assert.equal(objects.has(sha('other')), false);
  assert.deepEqual(tempFiles(objects), []);
});

test('putting the same bytes concurrently stores them once', async () => {
  const { objects, file } = setup();
  const srcs = Array.from({ length: 6 }, (_, i) => file(`f${i}`, 'racing'));
  const puts = await Promise.all(srcs.map((s) => objects.putFile(s)));
  assert.equal(puts.filter((p) => p.stored).length, 1);
  assert.deepEqual(await objects.list(), [sha('racing')]);
  assert.deepEqual(tempFiles(objects), []);
});

test('an object is read-only and holds the source bytes', async () => {
  const { objects, file } = setup();
  const { sha256 } = await objects.putFile(file('m.json', '{"layers":3}'));
  const p = objects.path(sha256);
  assert.equal(statSync(p).mode & 0o777, 0o444);
  assert.equal(readFileSync(p, 'utf8'), '{"layers":3}');
});

test('rewriting the source in place afterwards does not change the stored object', async () => {
  const { objects, file } = setup();
  const src = file('ckpt.pt', 'epoch 1');
  const { sha256 } = await objects.putFile(src);
  writeFileSync(src, 'epoch 2'); // same inode, new bytes
  assert.equal(readFileSync(objects.path(sha256), 'utf8'), 'epoch 1');
  assert.equal(await objects.verify(sha256), 'ok');
});

test('a source that is a folder or missing is a clear error and leaves no temp file', async () => {
  const { base, objects, file } = setup();
  file('dir/x', 'x');
  await assert.rejects(objects.putFile(join(base, 'work/dir')), { message: `cannot store ${join(base, 'work/dir')}: not a regular file` });
  await assert.rejects(objects.putFile(join(base, 'work/nope')), { message: `cannot store ${join(base, 'work/nope')}: no such file` });
  assert.deepEqual(await objects.list(), []);
  assert.deepEqual(tempFiles(objects), []);
});

test('an aborted put throws and leaves no temp file or object', async () => {
  const { objects, file } = setup();
  const src = file('big.bin', randomBytes(3 << 20));
  const ac = new AbortController();
  const put = objects.putFile(src, { signal: ac.signal });
  ac.abort();
  await assert.rejects(put, { name: 'AbortError' });
  assert.deepEqual(await objects.list(), []);
  assert.deepEqual(tempFiles(objects), []);
});

test('verify says ok, then corrupt after the object is edited, then missing after it is deleted', async () => {
  const { objects, file } = setup();
  const { sha256, size } = await objects.putFile(file('w.bin', 'weights'));
  assert.equal(await objects.verify(sha256), 'ok');
  assert.equal(await objects.verify(sha256, size), 'ok');
  assert.equal(await objects.verify(sha256, size + 1), 'corrupt');
  const p = objects.path(sha256);
  chmodSync(p, 0o644);
  writeFileSync(p, 'weightz');
  assert.equal(await objects.verify(sha256), 'corrupt');
  unlinkSync(p);
  assert.equal(await objects.verify(sha256), 'missing');
  assert.equal(objects.has(sha256), false);
});

test('a name that is not 64 lowercase hex digits is refused', () => {
  const { objects } = setup();
  for (const bad of ['abc', sha('x').toUpperCase(), `../${sha('x').slice(3)}`, `${sha('x')}/`, '']) {
    assert.throws(() => objects.path(bad), /not a sha256/);
    assert.throws(() => objects.has(bad) || assert.fail('has() must not say true'), /not a sha256|must not/);
  }
});

test('materialize writes identical bytes and refuses an existing destination', async () => {
  const { base, objects, file } = setup();
  const { sha256 } = await objects.putFile(file('model.onnx', 'onnx bytes'));
  const dest = safeWritePath(join(base, 'restore'), 'models/model.onnx');
  await objects.materialize(sha256, dest);
  assert.equal(readFileSync(dest, 'utf8'), 'onnx bytes');
  writeFileSync(join(base, 'restore/other.bin'), 'user file');
  await assert.rejects(objects.materialize(sha256, join(base, 'restore/other.bin')), { message: `cannot write ${join(base, 'restore/other.bin')}: it already exists` });
  assert.equal(readFileSync(join(base, 'restore/other.bin'), 'utf8'), 'user file');
  await assert.rejects(objects.materialize(sha('absent'), join(base, 'restore/absent')), /is missing from the store/);
  assert.equal(await objects.verify(sha256), 'ok');
});

test('list skips tmp/ and stray files', async () => {
  const { objects, file } = setup();
  await objects.putFile(file('a', 'a'));
  await objects.putFile(file('b', 'b'));
  mkdirSync(join(objects.dir, 'tmp'), { recursive: true });
  writeFileSync(join(objects.dir, 'tmp', 'leftover'), 'x');
  writeFileSync(join(objects.dir, 'README'), 'x');
  assert.deepEqual(await objects.list(), [sha('a'), sha('b')].sort());
});

test('a folder artifact has the same digest as the dataset digest of that folder', async () => {
  const { base, objects, file } = setup();
  const tree: Record<string, string> = {
    'model/config.json': '{"d":4}', 'model/a.txt': 'alpha', 'model/a/b.txt': 'beta', 'model/B.txt': 'upper',
    'model/empty.bin': '', 'model/é.txt': 'accent', 'model/\uff01.txt': 'fullwidth', 'model/\u{1f600}.txt': 'emoji',
    'model/dup.txt': 'alpha',
  };
  for (const [rel, content] of Object.entries(tree)) file(rel, content);
  symlinkSync('config.json', join(base, 'work/model/config-link.json'));
  const root = join(base, 'work');
  const a = await collectArtifact(objects, root, 'model/');
  const d = await hashDataset(join(root, 'model'));
  assert.equal(a.kind, 'directory');
  assert.equal(a.path, 'model');
  assert.equal(a.digest, d.digest);
  assert.deepEqual(a.files, d.files);
  assert.equal(a.fileCount, 10);
  assert.equal(a.size, d.bytes);
  assert.deepEqual(await objects.list(), [...new Set(d.files.map((f) => f.sha256))].sort(), 'every file stored, duplicates once');
  for (const f of a.files) assert.equal(await objects.verify(f.sha256, f.size), 'ok');
});

test('a file artifact digest is the file hash, as for a one-file dataset', async () => {
  const { base, objects, file } = setup();
  file('out/model.pt', 'tensor');
  const a = await collectArtifact(objects, join(base, 'work'), 'out/model.pt');
  const d = await hashDataset(join(base, 'work/out/model.pt'));
  assert.equal(a.digest, d.digest);
  assert.deepEqual(a.files, d.files);
});

test('a 20 MB file round-trips through the store', async () => {
  const { base, objects, file } = setup();
  const bytes = randomBytes(20 << 20);
  const put = await objects.putFile(file('big.bin', bytes));
  assert.deepEqual(put, { sha256: sha(bytes), size: bytes.length, stored: true });
  assert.equal(await objects.verify(put.sha256, bytes.length), 'ok');
  const dest = join(base, 'restored.bin');
  await objects.materialize(put.sha256, dest);
  assert.ok(readFileSync(dest).equals(bytes));
  assert.deepEqual(await ObjectStore.hashFile(dest), { sha256: sha(bytes), size: bytes.length });
  assert.deepEqual(tempFiles(objects), []);
});
