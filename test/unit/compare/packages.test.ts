// Compare's packages rows: only the packages that differ travel, each distinct set once, checked on
// the webview's side; a set recorded when a run ends arrives as a delta.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '../../../src/core/store/store.ts';
import type { Packages } from '../../../src/core/provenance/packages.ts';
import { CompareFeed } from '../../../src/core/compare/compareFeed.ts';
import { loadRuns } from '../../../src/core/compare/compareData.ts';
import { buildModel } from '../../../src/core/compare/modelCache.ts';
import { applyModelDelta } from '../../../src/core/compare/modelDelta.ts';
import { checkPackagesTable, differingPackages } from '../../../src/core/compare/packageRows.ts';
import { type CompareModel, type HostMessage, ProtocolError } from '../../../src/core/compare/protocol.ts';
import { tempDir } from '../helpers.ts';

/** 300 packages as a real environment has them, plus the given ones. */
function env(extra: [string, string][], conda: string | null = null): Packages {
  const filler: [string, string][] = Array.from({ length: 300 }, (_, i) => [`pkg-${String(i).padStart(3, '0')}`, `1.${i}.0`]);
  return { conda, list: [...filler, ...extra] };
}

const A = env([['numpy', '1.26.4'], ['torch', '2.3.0'], ['pyyaml', '6.0.1'], ['scipy', '1.13.0']]);
const B = env([['numpy', '1.26.4'], ['torch', '2.4.1'], ['pyyaml', '6.0.2'], ['einops', '0.8.0']], 'ml');

function runsWith(store: Store, sets: (Packages | null)[]): number[] {
  return sets.map((p, i) => {
    const run = store.runs.create({ name: `run-${i}`, status: 'finished', startedAt: 1 });
    if (p) store.packages.set(run.id, p);
    return run.id;
  });
}

test('the model carries each distinct set once: its count, conda env and only the differing packages', () => {
  const store = Store.open(tempDir());
  const ids = runsWith(store, [A, B, A, null]);
  const model = buildModel(store, loadRuns(store, ids));
  const t = model.packages;
  assert.deepEqual(t.runs, [0, 1, 0, null], 'runs 0 and 2 share a set; run 3 recorded none');
  assert.deepEqual(t.sets.map((s) => [s.count, s.conda]), [[304, null], [304, 'ml']]);
  assert.deepEqual(t.names, ['einops', 'pyyaml', 'scipy', 'torch'], 'by normalized name; numpy and the 300 equal ones are not sent');
  assert.deepEqual(t.sets[0]!.versions, [null, '6.0.1', '1.13.0', '2.3.0']);
  assert.deepEqual(t.sets[1]!.versions, ['0.8.0', '6.0.2', null, '2.4.1']);
  const bytes = JSON.stringify(t).length;
  const full = JSON.stringify([A, B, A]).length;
  assert.ok(bytes < 250 && bytes * 40 < full, `${bytes} bytes on the wire for ${full} bytes of lists`);
  store.close();
});

test('one set, or no sets: nothing differs and no names are sent', () => {
  const store = Store.open(tempDir());
  const same = buildModel(store, loadRuns(store, runsWith(store, [A, A, A])));
  assert.deepEqual(same.packages, { runs: [0, 0, 0], sets: [{ count: 304, conda: null, versions: [] }], names: [] });
  const none = buildModel(store, loadRuns(store, runsWith(store, [null, null])));
  assert.deepEqual(none.packages, { runs: [null, null], sets: [], names: [] });
  store.close();
});

test('the webview lists the packages that differ among the runs it shows, and only those', () => {
  const store = Store.open(tempDir());
  const ids = runsWith(store, [A, B, A, null]);
  const t = buildModel(store, loadRuns(store, ids)).packages;
  assert.deepEqual(differingPackages(t, [0, 2]), [], 'two runs with the same set');
  assert.deepEqual(differingPackages(t, [0, 3]), [], 'a run that recorded nothing makes no difference');
  assert.deepEqual(differingPackages(t, [3, 1, 0]), [
    { name: 'einops', versions: [null, '0.8.0', null] },
    { name: 'pyyaml', versions: [null, '6.0.2', '6.0.1'] },
    { name: 'scipy', versions: [null, null, '1.13.0'] },
    { name: 'torch', versions: [null, '2.4.1', '2.3.0'] },
  ], 'in the order shown; null where not installed or not recorded');
  store.close();
});

test('a packages table that does not fit the model is refused, in a delta too', () => {
  const store = Store.open(tempDir());
  const ids = runsWith(store, [A, B]);
  const model = buildModel(store, loadRuns(store, ids));
  assert.deepEqual(checkPackagesTable(model.packages, 2), model.packages);
  const bad: unknown[] = [
    null, { runs: [0, 1], sets: model.packages.sets },
    { ...model.packages, runs: [0] },
    { ...model.packages, runs: [0, 2] },
    { ...model.packages, runs: [0, 0.5] },
    { ...model.packages, names: ['torch'] },
    { ...model.packages, sets: [{ count: -1, conda: null, versions: [] }] },
    { ...model.packages, sets: model.packages.sets.map((s) => ({ ...s, versions: s.versions.map(() => 7) })) },
  ];
  for (const t of bad) assert.throws(() => checkPackagesTable(t, 2), ProtocolError, JSON.stringify(t)?.slice(0, 60));
  const before = JSON.stringify(model);
  assert.throws(() => applyModelDelta(model, { runs: [], packages: { runs: [0], sets: [], names: [] } }), ProtocolError);
  assert.equal(JSON.stringify(model), before);
  store.close();
});

test('packages recorded when a run ends reach the webview as a delta, and the result is a fresh build', () => {
  const store = Store.open(tempDir());
  const [a] = runsWith(store, [A]);
  const live = store.runs.create({ name: 'live', status: 'running', startedAt: 1 });
  const ids = [a!, live.id];
  const sent: HostMessage[] = [];
  const feed = new CompareFeed({ store: () => store, primaryMetric: () => undefined, post: (m) => sent.push(structuredClone(m)), later: () => {} });
  feed.runIds = ids;
  feed.sendModel();
  let model = (sent[0] as Extract<HostMessage, { type: 'model' }>).model;
  assert.deepEqual(model.packages.runs, [0, null]);

  store.runs.update(live.id, { status: 'finished', endedAt: 2 });
  feed.update({ kinds: new Set(['runs']), external: false });
  store.packages.set(live.id, B); // its own write, after the run ended (as RunController records it)
  sent.length = 0;
  feed.update({ kinds: new Set(['runs']), external: false });
  const deltas = sent.filter((m) => m.type === 'modelDelta');
  assert.equal(deltas.length, 1);
  const delta = (deltas[0] as Extract<HostMessage, { type: 'modelDelta' }>).delta;
  assert.ok(delta.packages, 'the table travels when a set changed');
  model = applyModelDelta(model, delta);
  const fresh: CompareModel = buildModel(store, loadRuns(store, ids));
  assert.deepEqual(model.packages, fresh.packages);
  assert.deepEqual(model.packages.names, ['einops', 'pyyaml', 'scipy', 'torch']);

  sent.length = 0;
  feed.update({ kinds: new Set(['runs']), external: false });
  assert.deepEqual(sent, [], 'nothing new: nothing sent');
  store.close();
});
