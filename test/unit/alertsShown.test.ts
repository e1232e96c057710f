import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { HealthMonitor } from '../../src/core/health/healthMonitor.ts';
import { resolveRules } from '../../src/core/health/rules.ts';
import { buildModel } from '../../src/core/compare/modelCache.ts';
import { loadRuns } from '../../src/core/compare/compareData.ts';
import { lineage } from '../../src/core/models/lineage.ts';
import { lineagePage } from '../../src/core/models/lineagePage.ts';
import { series, tempDir } from './helpers.ts';

/** A run whose loss goes NaN at step 3, its points and alert stored as ingest stores them (rules in the same transaction). */
function nanRun(store: Store, name: string, nanAt: number | null) {
  const run = store.runs.create({ name });
  const values = [0.9, 0.7, 0.5, 0.4, 0.3];
  const points = series(0, values.length, (step) => (step === nanAt ? NaN : values[step]!));
  const health = new HealthMonitor(store, run, resolveRules(undefined));
  store.transaction(() => {
    store.metrics.append(run.id, 'loss', points);
    health.ingest([['loss', points]]);
  });
  store.runs.update(run.id, { status: 'finished', endedAt: Date.now() });
  return store.runs.get(run.id)!;
}

test('a run\'s alerts show in Compare\'s provenance (the newest, with the count) and on its version\'s lineage page', () => {
  const store = Store.open(join(tempDir(), '.runlens'));
  const bad = nanRun(store, 'goes-nan', 3);
  const good = nanRun(store, 'fine', null);
  assert.equal(store.alerts.list(bad.id).length, 1, 'the NaN rule fired once');

  const model = buildModel(store, loadRuns(store, [bad.id, good.id]));
  const [p1, p2] = model.provenance;
  assert.equal(p1!.alertCount, 1);
  assert.deepEqual(p1!.alerts.map((a) => [a.rule, a.key, a.step]), [['nan', 'loss', 3]]);
  assert.match(p1!.alerts[0]!.message, /loss is NaN at step 3/);
  assert.deepEqual([p2!.alerts, p2!.alertCount], [[], 0]);
  assert.deepEqual(JSON.parse(JSON.stringify(model.provenance)), model.provenance, 'it survives the message');

  const v = store.models.register({
    model: 'm', runId: bad.id, artifactId: null, path: 'model.bin', kind: 'file', digest: 'a'.repeat(64), size: 1, fileCount: 1,
    params: {}, metrics: store.metrics.summaries(bad.id),
  });
  const l = lineage(store, v.id);
  assert.equal(l.alerts.length, 1);
  const html = lineagePage(l, { cspSource: 'x', style: 's.css' });
  assert.match(html, /<dt>Alerts<\/dt><dd><p class="changed alert">⚠ loss is NaN at step 3/);
  const clean = store.models.register({
    model: 'm', runId: good.id, artifactId: null, path: 'model.bin', kind: 'file', digest: 'b'.repeat(64), size: 1, fileCount: 1,
    params: {}, metrics: store.metrics.summaries(good.id),
  });
  assert.ok(!lineagePage(lineage(store, clean.id), { cspSource: 'x', style: 's.css' }).includes('<dt>Alerts</dt>'), 'no alerts row without alerts');
  store.close();
});

test('two windows on one store: the first to claim an alert\'s notice tells it, the other does not, and a reopened store remembers', () => {
  const dir = join(tempDir(), '.runlens');
  const one = Store.open(dir);
  const two = Store.open(dir);
  const run = nanRun(one, 'goes-nan', 2);
  const [a] = two.alerts.since(0);
  assert.ok(a, 'the other window sees the alert');
  assert.equal(two.alerts.claimNotice(a), true, 'the first claim');
  assert.equal(one.alerts.claimNotice(one.alerts.list(run.id)[0]!), false, 'the other window: told already');
  assert.equal(two.alerts.claimNotice({ runId: run.id, rule: 'nan', key: 'other' }), true, 'another key is news');
  one.close();
  two.close();
  const again = Store.open(dir);
  assert.equal(again.alerts.claimNotice(a), false, 'after a reload too');
  again.close();
});
