import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { hashDataset } from '../../src/core/provenance/datasetHash.ts';
import { profileFile, tabularDelimiter } from '../../src/core/drift/profile.ts';
import { GateError, check } from '../../src/core/gate/check.ts';
import { parseGates } from '../../src/core/gate/gatesConfig.ts';
import { markdownReport, textSummary } from '../../src/core/gate/report.ts';
import { type Io, main, parseMetricFlag } from '../../src/cli/commands.ts';
import { series, tempDir } from './helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const metric = (key: string, direction: 'max' | 'min', tolerance = 0, relative = false) => ({ key, direction, tolerance, relative });

/** Writes the data files, hashes and profiles them, and records them with the run, as a launch does. */
async function recordData(store: Store, runId: number, ws: string, files: { [rel: string]: string }) {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(ws, 'data'), { recursive: true });
    writeFileSync(join(ws, 'data', rel), text);
  }
  const h = await hashDataset(join(ws, 'data'));
  store.provenance.setDataset(runId, { path: 'data', kind: h.kind, digest: h.digest, fileCount: h.fileCount, bytes: h.bytes, files: h.files });
  for (const f of h.files) {
    if (tabularDelimiter(f.path) && !store.profiles.get(f.sha256)) store.profiles.put(f.sha256, await profileFile(join(ws, 'data', f.path)));
  }
}

function rows(n: number, shift: number): string {
  let s = 'age,income,city\n';
  for (let i = 0; i < n; i++) s += `${20 + ((i * 37) % 40) + shift},${1000 + ((i * 7919) % 500)},${['paris', 'lyon', 'nice'][i % 3]}\n`;
  return s;
}

/** A workspace with a store: three trained versions of `clf`, v2 in production; v3 better, v4 worse on drifted data. */
async function workspace() {
  const ws = tempDir();
  const store = Store.open(join(ws, '.runlens'));
  const train = async (name: string, acc: number, loss: number, lr: number, data: { [rel: string]: string }) => {
    const run = store.runs.create({ name, experiment: 'demo', status: 'finished', params: { lr, epochs: 3 }, git: { commit: createHash('sha1').update(name).digest('hex'), branch: 'main', dirty: false } });
    store.metrics.append(run.id, 'val_acc', series(0, 30, (s) => (s === 29 ? acc : acc * (1 - Math.exp(-s / 5)))));
    store.metrics.append(run.id, 'val_loss', series(0, 30, (s) => (s === 29 ? loss : loss + Math.exp(-s / 5))));
    await recordData(store, run.id, ws, data);
    const v = store.models.register({
      model: 'clf', runId: run.id, artifactId: null, path: 'model.bin', kind: 'file', digest: createHash('sha256').update(name).digest('hex'),
      size: 1, fileCount: 1, params: store.runs.params(run.id), metrics: store.metrics.summaries(run.id),
    });
    return { run, v };
  };
  const v1 = await train('first', 0.8, 0.5, 0.1, { 'train.csv': rows(300, 0), 'labels.csv': 'y\n1\n0\n' });
  const v2 = await train('prod', 0.9, 0.3, 0.1, {});
  store.models.setAlias(v2.v.id, 'production');
  const v3 = await train('better', 0.92, 0.28, 0.3, {});
  const v4 = await train('worse', 0.85, 0.4, 0.3, { 'train.csv': rows(300, 25) });
  return { ws, store, v1, v2, v3, v4 };
}

function io(cwd: string): Io & { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  return Object.assign(out, { out: (t: string) => { out.stdout += t; }, err: (t: string) => { out.stderr += t; }, cwd, env: {} });
}

test('check: a better candidate passes, a worse one fails per metric, within its tolerance or not', async () => {
  const { store, v3, v4 } = await workspace();
  const metrics = [metric('val_acc', 'max', 0.01), metric('val_loss', 'min', 0.05, true)];
  const better = check({ store, model: 'clf', candidate: 'v3', against: 'production', metrics });
  assert.equal(better.pass, true);
  assert.deepEqual(better.metrics.map((m) => [m.key, m.pass]), [['val_acc', true], ['val_loss', true]]);
  assert.equal(better.candidate.version?.id, v3.v.id);
  assert.deepEqual(better.params, [{ key: 'lr', baseline: 0.1, candidate: 0.3 }]);
  assert.deepEqual(better.dataFiles, []);

  const worse = check({ store, model: 'clf', candidate: 'latest', against: 'production', metrics });
  assert.equal(worse.candidate.run.id, v4.run.id, 'latest: the newest version');
  assert.equal(worse.pass, false);
  const acc = worse.metrics[0]!;
  assert.equal(acc.pass, false);
  assert.ok(Math.abs(acc.limit! - (acc.baseline! - 0.01)) < 1e-12);
  assert.match(acc.reason!, /^val_acc: 0\.85 is worse than 0\.9 by more than 0\.01$/);
  assert.equal(worse.metrics[1]!.pass, false, 'val_loss 0.4 > 0.3 + 5%');
  assert.deepEqual(worse.dataFiles, ['data/train.csv']);
  // Loose enough tolerances pass the same candidate.
  const loose = check({ store, model: 'clf', candidate: v4.run.uid, against: 'production', metrics: [metric('val_acc', 'max', 0.06), metric('val_loss', 'min', 0.5, true)] });
  assert.equal(loose.pass, true);
  assert.equal(loose.candidate.version?.version, 4, 'a run that registered a version: its snapshot');
  // Names by the one rule (case and separators ignored): Val-Acc is val_acc.
  const named = check({ store, model: 'clf', candidate: 'v3', against: 'production', metrics: [metric('Val-Acc', 'max', 0.01), metric('VAL_LOSS', 'min', 0.05, true)] });
  assert.deepEqual(named.metrics.map((m) => [m.key, m.pass]), [['val_acc', true], ['val_loss', true]]);
});

test('check: drift of the changed data files, and drift limits', async () => {
  const { store } = await workspace();
  const r = check({ store, model: 'clf', candidate: 'latest', against: 'production', metrics: [metric('val_acc', 'max', 1)], driftLimits: { psi: 0.25 } });
  assert.equal(r.drift.length, 1);
  const f = r.drift[0]!;
  assert.equal(f.file, 'data/train.csv');
  assert.equal(f.columns![0]!.column, 'age', 'the shifted column drifted most');
  assert.ok(f.columns![0]!.psi! > 1, `age PSI ${f.columns![0]!.psi}`);
  assert.ok(f.columns!.find((c) => c.column === 'income')!.psi! < 0.01, 'income did not move');
  assert.deepEqual(f.over, ['age']);
  assert.equal(r.pass, false);
  assert.deepEqual(r.failures, ['data/train.csv: age drifted beyond the limits']);
  const noLimits = check({ store, model: 'clf', candidate: 'latest', against: 'production', metrics: [metric('val_acc', 'max', 1)] });
  assert.equal(noLimits.pass, true, 'drift is reported, not judged, without limits');
});

test('check: mistakes are GateErrors, missing metrics fail the gate', async () => {
  const { store } = await workspace();
  const base = { store, model: 'clf', candidate: 'latest' as const, against: 'production', metrics: [metric('val_acc', 'max')] };
  assert.throws(() => check({ ...base, model: 'nope' }), (e: Error) => e instanceof GateError && /No model named "nope" \(there is "clf"\)/.test(e.message));
  assert.throws(() => check({ ...base, against: 'staging' }), (e: Error) => e instanceof GateError && /clf has no alias "staging" \(there is "production"\)/.test(e.message));
  assert.throws(() => check({ ...base, candidate: 'v9' }), (e: Error) => e instanceof GateError && /no version 9/.test(e.message));
  assert.throws(() => check({ ...base, candidate: 'no-such-run' }), GateError);
  assert.throws(() => check({ ...base, metrics: [] }), GateError);
  const r = check({ ...base, metrics: [metric('f1', 'max')] });
  assert.equal(r.pass, false);
  assert.deepEqual(r.failures, ['f1: the baseline has no value']);
});

test('the reports: a one-screen summary and Markdown with the tables, charts and drift', async () => {
  const { store } = await workspace();
  const r = check({ store, model: 'clf', candidate: 'latest', against: 'production', metrics: [metric('val_acc', 'max', 0.01), metric('val_loss', 'min')], driftLimits: { psi: 0.25 } });
  const text = textSummary(r);
  assert.match(text, /^FAIL clf: v4, run worse \([0-9a-f]{8}\) against production \(v2, run prod/);
  assert.match(text, /val_acc +max {2}0\.9 → 0\.85 {2}\(−0\.05, passes ≥ 0\.89\) {2}REGRESSION/);
  assert.match(text, /params: 1 differ \(lr 0\.1 → 0\.3\)/);
  assert.ok(text.split('\n').length < 20, 'one screen');
  const md = markdownReport(store, r, Date.UTC(2026, 0, 2));
  assert.match(md, /^## ❌ clf: the candidate fails against production\n/);
  assert.match(md, /\| val\\_acc \| max \| 0\.9 \| 0\.85 \| −0\.05 \| ≥ 0\.89 \| ❌ \|/, 'names escaped for Markdown');
  assert.match(md, /\| val\\_acc \| `[▁▂▃▄▅▆▇█]{4}` v1…v4 \| `[▁▂▃▄▅▆▇█]+` \| `[▁▂▃▄▅▆▇█]+` \|/, 'sparklines by version and over the runs');
  assert.match(md, /\| lr \| 0\.1 \| 0\.3 \|/);
  assert.match(md, /### Data files that changed \(1\)\n\n- `data\/train\.csv`/);
  assert.match(md, /### Drift \(limits: PSI 0\.25\)/);
  assert.match(md, /\| age \| number \| [0-9.]+ \| [0-9.]+ \| 0% → 0% \| ❌ \|/);
  assert.match(md, /<sub>RunLens gate, 2026-01-02T00:00:00Z<\/sub>\n$/);
});

test('runlens.yaml gates: read and checked', () => {
  const { gates, problems } = parseGates({
    production: { model: 'clf', metrics: { val_acc: { direction: 'max', tolerance: 0.01 }, val_loss: { direction: 'min', tolerance: '5%' }, f1: 'max' }, drift: { psi: 0.2 } },
    broken: { model: 'clf', against: 3, metrics: { x: 'up' }, drift: { psi: -1 }, extra: true },
  });
  assert.deepEqual(gates, [{
    name: 'production', model: 'clf', against: 'production', candidate: undefined, drift: { psi: 0.2 },
    metrics: [metric('val_acc', 'max', 0.01), metric('val_loss', 'min', 0.05, true), metric('f1', 'max')],
  }]);
  assert.deepEqual(problems.map((p) => p.path.join('.')), ['broken.extra', 'broken.against', 'broken.metrics.x', 'broken.drift']);
  assert.deepEqual(parseMetricFlag('val/acc:max:1%'), metric('val/acc', 'max', 0.01, true));
  assert.deepEqual(parseMetricFlag('a:b:min'), metric('a:b', 'min'));
  assert.deepEqual(parseMetricFlag('loss:min:0.5'), metric('loss', 'min', 0.5));
});

test('runlens check: exit 0 on pass, 1 on regression, 2 on a mistake; --report writes the Markdown; gates from runlens.yaml', async () => {
  const { ws, store } = await workspace();
  store.close();
  const run = (...args: string[]) => { const o = io(ws); return main(args, o).then((code) => ({ code, ...o })); };
  const pass = await run('check', '--model', 'clf', '--candidate', 'v3', '--metric', 'val_acc:max:0.01');
  assert.equal(pass.code, 0, pass.stderr);
  assert.match(pass.stdout, /^PASS clf/);
  const fail = await run('check', '--model', 'clf', '--metric', 'val_acc:max:0.01', '--report', 'out/../report.md');
  assert.equal(fail.code, 1);
  assert.match(readFileSync(join(ws, 'report.md'), 'utf8'), /^## ❌ clf/);
  for (const args of [['check', '--model', 'clf', '--metric', 'val_acc:up'], ['check', '--model', 'nope', '--metric', 'val_acc:max'], ['check', '--bogus'], ['frobnicate'], ['check', '--metric', 'val_acc:max']]) {
    const r = await run(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^runlens: /);
  }
  writeFileSync(join(ws, 'runlens.yaml'), 'gates:\n  prod:\n    model: clf\n    metrics: { val_acc: { direction: max, tolerance: 0.1 } }\n');
  assert.equal((await run('check')).code, 0, 'the only gate, tolerance 0.1');
  assert.equal((await run('check', '--gate', 'prod', '--drift-psi', '0.25')).code, 1, 'a drift limit from the flags');
  assert.equal((await run('check', '--gate', 'other')).code, 2);
});

test('runlens ls and export', async () => {
  const { ws, store } = await workspace();
  store.close();
  const o = io(join(ws, 'data')); // found from a folder below the workspace
  assert.equal(await main(['ls', '--limit', '2'], o), 0);
  assert.deepEqual(o.stdout.trim().split('\n').map((l) => l.split('\t').slice(1, 4)), [['worse', 'demo', 'finished'], ['better', 'demo', 'finished']]);
  assert.match(o.stdout, /\tval_acc=0\.85/);
  const models = io(ws);
  assert.equal(await main(['ls', 'models', '--json'], models), 0);
  assert.deepEqual(JSON.parse(models.stdout)[0].versions.map((v: { version: number; aliases: string[] }) => [v.version, v.aliases]), [[4, []], [3, []], [2, ['production']], [1, []]]);
  const csv = io(ws);
  assert.equal(await main(['export', '--experiment', 'demo'], csv), 0);
  assert.match(csv.stdout, /^name,uid,experiment,status,start,duration,param\.epochs,param\.lr,/);
  assert.equal(csv.stdout.trim().split('\r\n').length, 5);
  assert.equal(await main(['export', '--format', 'json', '--out', 'runs.json', 'nope'], io(ws)), 2);
});

test('the runlens command from a shell: real exit codes', async () => {
  const { ws, store } = await workspace();
  store.close();
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', join(root, 'src', 'cli', 'runlens.ts'), ...args],
    { cwd: ws, encoding: 'utf8', env: { ...process.env, RUNLENS_STORE: '' } });
  const pass = cli('check', '--model', 'clf', '--candidate', 'v3', '--metric', 'val_acc:max');
  assert.equal(pass.status, 0, pass.stderr);
  assert.equal(cli('check', '--model', 'clf', '--metric', 'val_acc:max').status, 1);
  const usage = cli('check', '--model', 'clf');
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /Name the metrics/);
});
