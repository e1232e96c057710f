import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import { recordPackages } from '../../src/core/runs/inbox.ts';
import { runFolder } from '../../src/core/runs/runProcess.ts';
import { type Packages, canonicalPackages, diffPackages, packagesHash } from '../../src/core/provenance/packages.ts';
import { checkPackages, currentPackages } from '../../src/core/reproduce/packages.ts';
import { tempDir } from './helpers.ts';

const helperDir = join(import.meta.dirname, '..', '..', 'media', 'python');

const SETS: Packages[] = [
  { conda: null, list: [['numpy', '1.26.4'], ['torch', '2.3.0']] },
  { conda: null, list: [['numpy', '2.0.0'], ['torch', '2.3.0']] },
  { conda: 'ml', list: [['numpy', '1.26.4'], ['torch', '2.3.0']] }, // same list, another environment
];

/** What the helper writes next to a launched run's metrics file. */
function writePackagesJson(storeDir: string, uid: string, p: Packages | string): void {
  const f = runFolder(storeDir, uid);
  mkdirSync(f.dir, { recursive: true });
  writeFileSync(f.packages, typeof p === 'string' ? p : JSON.stringify(p));
}

test('1,000 runs with 3 distinct package sets store 3 sets; recording again changes nothing', () => {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  const store = Store.open(storeDir);
  const runs = store.transaction(() => Array.from({ length: 1000 }, (_, i) => store.runs.create({ name: `r${i}`, status: 'running' })));
  runs.forEach((run, i) => {
    const set = SETS[i % 3]!;
    // Order as listed differs from run to run: the set is the same.
    writePackagesJson(storeDir, run.uid, i % 2 ? set : { conda: set.conda, list: [...set.list].reverse() });
  });
  const record = () => store.transaction(() => runs.map((run) => recordPackages(store, storeDir, run)));
  assert.ok(record().every((p) => p !== undefined));
  const db = new Database(store.file, { readonly: true });
  const sets = () => db.prepare('SELECT count(*) FROM package_sets').pluck().get();
  assert.equal(sets(), 3);
  assert.equal(db.prepare('SELECT count(*) FROM run_packages').pluck().get(), 1000);
  record();
  assert.equal(sets(), 3, 'idempotent');
  assert.equal(db.prepare('SELECT count(*) FROM run_packages').pluck().get(), 1000);
  db.close();
  assert.deepEqual(store.packages.get(runs[4]!.id), SETS[1]);
  assert.equal(store.packages.hash(runs[0]!.id), store.packages.hash(runs[3]!.id));
  assert.notEqual(store.packages.hash(runs[0]!.id), store.packages.hash(runs[2]!.id), 'the conda environment is part of the set');
  // Deleting the run drops its link, not the set others use.
  store.runs.delete(runs[0]!.id);
  assert.equal(store.packages.get(runs[0]!.id), undefined);
  assert.deepEqual(store.packages.get(runs[3]!.id), SETS[0]);
  store.close();
});

test('recordPackages: no file, nothing recorded; a bad file names itself and what is wrong', () => {
  const storeDir = join(tempDir(), '.runlens');
  const store = Store.open(storeDir);
  const run = store.runs.create({ status: 'running' });
  assert.equal(recordPackages(store, storeDir, run), undefined);
  writePackagesJson(storeDir, run.uid, '{"conda": null, "list": [["numpy", 1]]}');
  assert.throws(() => recordPackages(store, storeDir, run), (err: Error) =>
    err.message.includes(runFolder(storeDir, run.uid).packages) && /packages.list\[0\] must be a \[name, version\] pair/.test(err.message));
  writePackagesJson(storeDir, run.uid, '{"conda": null, "list": [');
  assert.throws(() => recordPackages(store, storeDir, run), /packages\.json: .*JSON/);
  assert.equal(store.packages.get(run.id), undefined);
  store.close();
});

test('diff: added, removed and changed by normalized name (PyYAML is pyyaml), and the conda environment', () => {
  const storeDir = join(tempDir(), '.runlens');
  const store = Store.open(storeDir);
  const [a, b, c] = [store.runs.create(), store.runs.create(), store.runs.create()];
  store.packages.set(a.id, { conda: 'base', list: [['numpy', '1.26.4'], ['PyYAML', '6.0'], ['typing_extensions', '4.9.0'], ['scipy', '1.11.0']] });
  store.packages.set(b.id, { conda: 'ml', list: [['numpy', '2.0.0'], ['pyyaml', '6.0'], ['typing-extensions', '4.12.2'], ['torch', '2.3.0']] });
  assert.deepEqual(store.packages.diff(a.id, b.id), {
    added: [{ name: 'torch', from: null, to: '2.3.0' }],
    removed: [{ name: 'scipy', from: '1.11.0', to: null }],
    changed: [{ name: 'numpy', from: '1.26.4', to: '2.0.0' }, { name: 'typing-extensions', from: '4.9.0', to: '4.12.2' }],
    conda: { from: 'base', to: 'ml' },
  });
  assert.deepEqual(store.packages.diff(a.id, a.id), { added: [], removed: [], changed: [] });
  assert.equal(store.packages.diff(a.id, c.id), undefined, 'nothing to compare when one run has none');
  store.close();
});

test('the canonical form and its hash do not depend on order or repeats', () => {
  const p: Packages = { conda: null, list: [['b', '1'], ['A', '2'], ['b', '1'], ['a_b', '3']] };
  assert.deepEqual(canonicalPackages(p).list, [['A', '2'], ['a_b', '3'], ['b', '1']]);
  assert.equal(packagesHash(p), packagesHash({ conda: null, list: [['a_b', '3'], ['b', '1'], ['A', '2']] }));
  assert.notEqual(packagesHash(p), packagesHash({ conda: null, list: [['a_b', '3'], ['b', '2'], ['A', '2']] }));
  // One name twice (two site folders): both versions are shown, not one at random.
  assert.deepEqual(diffPackages({ conda: null, list: [['x', '1'], ['x', '2']] }, { conda: null, list: [['x', '2']] }).changed,
    [{ name: 'x', from: '1, 2', to: '2' }]);
});

test('Reproduce: the packages that differ between the recorded set and the interpreter now', async () => {
  const now = await currentPackages('python3', helperDir);
  assert.ok(now.list.length > 0, 'python3 lists its distributions');
  assert.deepEqual(now.list, canonicalPackages(now).list, 'once per name, sorted as stored');
  assert.deepEqual(checkPackages(now, now), { recorded: true, same: true, diff: { added: [], removed: [], changed: [] } });
  const [first, ...rest] = now.list;
  const recorded: Packages = { conda: now.conda, list: [[first![0], `${first![1]}.old`], ...rest, ['gone-package', '1.0']] };
  const check = checkPackages(recorded, now);
  assert.equal(check.same, false);
  assert.deepEqual(check.diff!.changed, [{ name: first![0], from: `${first![1]}.old`, to: first![1] }]);
  assert.deepEqual(check.diff!.removed, [{ name: 'gone-package', from: '1.0', to: null }]);
  assert.deepEqual(checkPackages(undefined, now), { recorded: false, same: true, diff: null });
  await assert.rejects(currentPackages(join(tempDir(), 'no-python'), helperDir), /could not list the packages of .*no-python/);
});
