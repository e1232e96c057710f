// Models over time: evaluation runs come in through the inbox (as runlens.log_eval writes them), are
// linked to the version their reference names when adopted, and raise one degradation alert per
// (version, metric) when a value drops beyond the tolerance.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import { SCHEMA_VERSION } from '../../src/core/store/migrations.ts';
import { ArtifactCollector } from '../../src/core/artifacts/collector.ts';
import { adoptInbox } from '../../src/core/runs/inbox.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { lineage } from '../../src/core/models/lineage.ts';
import { lineagePage } from '../../src/core/models/lineagePage.ts';
import { EVAL_TAG, EVAL_UNLINKED_TAG, degradation, degradationSummaries, evaluationHistory } from '../../src/core/models/evaluations.ts';
import type { MetricSummary } from '../../src/core/types.ts';
import type { GateMetric } from '../../src/core/gate/gatesConfig.ts';
import { metricValue } from '../../src/core/format.ts';
import { inboxEntry, writeHelperRun } from './inboxFixture.ts';
import { tempDir } from './helpers.ts';

const MONTH = 30 * 86_400_000;
const T0 = Date.UTC(2026, 0, 15);

interface Ctx { ws: string; storeDir: string; store: Store }

function setup(yaml?: string): Ctx {
  const ws = tempDir('runlens-eval-');
  if (yaml) writeFileSync(join(ws, 'runlens.yaml'), yaml);
  const storeDir = join(ws, '.runlens');
  return { ws, storeDir, store: Store.open(storeDir) };
}

/** A finished helper run with `values` at step 0, ingested by the monitor, then registered as the next version of `model`. */
async function trained(c: Ctx, values: Record<string, number>, model = 'clf') {
  const cwd = join(c.ws, `train-${Math.random().toString(36).slice(2)}`);
  mkdirSync(cwd, { recursive: true });
  writeFileSync(join(cwd, 'model.bin'), cwd);
  const e = inboxEntry(cwd, { name: 'train' });
  writeHelperRun(c.storeDir, e, {
    'metrics.jsonl': `${JSON.stringify({ t: 1_700_000_001, step: 0, metrics: values })}\n`,
    'exit.json': JSON.stringify({ code: 0, signal: null, signalled: null, endedAt: 1_700_000_002_000 }),
  });
  assert.equal((await adoptInbox(c.store, c.storeDir)).adopted.length, 1);
  const monitor = new RunMonitor(c.store, c.storeDir, { parse: () => undefined });
  monitor.recover();
  monitor.dispose();
  const run = c.store.runs.getByUid(e.uid)!;
  assert.equal(run.status, 'finished');
  return new ArtifactCollector(c.store, c.store.objects).register(run.id, 'model.bin', model);
}

/** An evaluation run as log_eval writes it, adopted. */
async function evaluate(c: Ctx, ref: number | string, metrics: Record<string, number>, at: number, model = 'clf') {
  const e = inboxEntry(c.ws, { name: `eval ${ref}`, startedAt: at, eval: { model, ref, metrics } });
  writeHelperRun(c.storeDir, e);
  const result = await adoptInbox(c.store, c.storeDir);
  assert.equal(result.adopted.length, 1, JSON.stringify(result));
  const run = c.store.runs.getByUid(e.uid)!;
  return { run, result, link: c.store.evaluations.ofRun(run.id), alerts: c.store.alerts.list(run.id) };
}

test('an evaluation links to the version its reference names at adoption: an alias, a number, vN, latest', async () => {
  const c = setup();
  const v1 = await trained(c, { val_acc: 0.9 });
  const v2 = await trained(c, { val_acc: 0.92 });
  c.store.models.setAlias(v1.id, 'production');
  const before = await evaluate(c, 'production', { val_acc: 0.9 }, T0);
  assert.equal(before.link?.versionId, v1.id);
  assert.equal(before.link?.ref, 'production');
  assert.equal(c.store.runs.tags(before.run.id)[EVAL_TAG], 'clf@production');
  c.store.models.setAlias(v2.id, 'production');
  assert.equal((await evaluate(c, 'production', { val_acc: 0.9 }, T0 + 1)).link?.versionId, v2.id, 'the alias as it is at adoption');
  assert.equal(c.store.evaluations.ofRun(before.run.id)?.versionId, v1.id, 'an earlier evaluation stays with its version');
  assert.equal((await evaluate(c, 1, { val_acc: 0.9 }, T0 + 2)).link?.versionId, v1.id);
  assert.equal((await evaluate(c, 'v2', { val_acc: 0.9 }, T0 + 3)).link?.versionId, v2.id);
  assert.equal((await evaluate(c, '1', { val_acc: 0.9 }, T0 + 4)).link?.versionId, v1.id);
  assert.equal((await evaluate(c, 'latest', { val_acc: 0.9 }, T0 + 5)).link?.versionId, v2.id);
  assert.deepEqual(c.store.evaluations.ofVersion(v1.id).map((e) => e.ref), ['production', '1', '1']);
  c.store.close();
});

test('an evaluation of an unknown model, version or alias is kept as a run, tagged with why it is not linked', async () => {
  const c = setup();
  const v1 = await trained(c, { val_acc: 0.9 });
  for (const [model, ref, why] of [['nope', 1, 'no model named "nope" is registered'], ['clf', 9, 'clf has no version 9'],
    ['clf', 'staging', 'clf has no alias @staging']] as const) {
    const { run, link, result } = await evaluate(c, ref, { val_acc: 0.1 }, T0, model);
    assert.equal(link, undefined);
    assert.equal(c.store.runs.tags(run.id)[EVAL_UNLINKED_TAG], why);
    assert.equal(c.store.runs.tags(run.id)[EVAL_TAG], `${model}@${ref}`);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0]!, new RegExp(`kept unlinked: ${why}`));
  }
  assert.deepEqual(c.store.evaluations.ofVersion(v1.id), []);
  c.store.close();
});

test('an inbox file with a bad "eval" is set aside with the reason', async () => {
  const c = setup();
  for (const [bad, reason] of [[{ model: 'clf', ref: 0, metrics: {} }, '"eval.ref" must be a version number or an alias'],
    [{ model: 'clf', ref: 1, metrics: { a: 'x' } }, '"eval.metrics.a" must be a finite number'], [{ ref: 1, metrics: {} }, '"eval.model" must be a non-empty string']] as const) {
    writeHelperRun(c.storeDir, inboxEntry(c.ws, { eval: bad }));
    const r = await adoptInbox(c.store, c.storeDir);
    assert.equal(r.adopted.length, 0);
    assert.match(r.rejected[0]!.reason, new RegExp(reason.replace(/[.*"]/g, '\\$&')));
  }
  c.store.close();
});

const summary = (key: string, last: number): MetricSummary => ({ key, count: 1, firstStep: 0, lastStep: 0, last, min: last, max: last, lastTime: 0 });
const gate = (key: string, direction: 'max' | 'min', tolerance: number, relative: boolean): GateMetric => ({ key, direction, tolerance, relative });

test('degradation: a drop beyond tolerance from the registration value or the best evaluation, by direction', () => {
  const acc = [gate('val_acc', 'max', 0.05, true)];
  const reg = [summary('val_acc', 0.95), summary('val_loss', 0.2)];
  assert.deepEqual(degradation(reg, [], { val_acc: 0.91 }, acc), [], 'a drop of 0.04 is within 5% of 0.95');
  assert.deepEqual(degradation(reg, [], { val_acc: 0.9 }, acc).map((d) => [d.key, d.registration, d.best, d.now, d.tolerance]),
    [['val_acc', 0.95, 0.95, 0.9, '5%']]);
  assert.deepEqual(degradation(reg, [], { val_acc: 0.99 }, acc), [], 'better is no drop');
  // From the best evaluation: registered at 0.90, evaluated at 0.96 once, now 0.92 (within 0.03 of 0.90, not of 0.96).
  const abs = [gate('val_acc', 'max', 0.03, false)];
  const fromBest = degradation([summary('val_acc', 0.9)], [{ val_acc: 0.96 }, { other: 1 }], { val_acc: 0.92 }, abs);
  assert.deepEqual(fromBest.map((d) => [d.registration, d.best, d.now]), [[0.9, 0.96, 0.92]]);
  assert.deepEqual(degradation([summary('val_acc', 0.9)], [], { val_acc: 0.92 }, abs), []);
  // Lower is better.
  const loss = [gate('val_loss', 'min', 0.1, true)];
  assert.equal(degradation(reg, [], { val_loss: 0.25 }, loss).length, 1, '0.25 is more than 10% above 0.2');
  assert.deepEqual(degradation(reg, [], { val_loss: 0.21 }, loss), []);
  assert.deepEqual(degradation(reg, [], { val_loss: 0.1 }, loss), []);
  // Missing values, unwatched metrics and a metric only evaluations have.
  assert.deepEqual(degradation(reg, [], { val_loss: 9 }, acc), [], 'val_loss is not watched');
  assert.deepEqual(degradation(reg, [], {}, acc), []);
  assert.deepEqual(degradation([], [{ f1: 0.8 }], { f1: 0.5 }, [gate('f1', 'max', 0, false)]).map((d) => [d.registration, d.best]), [[null, 0.8]]);
});

const GATES = `gates:
  production:
    model: clf
    metrics:
      val_acc: { direction: max, tolerance: 5% }
      val_loss: { direction: min, tolerance: 0.05 }
`;

test('adoption raises one degradation alert per version and metric, on the evaluation that shows it (runlens.yaml gates)', async () => {
  const c = setup(GATES);
  const v1 = await trained(c, { val_acc: 0.95, val_loss: 0.2 });
  const first = await evaluate(c, 1, { val_acc: 0.94, val_loss: 0.21 }, T0);
  assert.deepEqual(first.alerts, [], 'within both tolerances');
  const second = await evaluate(c, 1, { val_acc: 0.85, val_loss: 0.22 }, T0 + MONTH);
  assert.deepEqual(second.alerts.map((a) => [a.rule, a.key, a.value, a.step, a.time, a.severity]), [['degradation', 'val_acc', 0.85, 0, T0 + MONTH, 'warning']]);
  assert.equal(second.alerts[0]!.message, 'clf v1 degraded: val_acc 0.95 at registration → 0.85, beyond the tolerance of 5%');
  const third = await evaluate(c, 1, { val_acc: 0.7, val_loss: 0.4 }, T0 + 2 * MONTH);
  assert.deepEqual(third.alerts.map((a) => a.key), ['val_loss'], 'val_acc was raised already; val_loss now drops beyond 0.05');
  const fourth = await evaluate(c, 1, { val_acc: 0.6, val_loss: 0.5 }, T0 + 3 * MONTH);
  assert.deepEqual(fourth.alerts, []);
  assert.deepEqual(c.store.evaluations.degradations([v1.id]).get(v1.id)?.map((a) => [a.runId, a.key]),
    [[second.run.id, 'val_acc'], [third.run.id, 'val_loss']]);
  c.store.close();
});

test('without gates, the primary metric is watched at 5%; the Models view summary says registration → now', async () => {
  const c = setup();
  const v1 = await trained(c, { val_acc: 0.95, other: 1 });
  assert.deepEqual((await evaluate(c, 1, { val_acc: 0.93, other: 0 }, T0)).alerts, [], '0.02 is within 5%; other is not watched');
  assert.deepEqual(degradationSummaries(c.store, [v1]), new Map());
  const drop = await evaluate(c, 1, { val_acc: 0.8 }, T0 + MONTH);
  assert.deepEqual(drop.alerts.map((a) => a.key), ['val_acc']);
  await evaluate(c, 1, { val_acc: 0.7 }, T0 + 2 * MONTH);
  assert.deepEqual(degradationSummaries(c.store, [v1]), new Map([[v1.id, `val_acc ${metricValue(0.95)} at registration → ${metricValue(0.7)} (3 evaluations)`]]));
  c.store.close();
});

test('migrations 11 to 13 add evaluations, alert notices and request digests to a store of schema 10, keeping its runs', async () => {
  const c = setup();
  const v1 = await trained(c, { val_acc: 0.95 });
  c.store.close();
  const file = join(c.storeDir, 'runs.db');
  const db = new Database(file);
  db.exec('DROP TABLE evaluations; DROP TABLE alert_notices; ALTER TABLE artifact_requests DROP COLUMN sha256');
  db.pragma('user_version = 10');
  db.close();
  assert.equal(SCHEMA_VERSION, 13, 'this test undoes steps 11 to 13; a new step must be undone here too');
  const store = Store.open(c.storeDir);
  assert.equal(store.models.version(v1.id)?.metrics[0]?.last, 0.95, 'the version and its run are kept');
  const again = { ...c, store };
  assert.equal((await evaluate(again, 1, { val_acc: 0.5 }, T0)).link?.versionId, v1.id);
  store.close();
  const check = new Database(file, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.ok((check.pragma('table_info(artifact_requests)') as { name: string }[]).some((c) => c.name === 'sha256'), 'step 13 added the column');
  check.close();
});

test('the lineage page has an Evaluations card: a chart of the registration value and each evaluation, and a table', async () => {
  const c = setup();
  const v1 = await trained(c, { val_acc: 0.95 });
  await evaluate(c, 1, { val_acc: 0.93 }, T0);
  await evaluate(c, 1, { val_acc: 0.8 }, T0 + MONTH);
  const h = evaluationHistory(c.store, c.store.models.version(v1.id)!, { gates: [] });
  const html = lineagePage(lineage(c.store, v1.id), { cspSource: 'x', style: 's.css', evaluations: h });
  const cardHtml = /<section class="card evaluations">.*?<\/section>/s.exec(html)?.[0];
  assert.ok(cardHtml, 'the card is there');
  assert.match(cardHtml, /2 evaluation\(s\)/);
  assert.match(cardHtml, /⚠ clf v1 degraded: val_acc 0\.95 at registration → 0\.8/);
  const svg = /<svg class="chart".*?<\/svg>/s.exec(cardHtml)![0];
  assert.equal([...svg.matchAll(/<rect class="point registration"/g)].length, 1);
  const dots = [...svg.matchAll(/<circle class="point evaluation( degraded)?" cx="([\d.]+)" cy="([\d.]+)".*?<title>(.*?)<\/title>/g)];
  assert.deepEqual(dots.map((d) => [Boolean(d[1]), d[4]]), [[false, 'eval 1 2026-01-15: val_acc 0.93'], [true, 'eval 1 2026-02-14: val_acc 0.8']]);
  assert.ok(Number(dots[1]![2]) > Number(dots[0]![2]), 'later is further right');
  assert.ok(Number(dots[1]![3]) > Number(dots[0]![3]), 'lower is further down');
  const rows = [...cardHtml.matchAll(/<tr><td>(.*?)<\/tr>/g)];
  assert.equal(rows.length, 3, 'registration and two evaluations');
  assert.match(rows[0]![0], /registration/);
  assert.match(rows[2]![0], /command:runlens\.openRun/);
  assert.ok(!/<script|style="/.test(html), 'no script, no inline style (the CSP allows neither)');
  const none = lineagePage(lineage(c.store, v1.id), { cspSource: 'x', style: 's.css' });
  assert.ok(!none.includes('card evaluations'));
  c.store.close();
});
