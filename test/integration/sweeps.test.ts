import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { RunLensApi } from '../../src/extension.ts';
import type { SweepPreset } from '../../src/runs/sweepCommands.ts';
import type { StartedSweep } from '../../src/runs/sweeps.ts';
import { ownerFile } from '../../src/runs/sweeps.ts';
import { runFolder, startTicks } from '../../src/core/runs/runProcess.ts';
import { SWEEP_TAG } from '../../src/core/types.ts';
import { metricValue } from '../../src/core/format.ts';
import { activate, eventually, row, withLog, workspaceDir } from './util.ts';

const newSweep = (preset: SweepPreset) => vscode.commands.executeCommand<StartedSweep>('runlens.newSweep', preset);

/** The sweep nodes of an experiment in the Runs view, and the runs listed directly under it. */
function experimentRows(api: RunLensApi, experiment: string) {
  const node = api.runsTree.getChildren().find((e) => e.kind === 'experiment' && e.experiment.name === experiment);
  const children = node ? api.runsTree.getChildren(node) : [];
  return {
    sweeps: children.filter((c) => c.kind === 'sweep').map((c) => row(api, c)),
    runIds: children.flatMap((c) => (c.kind === 'run' ? [c.run.id] : [])),
  };
}

const sweepRow = (api: RunLensApi, experiment: string, id: string) => experimentRows(api, experiment).sweeps.find((s) => s.label === id);

export function registerSweepTests(): void {
  describe('Sweeps', () => {
    after(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

    it('runs a 2×2 grid two at a time, each trial with its params, grouped under one sweep node, and compares it', async function () {
      this.timeout(120_000);
      const api = await activate();
      const paramsBefore = readFileSync(join(workspaceDir(), 'params.yaml'), 'utf8');
      const { sweepId, runIds } = await newSweep({
        run: 'train', params: { 'train.lr': '0.1, 0.3', 'model.hidden': [8, 16], 'train.epochs': '3' }, method: 'grid', concurrency: 2,
      });
      const store = api.store.get()!;
      assert.match(sweepId, /^train sweep \d{4}-\d\d-\d\d \d\d:\d\d( \(\d+\))?$/);
      assert.equal(runIds.length, 4);
      // the whole sweep is in the store at once, waiting its turn
      const first = runIds.map((id) => store.runs.get(id)!.status);
      assert.ok(first.every((s) => s === 'queued' || s === 'running'), first.join());
      assert.ok(first.filter((s) => s === 'queued').length >= 2, 'at least two wait for a slot');
      const early = await eventually(() => { const r = sweepRow(api, 'demo', sweepId); return r && /queued/.test(r.description) && r; }, 'the sweep node with queued trials');
      assert.match(early.description, /^4 runs · /);
      assert.equal(early.contextValue, 'sweep going', 'Cancel Sweep is offered while it goes');

      // at most two run at any moment, and two do run together
      let most = 0;
      const seen = new Set<string>();
      await eventually(() => {
        const statuses = runIds.map((id) => store.runs.get(id)!.status);
        statuses.forEach((s) => seen.add(s));
        most = Math.max(most, statuses.filter((s) => s === 'running').length);
        return statuses.every((s) => s !== 'queued' && s !== 'running');
      }, 'every trial to end', 90_000);
      assert.ok(most <= 2, `${most} ran at once`);
      assert.equal(most, 2, 'the second slot was used');
      const runs = await Promise.all(runIds.map((id) => api.runs.settled(id)));
      // a trial that did not finish: its exit code, its own output and the window's log say why
      const why = runs.filter((r) => r.status !== 'finished').map((r) => {
        let out: string;
        try { out = readFileSync(runFolder(store.dir, r.uid).log, 'utf8').split('\n').slice(-15).join('\n'); } catch (e) { out = String(e); }
        return `${r.name}: ${r.status}, exit ${r.exitCode}\n${out}`;
      });
      const short = runs.filter((r) => r.status !== 'finished').map((r) => `${r.name} ${r.status}, exit ${r.exitCode}`).join('; ');
      if (why.length) await withLog(api, () => Promise.reject(new Error(`trials did not finish: ${short}\n${why.join('\n')}`)));
      assert.deepEqual(runs.map((r) => r.status), ['finished', 'finished', 'finished', 'finished']);
      // and by the recorded times too: no moment had three going
      for (const r of runs) {
        const overlapping = runs.filter((o) => o.startedAt! < r.endedAt! && o.endedAt! > r.startedAt!);
        assert.ok(overlapping.length <= 2, `${r.name} overlapped ${overlapping.length - 1} others`);
      }

      const trials = [[0.1, 8], [0.1, 16], [0.3, 8], [0.3, 16]];
      runs.forEach((run, i) => {
        const [lr, hidden] = trials[i]!;
        assert.equal(run.name, `lr=${lr} hidden=${hidden} epochs=3`);
        assert.equal(run.experiment, 'demo');
        assert.deepEqual(store.runs.params(run.id), { seed: 42, 'train.lr': lr, 'train.epochs': 3, 'train.batch_size': 32, 'train.l2': 0.0001, 'model.hidden': hidden });
        assert.deepEqual(run.command, ['python3', 'train.py', '--lr', String(lr), '--hidden', String(hidden), '--epochs', '3']);
        assert.equal(store.metrics.points(run.id, 'val_acc').values.length, 3, 'the program saw --epochs 3');
        const tags = store.runs.tags(run.id);
        assert.equal(tags[SWEEP_TAG], sweepId);
        assert.equal(tags['runlens.sweep.trial'], String(i));
        assert.equal(tags['runlens.overrides'], `train.lr=${lr} model.hidden=${hidden} train.epochs=3`);
        assert.ok(run.git && store.provenance.get(run.id)?.commandLine, 'provenance was captured when it started');
      });
      assert.equal(readFileSync(join(workspaceDir(), 'params.yaml'), 'utf8'), paramsBefore, 'params.yaml is never edited');

      // the Runs view: one sweep node in the experiment holding exactly these runs, none of them loose
      const done = await eventually(() => { const r = sweepRow(api, 'demo', sweepId); return r && !/running|queued/.test(r.description) && r; }, 'the finished sweep node');
      const bestAcc = Math.max(...store.runs.lastMetric(runIds, 'val_acc').values());
      assert.equal(done.description, `4 runs · best val_acc ${metricValue(bestAcc)}`);
      assert.equal(done.icon, 'list-tree');
      assert.equal(done.contextValue, 'sweep');
      const members = api.runsTree.getChildren(done.node).flatMap((c) => (c.kind === 'run' ? [c.run.id] : []));
      assert.deepEqual(new Set(members), new Set(runIds));
      assert.equal(members.length, 4);
      assert.ok(!experimentRows(api, 'demo').runIds.some((id) => runIds.includes(id)), 'trials are not listed loose in the experiment');
      assert.ok(experimentRows(api, 'demo').runIds.length > 0, 'runs outside sweeps stay under the experiment');

      // Compare Sweep, from the sweep node: exactly these four
      const opened = await vscode.commands.executeCommand<number[]>('runlens.compareSweep', done.node);
      assert.deepEqual(opened, runIds);
      assert.ok(api.compare.isOpen);
      assert.deepEqual([...api.compare.runs], runIds);
    });

    it('cancelling stops the running trial and the queued ones, and none starts later', async function () {
      this.timeout(60_000);
      const api = await activate();
      const { sweepId, runIds } = await newSweep({ run: 'train', params: { 'train.lr': [0.1, 0.2, 0.3], 'train.epochs': [2000] }, concurrency: 1 });
      const store = api.store.get()!;
      await eventually(() => store.runs.get(runIds[0]!)!.status === 'running', 'the first trial to start', 20_000);
      const node = await eventually(() => sweepRow(api, 'demo', sweepId), 'the sweep node');
      await vscode.commands.executeCommand('runlens.cancelSweep', node.node);
      const runs = await Promise.all(runIds.map((id) => api.runs.settled(id)));
      assert.deepEqual(runs.map((r) => r.status), ['stopped', 'stopped', 'stopped']);
      assert.ok(runs[0]!.startedAt !== null && store.metrics.points(runs[0]!.id, 'val_acc').values.length < 2000, 'the first one was stopped mid-run');
      for (const r of runs.slice(1)) {
        assert.equal(r.startedAt, null, `${r.name} never started`);
        assert.ok(r.endedAt !== null);
        assert.ok(!existsSync(join(store.dir, 'runs', r.uid)), `${r.name} got no process`);
      }
      await new Promise((r) => setTimeout(r, 1500)); // a freed slot must not start a cancelled trial
      assert.deepEqual(runIds.map((id) => store.runs.get(id)!.status), ['stopped', 'stopped', 'stopped']);
      assert.equal(store.runs.count({ sweep: sweepId, status: ['queued', 'running'] }), 0);
      assert.ok(!api.sweeps.active.includes(sweepId));
      const ended = await eventually(() => { const r = sweepRow(api, 'demo', sweepId); return r?.contextValue === 'sweep' && r; }, 'the cancelled sweep node');
      const last = store.runs.lastMetric([runIds[0]!], 'val_acc').get(runIds[0]!);
      assert.equal(ended.description, last === undefined ? '3 runs' : `3 runs · best val_acc ${metricValue(last)}`);
    });

    it('with early stopping, stops the trial that does not learn by the median rule, and says so', async function () {
      this.timeout(60_000);
      const api = await activate();
      const { sweepId, runIds } = await newSweep({
        run: 'train', params: { 'train.lr': [0.3, 0.1, 0.0001], 'train.epochs': [2000] }, concurrency: 3, earlyStop: { patience: 3, minSteps: 20 },
      });
      const store = api.store.get()!;
      const [good, fine, slow] = runIds as [number, number, number];
      const reason = await eventually(() => store.runs.tags(slow)['runlens.sweep.stopped'], 'the median rule to stop lr=0.0001', 30_000);
      assert.match(reason, /^median rule at step \d+$/);
      assert.ok(Number(/\d+/.exec(reason)![0]) >= 20, 'not before min_steps');
      const stopped = await api.runs.settled(slow);
      assert.equal(stopped.status, 'stopped');
      assert.ok(store.metrics.points(slow, 'val_acc').values.length < 2000, 'it stopped early');
      assert.equal(store.runs.tags(good)['runlens.sweep.stopped'], undefined, 'lr=0.3 learns: it goes on');
      assert.equal(store.runs.tags(fine)['runlens.sweep.stopped'], undefined, 'lr=0.1 learns: it goes on');
      assert.equal(store.runs.get(good)!.status, 'running');
      await vscode.commands.executeCommand('runlens.cancelSweep', sweepId);
      await Promise.all(runIds.map((id) => api.runs.settled(id)));
    });

    it('starts a sweep from runlens.yaml: lr-search has 6 trials', async function () {
      this.timeout(60_000);
      const api = await activate();
      const { sweepId, runIds } = await vscode.commands.executeCommand<StartedSweep>('runlens.startSweep', 'lr-search');
      const store = api.store.get()!;
      assert.match(sweepId, /^lr-search \d{4}-/);
      assert.equal(runIds.length, 6);
      const pairs = runIds.map((id) => { const p = store.runs.params(id); return `${p['train.lr']}/${p['model.hidden']}`; });
      assert.deepEqual(pairs, ['0.01/8', '0.01/16', '0.1/8', '0.1/16', '1/8', '1/16']);
      assert.ok(runIds.every((id) => store.runs.tags(id)[SWEEP_TAG] === sweepId));
      await eventually(() => store.runs.get(runIds[0]!)!.status !== 'queued', 'the first trial to start');
      assert.equal(store.runs.count({ sweep: sweepId, status: ['running'] }), 1, 'concurrency: 1');
      assert.equal(await vscode.commands.executeCommand('runlens.cancelSweep', sweepId), sweepId);
      await Promise.all(runIds.map((id) => api.runs.settled(id)));
      assert.equal(store.runs.count({ sweep: sweepId, status: ['queued', 'running'] }), 0);
    });

    it('after a reload, queued trials of a sweep no window runs are stopped; another live window\'s are left alone', async function () {
      this.timeout(30_000);
      const api = await activate();
      const store = api.store.get()!;
      const queued = (sweep: string) => [0, 1].map((i) => store.runs.create({
        name: `${sweep}-${i}`, experiment: 'sweep-reload', status: 'queued', tags: { [SWEEP_TAG]: sweep, 'runlens.sweep.trial': String(i) },
      }).id);
      const gone = queued('gone 2026-01-01 00:00');
      const elsewhere = queued('elsewhere 2026-01-01 00:00');
      const other = spawn('sleep', ['60'], { stdio: 'ignore' }); // stands in for another window's extension host
      try {
        await eventually(() => startTicks(other.pid!) !== null, 'the stand-in process');
        const file = ownerFile(store.dir, 'elsewhere 2026-01-01 00:00');
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, JSON.stringify({ pid: other.pid, startTicks: startTicks(other.pid!) }));
        api.sweeps.recover();
        for (const id of gone) {
          const r = store.runs.get(id)!;
          assert.equal(r.status, 'stopped');
          assert.ok(r.endedAt !== null);
          assert.equal(store.runs.tags(id)['runlens.sweep.stopped'], 'the window closed before it started');
        }
        assert.deepEqual(elsewhere.map((id) => store.runs.get(id)!.status), ['queued', 'queued'], 'a live window still runs that sweep');
      } finally {
        const exited = new Promise((r) => other.once('exit', r));
        other.kill();
        await exited;
      }
      api.sweeps.recover();
      assert.deepEqual(elsewhere.map((id) => store.runs.get(id)!.status), ['stopped', 'stopped'], 'once that window is gone, they are stopped too');
      api.store.write(['runs'], (s) => { for (const id of [...gone, ...elsewhere]) s.runs.delete(id); });
    });
  });
}
