// The Python helper hashes datasets with the extension's digest (src/core/provenance/datasetHash.ts):
// both sides run on the same trees and must agree on the digest and every per-file hash.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { hashDataset } from '../../src/core/provenance/datasetHash.ts';
import { Store } from '../../src/core/store/store.ts';
import { tempDir } from './helpers.ts';

const PYTHONPATH = resolve(import.meta.dirname, '../../media/python');

/** hash_dataset() of each path in a python3 child (with the store's hash cache when `store` is given). */
function pythonHashes(paths: string[], store?: string): any[] {
  const script = `
import json, sys
from runlens._datasets import hash_dataset, store_cache
cache = store_cache(sys.argv[1]) if sys.argv[1] else None
print(json.dumps([hash_dataset(p, cache) for p in sys.argv[2:]]))
`;
  const r = spawnSync('python3', ['-c', script, store ?? '', ...paths], {
    encoding: 'utf8', env: { ...process.env, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function write(dir: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
}

/** A tree with nested folders, empty files, non-ASCII names and every kind of symlink. */
function makeTree(): { root: string; data: string } {
  const root = tempDir('runlens-digest-');
  const data = join(root, 'data');
  write(data, {
    'a.txt': 'alpha\n',
    'a/b.txt': 'beta\n', // '.' < '/': a.txt sorts before a/b.txt
    'B.txt': 'upper\n',
    'empty.bin': '',
    'deep/x/y/z.csv': 'x,y\n1,2\n',
    'deep/x/empty': '',
    'é.txt': 'accent\n',
    'ü/naïve data.csv': 'n\n', // a space and non-ASCII in a folder name
    '\uff01.txt': 'fullwidth\n', // U+FF01 sorts before U+1F600 by code point, after it by UTF-16 unit
    '\u{1f600}.txt': 'emoji\n',
    'bin/blob': Buffer.from([0, 1, 2, 255, 254, 0]),
  });
  mkdirSync(join(data, 'empty-dir'));
  write(root, { 'outside.txt': 'outside\n', 'outside-dir/f.txt': 'f\n' });
  symlinkSync('a.txt', join(data, 'link-to-a.txt')); // inside: hashed under the link's path
  symlinkSync('../../é.txt', join(data, 'deep/x/up-link')); // inside, through ..
  symlinkSync('../outside.txt', join(data, 'link-out.txt')); // leaves the root: skipped
  symlinkSync('deep', join(data, 'link-to-dir')); // a directory: skipped
  symlinkSync('missing.txt', join(data, 'dangling')); // skipped
  symlinkSync('loop-b', join(data, 'loop-a'));
  symlinkSync('loop-a', join(data, 'loop-b')); // a loop: skipped
  return { root, data };
}

test('the helper hashes a tree (nested, symlinks, empty files, non-ASCII names) to the extension\'s digest', async () => {
  const { root, data } = makeTree();
  const ts = await hashDataset(data);
  const [py] = pythonHashes([data]);
  assert.equal(py.kind, 'directory');
  assert.deepEqual(py.files, ts.files, 'the same files, in the same order, with the same hashes and sizes');
  assert.equal(py.digest, ts.digest);
  assert.equal(py.fileCount, ts.fileCount);
  assert.equal(py.bytes, ts.bytes);
  // the tree has what the test means it to have
  const paths = ts.files.map((f) => f.path);
  for (const p of ['link-to-a.txt', 'deep/x/up-link', 'empty.bin', 'deep/x/empty', 'ü/naïve data.csv', '\u{1f600}.txt']) assert.ok(paths.includes(p), p);
  for (const p of ['link-out.txt', 'link-to-dir', 'dangling', 'loop-a']) assert.ok(!paths.includes(p), p);
  assert.ok(paths.indexOf('\uff01.txt') < paths.indexOf('\u{1f600}.txt'), 'code point order');
  // a single file, an empty folder, and a folder reached through a symlink
  mkdirSync(join(root, 'nothing'));
  symlinkSync('data', join(root, 'data-link'));
  const targets = [join(data, 'é.txt'), join(data, 'empty.bin'), join(root, 'nothing'), join(root, 'data-link')];
  const pys = pythonHashes(targets);
  for (const [i, target] of targets.entries()) {
    const t = await hashDataset(target);
    assert.equal(pys[i].kind, t.kind, target);
    assert.equal(pys[i].digest, t.digest, target);
    assert.deepEqual(pys[i].files, t.files, target);
  }
});

test('a digest changes on both sides alike when one byte or one name changes', async () => {
  const { data } = makeTree();
  const before = (await hashDataset(data)).digest;
  writeFileSync(join(data, 'deep/x/y/z.csv'), 'x,y\n1,3\n');
  write(data, { 'ü/another.txt': '' });
  const ts = await hashDataset(data);
  assert.notEqual(ts.digest, before);
  assert.equal(pythonHashes([data])[0].digest, ts.digest);
});

test('the helper reads the extension\'s hash cache: an unchanged stamp gives the cached hash', async () => {
  const { root, data } = makeTree();
  const file = join(data, 'deep/x/y/z.csv');
  const old = new Date(Date.now() - 3600_000);
  utimesSync(file, old, old); // settled: the extension caches it
  const store = join(root, '.runlens');
  const s = Store.open(store);
  const cached = (await hashDataset(data, { cache: s.provenance.hashCache() })).files.find((f) => f.path === 'deep/x/y/z.csv')!;
  s.close();
  // same size and mtime, other bytes: only a stamp cache can still give the old hash
  const st = statSync(file);
  writeFileSync(file, 'x,y\n9,9\n');
  utimesSync(file, st.atime, st.mtime);
  const [withCache] = pythonHashes([data], store);
  const [without] = pythonHashes([data]);
  const pick = (h: any) => h.files.find((f: any) => f.path === 'deep/x/y/z.csv').sha256;
  assert.equal(pick(withCache), cached.sha256, 'the cached hash');
  assert.notEqual(pick(without), cached.sha256, 'without the cache, the new content');
  const reopened = Store.open(store);
  try {
    assert.equal((await hashDataset(data, { cache: reopened.provenance.hashCache() })).digest, withCache.digest, 'the same digest as the extension with its cache');
  } finally {
    reopened.close();
  }
});
