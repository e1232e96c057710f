// Reproduce's package check: the interpreter it asks, the warning line and the report's section.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Packages } from '../../src/core/provenance/packages.ts';
import { checkPackages, currentPackages, packagesReport, packagesWarning, reproductionInterpreter } from '../../src/core/reproduce/packages.ts';
import { buildReport, reportMarkdown, type ReportRun } from '../../src/core/reproduce/report.ts';

const helperDir = join(import.meta.dirname, '..', '..', 'media', 'python');

const recorded: Packages = { conda: null, list: [['einops', '0.7.0'], ['numpy', '1.26.4'], ['scipy', '1.13.0'], ['torch', '2.3.0']] };
const now: Packages = { conda: null, list: [['numpy', '1.26.4'], ['pandas', '2.2.2'], ['scipy', '1.14.0'], ['torch', '2.4.1']] };

const run = (id: number): ReportRun => ({ id, uid: `u${id}`, name: `run ${id}`, status: 'finished', params: {}, datasets: [], finals: new Map([['loss', 0.5]]) });

test('the warning names how many packages differ and the first few, recorded → now', () => {
  const r = packagesReport(checkPackages(recorded, now));
  assert.equal(r.state, 'differs');
  assert.equal(packagesWarning(r), '4 packages differ from the recorded run: einops 0.7.0 → —, pandas — → 2.2.2, scipy 1.13.0 → 1.14.0, …');
  assert.equal(packagesWarning(r, 10), '4 packages differ from the recorded run: einops 0.7.0 → —, pandas — → 2.2.2, scipy 1.13.0 → 1.14.0, torch 2.3.0 → 2.4.1');
  const one = packagesReport(checkPackages(recorded, { conda: null, list: recorded.list.map(([n, v]) => [n, n === 'torch' ? '2.4.1' : v]) }));
  assert.equal(packagesWarning(one), '1 package differs from the recorded run: torch 2.3.0 → 2.4.1');
  const conda = packagesReport(checkPackages(recorded, { ...recorded, conda: 'ml' }));
  assert.equal(packagesWarning(conda), 'The conda environment differs from the recorded run: conda environment — → ml');
  assert.equal(packagesWarning(packagesReport(checkPackages(recorded, recorded))), null, 'the same: no warning');
  assert.equal(packagesWarning(packagesReport(checkPackages(undefined, now))), null, 'none recorded: no warning');
});

test('the report lists what differs without changing the verdict, and says when nothing was recorded', () => {
  const base = { original: run(1), reproduction: run(2), tolerance: 0 };
  const differs = buildReport({ ...base, packages: packagesReport(checkPackages(recorded, now)) });
  assert.equal(differs.verdict, 'identical', 'packages are informational');
  const md = reportMarkdown(differs);
  assert.match(md, /## Packages\n\n⚠ 4 packages differ from the recorded run \(recorded → now; — is not installed\):\n\n- einops 0\.7\.0 → —\n- pandas — → 2\.2\.2\n- scipy 1\.13\.0 → 1\.14\.0\n- torch 2\.3\.0 → 2\.4\.1\n/);
  assert.match(reportMarkdown(buildReport({ ...base, packages: packagesReport(checkPackages(undefined, now)) })), /## Packages\n\nNo packages were recorded for this run\./);
  assert.match(reportMarkdown(buildReport({ ...base, packages: packagesReport(checkPackages(now, now)) })), /The current interpreter has the packages the run recorded\./);
  assert.match(reportMarkdown(buildReport({ ...base, packages: packagesReport(new Error('python9: not found')) })), /could not be listed: python9: not found/);
  assert.ok(!reportMarkdown(buildReport(base)).includes('## Packages'), 'not checked: no section');
});

test('the interpreter asked is the command\'s Python, else the recorded one', () => {
  assert.equal(reproductionInterpreter(['/venv/bin/python3.11', 'train.py'], '/usr/bin/python3'), '/venv/bin/python3.11');
  assert.equal(reproductionInterpreter(['python', 'train.py'], null), 'python');
  assert.equal(reproductionInterpreter(['accelerate', 'launch', 'train.py'], '/venv/bin/python'), '/venv/bin/python');
  assert.equal(reproductionInterpreter('python train.py | tee log', '/usr/bin/python3'), '/usr/bin/python3');
  assert.equal(reproductionInterpreter('make train', null), null);
});

test('python3 now against a recorded set with one package moved: the report names exactly that one', async () => {
  const current = await currentPackages('python3', helperDir);
  const [first, ...rest] = current.list;
  const old: Packages = { conda: current.conda, list: [[first![0], '0.0.1'], ...rest] };
  const r = packagesReport(checkPackages(old, current));
  assert.deepEqual(r.changes, [{ name: first![0], from: '0.0.1', to: first![1] }]);
  assert.equal(packagesWarning(r), `1 package differs from the recorded run: ${first![0]} 0.0.1 → ${first![1]}`);
});
