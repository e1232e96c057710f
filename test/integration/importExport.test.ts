import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ImportReport } from '../../src/core/importers/report.ts';
import type { MlflowLayoutResult } from '../../src/core/export/mlflowLayout.ts';
import { readMlflowFileStore } from '../../src/core/formats/mlflowFileStore.ts';
import { importSummary } from '../../src/runs/importCommands.ts';
import { COMMIT, RUN_A, RUN_B, T, buildMlflowDb } from '../unit/capture/mlflowDb.ts';
import { encodeTfEvent, eventFile } from '../unit/formats/tfeventsWriter.ts';
import { activate, git, viewRows, workspaceDir } from './util.ts';
import { defaultUri, describeRuns } from '../../src/runs/exportCommands.ts';

const ORIGIN_TAG = 'runlens.origin';

export function registerImportExportTests(): void {
  describe('Import and export', () => {
    let tmp: string;
    before(() => { tmp = mkdtempSync(join(tmpdir(), 'runlens-io-')); });
    after(() => rmSync(tmp, { recursive: true, force: true }));

    it('imports an MLflow database into the Runs view under its experiment names; importing again adds nothing', async () => {
      const api = await activate();
      const db = join(tmp, 'mlflow.db');
      buildMlflowDb(db);
      const report = await vscode.commands.executeCommand<ImportReport>('runlens.importRuns', db);
      assert.deepEqual(report, {
        runs: 3, unchanged: 0, updated: 0, points: 7, models: 2, cancelled: false,
        skipped: [
          { what: 'alias digits@v2', why: '"v2" would be read as a version; choose another alias.' },
          { what: 'deleted runs', why: '2 run(s) MLflow marks deleted were left out' },
        ],
      });
      assert.equal(importSummary(report),
        'Imported 3 runs, 7 points, 2 model versions; skipped 2: alias digits@v2 ("v2" would be read as a version; choose another alias.), …');
      const rows = viewRows(api);
      const labels = (experiment: string) => rows.find((e) => e.label === experiment)?.children.map((c) => c.label);
      assert.deepEqual(labels('mnist'), ['calm-fox', 'brave-owl'], 'newest first');
      assert.deepEqual(labels('Default'), ['quick-ant']);
      const store = api.store.get()!;
      const node = rows.find((e) => e.label === 'mnist')!.children[1]!.node;
      assert.ok(node.kind === 'run');
      assert.equal(store.runs.tags(node.run.id)[ORIGIN_TAG], `mlflow:sqlite:///${db}#${RUN_A}`);
      assert.equal(store.runs.params(node.run.id).lr, 0.001);
      assert.equal(store.models.find('digits', 'champion')?.runId, node.run.id);

      const count = store.runs.count();
      const again = await vscode.commands.executeCommand<ImportReport>('runlens.importRuns', `sqlite:///${db}`);
      assert.deepEqual([again.runs, again.unchanged, again.updated, again.points, again.models], [0, 3, 0, 0, 0]);
      assert.equal(store.runs.count(), count);
      assert.match(importSummary(again), /^Imported 3 runs \(3 unchanged\), 0 points; skipped 2: /);
    });

    it('imports a TensorBoard log folder: one run per folder, a validation folder prefixes its tags', async () => {
      const api = await activate();
      const logs = join(tmp, 'tb-logs');
      const write = (path: string, scalars: { [tag: string]: number }[]) => {
        mkdirSync(join(logs, path, '..'), { recursive: true });
        writeFileSync(join(logs, path), eventFile(scalars.map((s, step) => encodeTfEvent({ step, wallTime: 1_700_000_000 + step, scalars: s, mode: 'simple' }))));
      };
      write('run-a/events.out.tfevents.1700000000.host', [{ loss: 1 }, { loss: 0.5 }, { loss: 0.25 }]);
      write('run-a/validation/events.out.tfevents.1700000000.host', [{ loss: 2 }]);
      write('run-b/events.out.tfevents.1700000000.host', [{ acc: 0.75 }]);
      const report = await vscode.commands.executeCommand<ImportReport>('runlens.importRuns', vscode.Uri.file(logs));
      assert.deepEqual([report.runs, report.points, report.skipped], [2, 5, []]);
      const store = api.store.get()!;
      const a = store.runs.getByOrigin(`tensorboard:${join(logs, 'run-a')}`)!;
      assert.deepEqual([a.name, a.experiment], ['run-a', 'tensorboard']);
      assert.deepEqual(store.metrics.summaries(a.id).map((s) => [s.key, s.count, s.last]), [['loss', 3, 0.25], ['validation/loss', 1, 2]]);
      assert.deepEqual(viewRows(api).find((e) => e.label === 'tensorboard')?.children.map((c) => c.label), ['run-b', 'run-a']);
      const again = await vscode.commands.executeCommand<ImportReport>('runlens.importRuns', logs);
      assert.deepEqual([again.runs, again.unchanged, again.points], [0, 2, 0]);
    });

    it('exports runs as CSV and JSON to a given file', async () => {
      const api = await activate();
      const store = api.store.get()!;
      const origin = `mlflow:sqlite:///${join(tmp, 'mlflow.db')}`;
      const a = store.runs.getByOrigin(`${origin}#${RUN_A}`)!, b = store.runs.getByOrigin(`${origin}#${RUN_B}`)!;
      const csvFile = join(tmp, 'runs.csv');
      assert.equal(await vscode.commands.executeCommand('runlens.exportRuns', [a.id, b.uid], 'csv', csvFile), csvFile);
      assert.equal(readFileSync(csvFile, 'utf8'), [
        'name,uid,experiment,status,start,duration,param.lr,param.optimizer,param.seed,param.shuffle,'
          + 'acc.last,acc.min,acc.max,loss.last,loss.min,loss.max,val/loss.last,val/loss.min,val/loss.max',
        `brave-owl,${a.uid},mnist,finished,${new Date(T).toISOString()},60,0.001,adam,,true,0.75,0.75,0.75,0.5,0.5,1.5,,,`,
        `calm-fox,${b.uid},mnist,failed,${new Date(T + 100_000).toISOString()},30,0.1,,007,,,,,2.5,2.5,2.5,3,3,3`,
        '',
      ].join('\r\n'));

      const jsonFile = join(tmp, 'runs.json');
      await vscode.commands.executeCommand('runlens.exportRuns', [a.id], 'json', vscode.Uri.file(jsonFile));
      const doc = JSON.parse(readFileSync(jsonFile, 'utf8'));
      assert.equal(doc.format, 'runlens-export/1');
      assert.equal(doc.runs.length, 1);
      const run = doc.runs[0];
      assert.deepEqual([run.name, run.uid, run.status, run.experiment], ['brave-owl', a.uid, 'finished', 'mnist']);
      assert.deepEqual(run.params, { lr: 0.001, optimizer: 'adam', shuffle: true });
      assert.equal(run.tags[ORIGIN_TAG], `${origin}#${RUN_A}`);
      assert.deepEqual(run.metrics.loss, { steps: [0, 1, 2, 3], times: [T + 1000, T + 2000, T + 3000, T + 4000], values: [1.5, 1.25, 'NaN', 0.5] });
      assert.deepEqual(run.models.map((m: { model: string; aliases: string[] }) => [m.model, m.aliases]), [['digits', ['champion']]]);
    });

    it('offers to export into a git-ignored folder, and says which runs it exports', async () => {
      const api = await activate();
      const uri = defaultUri(api.store, 'runs.csv')!;
      assert.ok(uri.fsPath.startsWith(api.store.dir!), uri.fsPath);
      assert.equal(git(workspaceDir(), 'check-ignore', uri.fsPath).trim(), uri.fsPath, 'the default export file is ignored by git');
      const runs = api.store.get()!.runs.list({ limit: 3 });
      assert.equal(runs.length, 3);
      assert.match(describeRuns(runs, 'checked'), /^the 3 runs checked for comparison \(whatever the view's filter shows\)$/);
      assert.equal(describeRuns(runs, 'selected'), 'the 3 selected runs');
      assert.equal(describeRuns(runs.slice(0, 1), 'checked'), `run ${runs[0]!.name}`);
      assert.equal(describeRuns(runs, 'shown'), 'the 3 runs the Runs view shows');
    });

    it('exports the runs the filtered view shows, every page of them', async () => {
      const api = await activate();
      const store = api.store.get()!;
      const csvFile = join(tmp, 'shown.csv');
      await vscode.commands.executeCommand('runlens.filterRuns', { text: 'calm-fox' });
      try {
        const shown = store.runs.list({ ...api.filter.query(), limit: 1000 });
        assert.ok(shown.length >= 1 && shown.length < store.runs.count(), `the filter narrows the view (${shown.length} of ${store.runs.count()})`);
        await vscode.commands.executeCommand('runlens.exportRuns', 'view', 'csv', csvFile);
        const rows = readFileSync(csvFile, 'utf8').trim().split('\r\n').slice(1);
        assert.deepEqual(rows.map((r) => r.split(',')[1]).sort(), shown.map((r) => r.uid).sort());
      } finally {
        await vscode.commands.executeCommand('runlens.clearFilter');
      }
    });

    it('exports a run, or a model version\'s run, in MLflow\'s layout, and it reads back', async () => {
      const api = await activate();
      const store = api.store.get()!;
      const a = store.runs.getByOrigin(`mlflow:sqlite:///${join(tmp, 'mlflow.db')}#${RUN_A}`)!;
      const out = join(tmp, 'export');
      const result = await vscode.commands.executeCommand<MlflowLayoutResult>('runlens.exportMlflow', 'digits@champion', out);
      assert.deepEqual([result.runId, result.dir, result.skipped], [a.uid.replaceAll('-', ''), join(out, 'mlruns', '0', result.runId), []]);
      const back = readMlflowFileStore(out);
      assert.deepEqual(back.problems, []);
      assert.deepEqual(back.experiments, [{ id: '0', name: 'Default' }]);
      assert.equal(back.runs.length, 1);
      const r = back.runs[0]!;
      assert.deepEqual([r.id, r.name, r.status, r.startTime, r.endTime, r.gitCommit], [result.runId, 'brave-owl', 'FINISHED', T, T + 60_000, COMMIT]);
      assert.deepEqual(r.params, { lr: '0.001', optimizer: 'adam', shuffle: 'True' });
      assert.equal(r.tags['runlens.uid'], a.uid);
      assert.deepEqual(r.metrics.filter((p) => p.key === 'loss').map((p) => [p.step, p.time, p.value]),
        [[0, T + 1000, 1.5], [1, T + 2000, 1.25], [2, T + 3000, NaN], [3, T + 4000, 0.5]]);
      // the same run named by its id, into the same folder: written again, nothing else added
      await vscode.commands.executeCommand('runlens.exportMlflow', a.id, vscode.Uri.file(out));
      assert.equal(readMlflowFileStore(out).runs.length, 1);
    });
  });
}
