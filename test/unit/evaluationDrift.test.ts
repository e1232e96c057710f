// Data drift on the lineage page: the latest evaluation's data file against the version's training data
// file with the same columns (train* first), from the profiles kept when the runs' datasets were hashed.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { ArtifactCollector } from '../../src/core/artifacts/collector.ts';
import { adoptInbox } from '../../src/core/runs/inbox.ts';
import { RunMonitor } from '../../src/core/runs/runMonitor.ts';
import { hashDataset } from '../../src/core/provenance/datasetHash.ts';
import { profileText } from '../../src/core/drift/profile.ts';
import { tableDrift } from '../../src/core/drift/scores.ts';
import { lineage } from '../../src/core/models/lineage.ts';
import { lineagePage } from '../../src/core/models/lineagePage.ts';
import { droppedEvaluations, evaluationHistory } from '../../src/core/models/evaluations.ts';
import { inboxEntry, writeHelperRun } from './inboxFixture.ts';
import { tempDir } from './helpers.ts';

const MONTH = 30 * 86_400_000;
const T0 = Date.UTC(2026, 0, 15);
const csv = (rows: (string | number)[][]) => `${rows.map((r) => r.join(',')).join('\n')}\n`;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** x shifts by `shift`, y and label do not. */
const table = (shift: number) => csv([['x', 'y', 'label'], ...range(200).map((i) => [i + shift, i % 7, i % 2])]);

/** A helper run (started outside RunLens) with `datasets` hashed in `cwd`, adopted (its CSV files profiled) and followed to its end. */
async function helperRun(store: Store, storeDir: string, cwd: string, datasets: string[], over: Record<string, unknown>) {
  const hashed = [];
  for (const path of datasets) {
    const h = await hashDataset(join(cwd, path));
    hashed.push({ path, kind: h.kind, digest: h.digest, fileCount: h.fileCount, bytes: h.bytes, files: h.files });
  }
  const e = inboxEntry(cwd, { datasets: hashed, ...over });
  writeHelperRun(storeDir, e, {
    'metrics.jsonl': `${JSON.stringify({ t: 1_700_000_001, step: 0, metrics: { val_acc: 0.9 } })}\n`,
    'exit.json': JSON.stringify({ code: 0, signal: null, signalled: null, endedAt: 1_700_000_002_000 }),
  });
  const result = await adoptInbox(store, storeDir);
  assert.equal(result.adopted.length, 1, JSON.stringify(result));
  const monitor = new RunMonitor(store, storeDir, { parse: () => undefined });
  monitor.recover();
  monitor.dispose();
  return store.runs.getByUid(e.uid)!;
}

test('the latest evaluation\'s data drifts from the training file with the same columns, train* first; shown under Evaluations', async () => {
  const ws = tempDir('runlens-evaldrift-');
  const storeDir = join(ws, '.runlens');
  const store = Store.open(storeDir);
  mkdirSync(join(ws, 'data'));
  // holdout.csv sorts first and has the same columns; other.csv has other columns
  writeFileSync(join(ws, 'data', 'holdout.csv'), table(50));
  writeFileSync(join(ws, 'data', 'train.csv'), table(0));
  writeFileSync(join(ws, 'data', 'other.csv'), csv([['a'], ...range(20).map((i) => [i])]));
  writeFileSync(join(ws, 'model.bin'), 'weights');
  const run = await helperRun(store, storeDir, ws, ['data'], { name: 'train' });
  const v = await new ArtifactCollector(store, store.objects).register(run.id, 'model.bin', 'clf');

  const settings = { gates: [] };
  assert.equal(evaluationHistory(store, v, settings).drift, undefined, 'no evaluation: no drift');
  const month = (n: number) => {
    writeFileSync(join(ws, `month-${n}.csv`), table(40 * n));
    return helperRun(store, storeDir, ws, [`month-${n}.csv`], { name: `eval ${n}`, startedAt: T0 + n * MONTH, eval: { model: 'clf', ref: 1, metrics: { val_acc: 0.9 - n / 10 } } });
  };
  await month(1);
  const latest = await month(2);

  const h = evaluationHistory(store, v, settings);
  assert.equal(h.evaluations.length, 2);
  const d = h.drift!;
  assert.equal(d.run.id, latest.id, 'the latest evaluation');
  assert.equal(d.training.file, 'data/train.csv');
  assert.equal(d.evaluated.file, 'month-2.csv');
  // the same figures as scores.ts gives for the two files' profiles
  const expected = tableDrift(profileText(table(0)), profileText(table(80)));
  assert.deepEqual(d.columns, expected);
  assert.equal(d.columns[0]!.column, 'x', 'the most drifted first');
  assert.ok(d.columns[0]!.psi! > 0.25, `x drifted: psi ${d.columns[0]!.psi}`);
  assert.equal(d.columns.find((c) => c.column === 'y')!.psi, 0);
  assert.equal(d.columns.find((c) => c.column === 'y')!.ks, 0);

  const html = lineagePage(lineage(store, v.id)!, { cspSource: 'x', style: 's.css', evaluations: h });
  const card = html.slice(html.indexOf('<section class="card evaluations"'));
  assert.match(card, /Data drift of the latest evaluation: <code>month-2\.csv<\/code>.*against the training data <code>data\/train\.csv<\/code>/);
  assert.match(card, /Drift from training to evaluation: <span class="changed">1 column\(s\) drifted<\/span>/);
  const rows = [...card.matchAll(/<tr><td><code>(\w+)<\/code><\/td><td>number<\/td>/g)].map((m) => m[1]);
  assert.deepEqual(rows, ['x', 'y', 'label']);

  // Both evaluations dropped beyond 5% of the registration's 0.9: one alert (the first), both points red.
  assert.equal(h.alerts.length, 1);
  assert.equal(droppedEvaluations(v, h).size, 2);
  assert.equal([...card.matchAll(/<circle class="point evaluation degraded"/g)].length, 2);

  // Without a profile of the evaluated content there is no drift to show.
  store.profiles.put(d.evaluated.sha256, { ...store.profiles.get(d.evaluated.sha256)!, format: 0 as 1 });
  assert.equal(evaluationHistory(store, v, settings).drift, undefined);
  store.close();
});
