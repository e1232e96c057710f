import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RunLensApi } from '../../src/extension.ts';
import type { ModelVersion } from '../../src/core/store/modelRepository.ts';
import type { Store } from '../../src/core/store/store.ts';
import { metricValue } from '../../src/core/format.ts';
import { activate, eventually, runEnded, withLog, workspaceDir } from './util.ts';

const DAY = 86_400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A plain python3 process, not launched by RunLens (only PYTHONPATH), that logs evaluations; their run uids. */
async function logEvals(api: RunLensApi, model: string, ref: string, evals: { value: number; at: number }[]): Promise<string[]> {
  const code = [
    'import json, sys, runlens',
    `for e in json.loads(sys.argv[1]): print(runlens.log_eval(${JSON.stringify(model)}, ${JSON.stringify(ref)}, {"val_acc": e["value"]}, dataset="data/val.csv", at=e["at"]))`,
  ].join('\n');
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PYTHONPATH: api.helperEnvironment.helperDir };
  let out = '', err = '';
  const exit = await new Promise<number | null>((resolve) => {
    const p = spawn('python3', ['-c', code, JSON.stringify(evals)], { cwd: workspaceDir(), env });
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', resolve);
  });
  assert.equal(exit, 0, err);
  const uids = out.trim().split('\n');
  assert.equal(uids.length, evals.length, `one uid per evaluation: ${out}${err}`);
  assert.ok(uids.every((u) => u !== 'None'), `every evaluation recorded: ${out}${err}`);
  return uids;
}

/** The Models view's row of a version (icon, description) and its hover. */
function versionRow(api: RunLensApi, v: ModelVersion) {
  const tree = api.modelsTree;
  const model = tree.getChildren().find((n) => n.kind === 'model' && n.model.name === v.model);
  const node = model && tree.getChildren(model).find((n) => n.kind === 'version' && n.version.id === v.id);
  if (!node) return undefined;
  const item = tree.getTreeItem(node);
  const tooltip = tree.resolveTreeItem(item, node).tooltip;
  return {
    icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined,
    description: String(item.description ?? ''),
    tooltip: tooltip instanceof vscode.MarkdownString ? tooltip.value : String(tooltip),
  };
}

/** The runs adopted for these uids, each exactly once (by uid and by the evaluation tag). */
function adoptedOnce(store: Store, uids: string[], tag: string): number[] {
  const evals = store.runs.list({ limit: 10_000 }).filter((r) => store.runs.tags(r.id)['runlens.eval'] === tag);
  return uids.map((uid) => {
    const found = evals.filter((r) => r.uid === uid);
    assert.equal(found.length, 1, `evaluation ${uid} adopted once`);
    return found[0]!.id;
  });
}

const logText = (api: RunLensApi) => readFileSync(join(api.logUri.fsPath, 'RunLens.log'), 'utf8');
const count = (text: string, part: string) => text.split(part).length - 1;

export function registerEvaluationTests(): void {
  describe('Models over time', function () {
    this.timeout(240_000);
    const shown: string[] = [];
    const realWarning = vscode.window.showWarningMessage;
    let version: ModelVersion;
    let registered: number;
    let ref: string;

    before(() => {
      (vscode.window as { showWarningMessage: unknown }).showWarningMessage = (message: string) => {
        shown.push(message);
        return Promise.resolve(undefined);
      };
    });
    after(() => { (vscode.window as { showWarningMessage: unknown }).showWarningMessage = realWarning; });

    it('evaluations from a plain Python process over three months: adopted once each, linked, one degradation alert, the version flagged', async () => {
      const api = await activate();
      const store = api.store.require();
      const runId = await vscode.commands.executeCommand<number>('runlens.startRunWithOverrides', 'train', 'train.lr=0.3 train.epochs=4');
      assert.equal((await runEnded(store, runId)).status, 'finished');
      version = await eventually(() => store.models.versionsOfRun(runId)[0], 'its version');
      registered = version.metrics.find((m) => m.key === 'val_acc')!.last;
      assert.ok(registered > 0, `val_acc at registration: ${registered}`);
      ref = `v${version.version}`;
      assert.equal(versionRow(api, version)?.icon, 'package', 'not flagged before any evaluation');

      // three months, one evaluation a month; -1% and -4% are within the 5% default tolerance, -15% is not
      const now = Math.floor(Date.now() / 1000);
      const evals = [0.99, 0.96, 0.85].map((f, i) => ({ value: Math.round(registered * f * 1e4) / 1e4, at: now - (2 - i) * 30 * DAY }));
      const alertsBefore = store.alerts.lastId();
      const uids = await logEvals(api, version.model, ref, evals);
      const tag = `${version.model}@${ref}`;
      const ids = await withLog(api, () => eventually(() => uids.every((u) => store.runs.getByUid(u)) && adoptedOnce(store, uids, tag), 'the three evaluations adopted', 30_000));
      for (const id of ids) await runEnded(store, id, 30_000);

      // linked to the version, at their dates, in order
      assert.deepEqual(store.evaluations.ofVersion(version.id).map((e) => [e.runId, e.ref, e.at, e.metrics]),
        ids.map((id, i) => [id, ref, evals[i]!.at * 1000, { val_acc: evals[i]!.value }]));
      assert.deepEqual(store.provenance.datasets(ids[0]!).map((d) => d.path), ['data/val.csv']);

      // one alert: on the third evaluation; the two within tolerance raised nothing
      assert.deepEqual(ids.map((id) => store.alerts.list(id).map((a) => [a.rule, a.key, a.value])),
        [[], [], [['degradation', 'val_acc', evals[2]!.value]]]);
      assert.equal(store.alerts.since(alertsBefore).filter((a) => a.rule === 'degradation').length, 1, 'ONE degradation alert');
      const [alert] = store.alerts.list(ids[2]!);
      const message = `${version.model} v${version.version} degraded: val_acc ${metricValue(registered)} at registration → ${metricValue(evals[2]!.value)}, beyond the tolerance of 5%`;
      assert.equal(alert!.message, message);

      // the Models view: a warning icon, the drop in the description and the hover
      const summary = `val_acc ${metricValue(registered)} at registration → ${metricValue(evals[2]!.value)} (3 evaluations)`;
      const row = await eventually(() => { const r = versionRow(api, version); return r?.icon === 'warning' && r; }, 'the warning on the version row');
      assert.ok(row.description.includes(`degraded: ${summary}`), row.description);
      assert.match(row.tooltip, /\$\(warning\) degraded: val\\_acc /);

      // a notification and a log line, once
      const run = store.runs.get(ids[2]!)!;
      await withLog(api, () => eventually(() => shown.some((s) => s.includes(message)), 'the notification'));
      const line = `Run ${run.name}: degradation alert on val_acc at step 0: ${message}`;
      await eventually(() => logText(api).includes(line), 'the log line');
      await sleep(3000); // more inbox passes and store changes: nothing is adopted or told twice
      adoptedOnce(store, uids, tag);
      assert.equal(store.evaluations.ofVersion(version.id).length, 3);
      assert.deepEqual(shown.filter((s) => s.includes('degraded')), [`RunLens: run ${run.name}: ${message}`]);
      assert.equal(count(logText(api), line), 1, 'one log line');
    });

    it('a later evaluation within tolerance, or further down, raises no new alert or notification', async () => {
      const api = await activate();
      const store = api.store.require();
      assert.ok(version, 'the first test registered a version');
      const alertsBefore = store.alerts.lastId();
      const noticesBefore = shown.length;
      const now = Math.floor(Date.now() / 1000);
      const evals = [{ value: Math.round(registered * 0.98 * 1e4) / 1e4, at: now + 60 }, { value: Math.round(registered * 0.7 * 1e4) / 1e4, at: now + 120 }];
      const uids = await logEvals(api, version.model, ref, evals);
      const ids = await eventually(() => uids.every((u) => store.runs.getByUid(u)) && adoptedOnce(store, uids, `${version.model}@${ref}`), 'the evaluations adopted', 30_000);
      for (const id of ids) await runEnded(store, id, 30_000);
      assert.equal(store.evaluations.ofVersion(version.id).length, 5, 'both linked');
      await sleep(3000);
      assert.deepEqual(ids.map((id) => store.alerts.list(id)), [[], []], 'no alert on either');
      assert.deepEqual(store.alerts.since(alertsBefore).filter((a) => a.rule === 'degradation'), [], 'no new degradation alert');
      assert.deepEqual(shown.slice(noticesBefore).filter((s) => s.includes('degraded')), [], 'no new notification');
      const row = await eventually(() => { const r = versionRow(api, version); return r?.description.includes('(5 evaluations)') && r; }, 'the row counting five evaluations');
      assert.equal(row.icon, 'warning', 'still flagged');
      assert.ok(row.description.includes(`→ ${metricValue(evals[1]!.value)} (5 evaluations)`), row.description);
    });
  });
}
