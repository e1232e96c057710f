import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync, cpSync, mkdirSync, readdirSync, renameSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import {
  changedFiles, hashDataset, MemoryHashCache, type FileStamp, type HashCache,
} from '../../src/core/provenance/datasetHash.ts';
import { tempDir } from './helpers.ts';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

const TREE: Record<string, string> = {
  'a.txt': 'alpha\n',
  'a/b.txt': 'beta\n', // '.' < '/', so a.txt sorts before a/b.txt (a per-directory walk would not)
  'B.txt': 'upper\n',
  'empty.bin': '',
  'deep/x/y/z.csv': 'x,y\n1,2\n',
  'é.txt': 'accent\n',
  '\uff01.txt': 'fullwidth\n', // U+FF01 sorts before U+1F600 by code point, after it by UTF-16 unit
  '\u{1f600}.txt': 'emoji\n',
};

function writeTree(dir: string, files: Record<string, string | Buffer> = TREE): string {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

/** Sets every file's mtime an hour back, so the hasher treats it as settled and caches it. */
function backdate(dir: string, secondsAgo = 3600): void {
  const t = Date.now() / 1000 - secondsAgo;
  for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (statSync(join(dir, rel)).isFile()) utimesSync(join(dir, rel), t, t);
  }
}

/** The documented rule, computed independently: sort by UTF-8 bytes, sha256 of "<sha>  <path>\n" lines. */
function expectedDigest(files: Record<string, string | Buffer>): string {
  const rels = Object.keys(files).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return sha(rels.map((r) => `${sha(files[r]!)}  ${r}\n`).join(''));
}

test('a file hashes to the sha256 of its bytes', async () => {
  const file = join(tempDir(), 'weights.bin');
  const bytes = randomBytes(3 * 1024 * 1024 + 17); // several read slices, each different
  writeFileSync(file, bytes);
  const h = await hashDataset(file);
  assert.equal(h.kind, 'file');
  assert.equal(h.digest, sha(bytes));
  assert.deepEqual(h.files, [{ path: 'weights.bin', sha256: sha(bytes), size: bytes.length }]);
  assert.equal(h.fileCount, 1);
  assert.equal(h.bytes, bytes.length);
  assert.equal(h.root, file);
});

test('a directory hashes to sha256 of "<sha256>  <relpath>" lines in code point order', async () => {
  const dir = writeTree(tempDir());
  const h = await hashDataset(dir);
  assert.equal(h.kind, 'directory');
  assert.deepEqual(h.files.map((f) => f.path), ['B.txt', 'a.txt', 'a/b.txt', 'deep/x/y/z.csv', 'empty.bin', 'é.txt', '\uff01.txt', '\u{1f600}.txt']);
  assert.equal(h.digest, expectedDigest(TREE));
  assert.equal(h.fileCount, 8);
  assert.equal(h.bytes, Object.values(TREE).reduce((n, c) => n + Buffer.byteLength(c), 0));
  assert.equal(h.files.find((f) => f.path === 'deep/x/y/z.csv')?.sha256, sha('x,y\n1,2\n'));
});

test('the directory digest equals sha256 of what sha256sum prints for the sorted file list', async (t) => {
  if (spawnSync('sha256sum', ['--version']).status !== 0) return t.skip('sha256sum not installed');
  const dir = writeTree(tempDir());
  const listing = execFileSync('bash', ['-c', "find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum --"], { cwd: dir });
  assert.equal(listing.toString().split('\n').length, 9, 'eight lines and a trailing newline');
  assert.equal((await hashDataset(dir)).digest, sha(listing));
});

test('an empty directory has the digest of empty input', async () => {
  const h = await hashDataset(tempDir());
  assert.equal(h.digest, sha(''));
  assert.equal(h.fileCount, 0);
  assert.equal(h.bytes, 0);
  assert.deepEqual(h.files, []);
});

test('the same content in another directory gets the same digest', async () => {
  const a = writeTree(tempDir());
  const b = join(tempDir(), 'elsewhere', 'copy');
  cpSync(a, b, { recursive: true });
  const [ha, hb] = [await hashDataset(a), await hashDataset(b)];
  assert.notEqual(ha.root, hb.root);
  assert.equal(hb.digest, ha.digest);
  assert.deepEqual(changedFiles(ha, hb), { added: [], removed: [], changed: [] });
});

test('renaming a file changes the digest', async () => {
  const dir = writeTree(tempDir());
  const before = await hashDataset(dir);
  renameSync(join(dir, 'a/b.txt'), join(dir, 'a/c.txt'));
  const after = await hashDataset(dir);
  assert.notEqual(after.digest, before.digest);
  assert.deepEqual(changedFiles(before, after), { added: ['a/c.txt'], removed: ['a/b.txt'], changed: [] });
});

test('changing one byte changes the digest, and changedFiles names that file only', async () => {
  const dir = writeTree(tempDir());
  const before = await hashDataset(dir);
  writeFileSync(join(dir, 'deep/x/y/z.csv'), 'x,y\n1,3\n');
  const after = await hashDataset(dir);
  assert.notEqual(after.digest, before.digest);
  assert.equal(after.bytes, before.bytes);
  assert.deepEqual(changedFiles(before, after), { added: [], removed: [], changed: ['deep/x/y/z.csv'] });
});

test('re-hashing an unchanged tree takes every hash from the cache', async () => {
  const dir = writeTree(tempDir());
  backdate(dir);
  const cache = new MemoryHashCache();
  const first = await hashDataset(dir, { cache });
  assert.equal(first.cachedFiles, 0);
  assert.equal(cache.entries.size, 8);
  const second = await hashDataset(dir, { cache });
  assert.equal(second.cachedFiles, second.fileCount);
  assert.equal(second.digest, first.digest);
  assert.deepEqual(second.files, first.files);
});

test('a cached hash is used without reading the file when the stamp matches', async () => {
  const dir = writeTree(tempDir(), { 'x.bin': 'real content' });
  const stamps: FileStamp[] = [];
  const fake: HashCache = {
    get: (_path, stamp) => { stamps.push(stamp); return 'f'.repeat(64); },
    set: () => assert.fail('nothing to store'),
  };
  const h = await hashDataset(dir, { cache: fake });
  assert.equal(h.files[0]!.sha256, 'f'.repeat(64));
  assert.equal(h.cachedFiles, 1);
  const st = statSync(join(dir, 'x.bin'), { bigint: true });
  assert.deepEqual(stamps, [{ dev: Number(st.dev), ino: Number(st.ino), size: 12, mtimeNs: st.mtimeNs }]);
});

test('touching one file re-hashes only that file, and the digest stays the same', async () => {
  const dir = writeTree(tempDir());
  backdate(dir);
  const cache = new MemoryHashCache();
  const first = await hashDataset(dir, { cache });
  backdate(join(dir, 'a'), 1800); // a/b.txt gets a new mtime, same content
  const second = await hashDataset(dir, { cache });
  assert.equal(second.cachedFiles, first.fileCount - 1);
  assert.equal(second.digest, first.digest);
});

test('a file modified in the last seconds is hashed but not cached (its mtime may not change on the next write)', async () => {
  const dir = writeTree(tempDir(), { 'old.txt': 'old', 'new.txt': 'new' });
  backdate(dir);
  writeFileSync(join(dir, 'new.txt'), 'newer');
  const cache = new MemoryHashCache();
  await hashDataset(dir, { cache });
  assert.deepEqual([...cache.entries.keys()], [join(dir, 'old.txt')]);
  const again = await hashDataset(dir, { cache });
  assert.equal(again.cachedFiles, 1);
  assert.equal(again.files.find((f) => f.path === 'new.txt')?.sha256, sha('newer'));
});

test('MemoryHashCache misses when any part of the stamp differs', () => {
  const cache = new MemoryHashCache();
  const stamp: FileStamp = { dev: 1, ino: 2, size: 3, mtimeNs: 4n };
  cache.set('/d/f', stamp, 'abc');
  assert.equal(cache.get('/d/f', { ...stamp }), 'abc');
  for (const other of [{ dev: 9 }, { ino: 9 }, { size: 9 }, { mtimeNs: 9n }]) assert.equal(cache.get('/d/f', { ...stamp, ...other }), undefined);
  assert.equal(cache.get('/d/g', stamp), undefined);
});

test('symlinks are followed only to files inside the root; special files are skipped', { timeout: 10_000 }, async (t) => {
  const base = tempDir();
  const outside = writeTree(join(base, 'outside'), { 'secret.txt': 'not part of the dataset' });
  const dir = writeTree(join(base, 'data'), { 'real.txt': 'inside', 'sub/more.txt': 'more' });
  symlinkSync(join(outside, 'secret.txt'), join(dir, 'out-abs.txt'));
  symlinkSync('../outside/secret.txt', join(dir, 'out-rel.txt'));
  symlinkSync(outside, join(dir, 'out-dir'));
  symlinkSync('real.txt', join(dir, 'in-link.txt'));
  symlinkSync('sub', join(dir, 'in-dir')); // directory links are not followed: no duplicates, no cycles
  symlinkSync('missing.txt', join(dir, 'dangling.txt'));
  symlinkSync('.', join(dir, 'loop'));
  execFileSync('mkfifo', [join(dir, 'pipe')]); // opening a fifo would block forever
  const server = createServer();
  await new Promise<void>((ok) => server.listen(join(dir, 'sock'), ok));
  t.after(() => server.close());

  const h = await hashDataset(dir);
  assert.deepEqual(h.files.map((f) => f.path), ['in-link.txt', 'real.txt', 'sub/more.txt']);
  assert.equal(h.files[0]!.sha256, sha('inside'));
  assert.equal(h.digest, expectedDigest({ 'in-link.txt': 'inside', 'real.txt': 'inside', 'sub/more.txt': 'more' }));
});

test('a dataset root reached through a symlink hashes like the real folder', async () => {
  const base = tempDir();
  const dir = writeTree(join(base, 'real'), { 'a.txt': 'a', 'b.txt': 'b' });
  symlinkSync('a.txt', join(dir, 'c.txt'));
  symlinkSync(dir, join(base, 'link'));
  const [real, viaLink] = [await hashDataset(dir), await hashDataset(join(base, 'link'))];
  assert.equal(viaLink.fileCount, 3);
  assert.equal(viaLink.digest, real.digest);
});

test('aborting mid-way through a big file throws AbortError', async () => {
  const file = join(tempDir(), 'big.bin');
  writeFileSync(file, '');
  truncateSync(file, 1 << 30); // 1 GB sparse: instant to create; the first progress report comes after 100 ms
  const ac = new AbortController();
  const seen: [number, number][] = [];
  const started = performance.now();
  await assert.rejects(hashDataset(file, {
    signal: ac.signal,
    onProgress: (done, total) => { seen.push([done, total]); if (done > 0) ac.abort(); },
  }), (err: Error) => err.name === 'AbortError' && /hashing cancelled/.test(err.message));
  const last = seen.at(-1)!;
  assert.ok(last[0] > 0 && last[0] < last[1], `stopped part way: ${last}`);
  assert.ok(performance.now() - started < 2000, 'stopped promptly');
});

test('an already aborted signal throws AbortError before reading', async () => {
  const dir = writeTree(tempDir());
  await assert.rejects(hashDataset(dir, { signal: AbortSignal.abort() }), { name: 'AbortError', message: 'hashing cancelled' });
});

test('progress is reported a few times a second, ending at the total', async () => {
  const file = join(tempDir(), 'big.bin');
  writeFileSync(file, '');
  truncateSync(file, 300 << 20);
  const seen: [number, number][] = [];
  const started = performance.now();
  await hashDataset(file, { onProgress: (done, total) => seen.push([done, total]) });
  const ms = performance.now() - started;
  assert.deepEqual(seen[0], [0, 300 << 20]);
  assert.deepEqual(seen.at(-1), [300 << 20, 300 << 20]);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]![0] >= seen[i - 1]![0], 'never goes back');
  assert.ok(seen.length <= 3 + ms / 100, `${seen.length} calls in ${ms.toFixed(0)} ms`);
});

test('a missing path is an error naming the path', async () => {
  const missing = join(tempDir(), 'no-such-dataset');
  await assert.rejects(hashDataset(missing), { message: `dataset not found: ${missing}` });
});

test('an unreadable file is an error naming the file', async () => {
  const dir = writeTree(tempDir(), { 'ok.txt': 'fine', 'locked/secret.bin': 'no' });
  const locked = join(dir, 'locked/secret.bin');
  chmodSync(locked, 0o000);
  if (process.getuid?.() !== 0) {
    await assert.rejects(hashDataset(dir), { message: `cannot read ${locked}: permission denied` });
    return;
  }
  // root reads anything, so hash as an unprivileged user in a child process. The child starts as root
  // and drops to uid 65534 only once Node and the module are loaded: the checkout (and Node in it)
  // may sit where that user cannot go, such as /root. The data is in the temp folder, opened up.
  for (let d = dir; d !== dirname(d); d = dirname(d)) if (d.includes('runlens-test-')) chmodSync(d, 0o755);
  const module = join(import.meta.dirname, '../../src/core/provenance/datasetHash.ts');
  const script = `import { hashDataset } from ${JSON.stringify(module)};
    process.setgroups([65534]); process.setgid(65534); process.setuid(65534);
    try { await hashDataset(${JSON.stringify(dir)}); console.log('no error'); } catch (e) { console.log(e.message); }`;
  const child = spawnSync(process.execPath, ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', '--input-type=module', '-e', script],
    { encoding: 'utf8' });
  assert.equal(child.stderr, '');
  assert.equal(child.stdout.trim(), `cannot read ${locked}: permission denied`);
});

test('changedFiles lists added, removed and changed paths', async () => {
  const dir = writeTree(tempDir(), { 'keep.txt': 'k', 'edit.txt': 'e1', 'gone.txt': 'g' });
  const before = await hashDataset(dir);
  writeTree(dir, { 'edit.txt': 'e2', 'new/one.txt': 'n' });
  renameSync(join(dir, 'gone.txt'), join(dir, 'new/gone.txt'));
  const after = await hashDataset(dir);
  assert.deepEqual(changedFiles(before, after), { added: ['new/gone.txt', 'new/one.txt'], removed: ['gone.txt'], changed: ['edit.txt'] });
});
