import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { tempDir } from './helpers.ts';

test('blobs are stored once by content and read back byte for byte', () => {
  const store = Store.open(tempDir());
  const patch = 'diff --git a/train.py b/train.py\n-lr = 0.1\n+lr = 0.3\n';
  const a = store.provenance.putBlob(patch);
  const b = store.provenance.putBlob(Buffer.from(patch));
  assert.equal(a, b);
  assert.equal(a, createHash('sha256').update(patch).digest('hex'));
  assert.equal(store.provenance.blob(a)!.toString('utf8'), patch);
  assert.equal(store.provenance.blob('0'.repeat(64)), undefined);
  store.close();
});

test('a run keeps its provenance and dataset hashes, and loses them with the run', () => {
  const store = Store.open(tempDir());
  const run = store.runs.create({ name: 'p' });
  store.provenance.set(run.id, {
    gitRemote: 'https://example.com/x.git', patchSha256: store.provenance.putBlob('patch'), untracked: [{ path: 'new.py', size: 3 }, { path: '.env', size: 9, skipped: 'secret' }],
    interpreter: '/usr/bin/python3', interpreterVersion: 'Python 3.11.7', os: 'linux', hostname: 'h', gpu: [],
    commandLine: 'python3 train.py', env: { HOME: '/root', WANDB_API_KEY: '<redacted>' },
  });
  store.provenance.setDataset(run.id, { path: 'data', kind: 'directory', digest: 'd'.repeat(64), fileCount: 2, bytes: 10,
    files: [{ path: 'a.csv', sha256: 'a'.repeat(64), size: 4 }, { path: 'b.csv', sha256: 'b'.repeat(64), size: 6 }] });
  const p = store.provenance.get(run.id)!;
  assert.equal(p.interpreterVersion, 'Python 3.11.7');
  assert.deepEqual(p.untracked, [{ path: 'new.py', size: 3 }, { path: '.env', size: 9, skipped: 'secret' }], 'skipped secrets are listed by name');
  assert.deepEqual(p.env, { HOME: '/root', WANDB_API_KEY: '<redacted>' });
  assert.deepEqual(store.provenance.datasets(run.id)[0]!.files.map((f) => f.path), ['a.csv', 'b.csv']);
  store.runs.delete(run.id);
  assert.equal(store.provenance.get(run.id), undefined);
  assert.deepEqual(store.provenance.datasets(run.id), []);
  store.close();
});

test('the hash cache answers only while device, inode, size and mtime are unchanged', () => {
  const store = Store.open(tempDir());
  const cache = store.provenance.hashCache();
  const stamp = { dev: 1, ino: 2, size: 3, mtimeNs: 1_700_000_000_123_456_789n };
  cache.set('/data/a.csv', stamp, 'f'.repeat(64));
  assert.equal(cache.get('/data/a.csv', stamp), 'f'.repeat(64));
  assert.equal(cache.get('/data/a.csv', { ...stamp, mtimeNs: stamp.mtimeNs + 1n }), undefined, 'nanosecond precision');
  assert.equal(cache.get('/data/a.csv', { ...stamp, size: 4 }), undefined);
  assert.equal(cache.get('/data/b.csv', stamp), undefined);
  store.close();
});
