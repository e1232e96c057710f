import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { hashDataset } from '../../src/core/provenance/datasetHash.ts';
import { applyablePatch, captureGit } from '../../src/core/provenance/git.ts';
import type { GitCapture } from '../../src/core/provenance/git.ts';
import { checkDatasets, planReproduction, prepareDatasets } from '../../src/core/reproduce/plan.ts';
import { buildReport, reportMarkdown } from '../../src/core/reproduce/report.ts';
import type { ReportRun } from '../../src/core/reproduce/report.ts';
import { createWorktree, mapIntoWorktree, repoTop } from '../../src/core/reproduce/worktree.ts';
import type { StoredDataset } from '../../src/core/store/provenanceRepository.ts';
import { git, gitRepo, tempDir, treeSnapshot } from './helpers.ts';

function repo(): string {
  return gitRepo(join(tempDir(), 'repo'), {
    'train.py': 'lr = 0.1\n', 'model.bin': Buffer.from([0, 1, 2, 3, 255]), '.gitignore': 'data/\n.venv/\n',
  }, 'A');
}


/** What the user sees of the main worktree: files, status, index, HEAD, stashes. */
function mainState(dir: string) {
  return {
    files: treeSnapshot(dir),
    status: git(dir, 'status', '--porcelain', '--ignored', '--untracked-files=all'),
    index: git(dir, 'ls-files', '--stage'),
    staged: git(dir, 'diff', '--cached', '--binary'),
    head: git(dir, 'rev-parse', 'HEAD'),
    branch: git(dir, 'symbolic-ref', 'HEAD'),
    stash: git(dir, 'stash', 'list'),
  };
}

const worktreeCount = (dir: string) => git(dir, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length;

async function capture(dir: string): Promise<GitCapture> {
  const r = await captureGit(dir);
  assert.equal(r.kind, 'git');
  return (r as { git: GitCapture }).git;
}

/** A run recorded at commit A with uncommitted changes, then the repo moved on to B and got dirty again. */
async function movedOn(): Promise<{ dir: string; commitA: string; patch: string }> {
  const dir = repo();
  writeFileSync(join(dir, 'train.py'), 'lr = 0.2\n');
  writeFileSync(join(dir, 'model.bin'), Buffer.from([9, 9, 0, 255]));
  writeFileSync(join(dir, 'extra.py'), 'print("new")\n');
  const c = await capture(dir);
  const patch = applyablePatch(c);
  assert.match(patch, /GIT binary patch/);
  assert.match(patch, /extra\.py/);
  git(dir, 'checkout', '--', '.');
  rmSync(join(dir, 'extra.py'));
  writeFileSync(join(dir, 'train.py'), 'lr = 0.3\nepochs = 5\n');
  git(dir, 'commit', '-qam', 'B');
  // the user's work in progress: unstaged, staged, untracked and ignored files
  writeFileSync(join(dir, 'train.py'), 'lr = 0.4  # wip\n');
  writeFileSync(join(dir, 'model.bin'), Buffer.from([7, 7, 7]));
  git(dir, 'add', 'model.bin');
  writeFileSync(join(dir, 'notes.txt'), 'todo\n');
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'train.csv'), 'x,y\n1,2\n');
  return { dir, commitA: c.commit, patch };
}

test('a worktree at an older commit gets the stored patch; the dirty main tree is untouched', async () => {
  const { dir, commitA, patch } = await movedOn();
  // a hook that would write into the main tree must not run
  writeFileSync(join(dir, '.git', 'hooks', 'post-checkout'), `#!/bin/sh\necho hooked > '${join(dir, 'hooked.txt')}'\n`);
  chmodSync(join(dir, '.git', 'hooks', 'post-checkout'), 0o755);
  const before = mainState(dir);
  const parent = tempDir();

  const wt = await createWorktree({ repoTop: dir, commit: commitA, patch, parent });
  assert.ok(wt.dir.startsWith(join(parent, 'runlens-repro-')), wt.dir);
  assert.equal(git(wt.dir, 'rev-parse', 'HEAD').trim(), commitA);
  assert.equal(readFileSync(join(wt.dir, 'train.py'), 'utf8'), 'lr = 0.2\n');
  assert.deepEqual([...readFileSync(join(wt.dir, 'model.bin'))], [9, 9, 0, 255]);
  assert.equal(readFileSync(join(wt.dir, 'extra.py'), 'utf8'), 'print("new")\n');
  assert.ok(!existsSync(join(wt.dir, 'data')), 'ignored files are not in the worktree');
  assert.equal(worktreeCount(dir), 2);
  assert.deepEqual(mainState(dir), before, 'main tree unchanged while the worktree exists');

  await wt.remove();
  assert.ok(!existsSync(wt.dir));
  assert.deepEqual(readdirSync(parent), [], 'temp folder deleted');
  assert.equal(worktreeCount(dir), 1);
  await wt.remove(); // idempotent
  assert.equal(worktreeCount(dir), 1);
  assert.ok(!existsSync(join(dir, 'hooked.txt')), 'no hooks run');
  assert.deepEqual(mainState(dir), before, 'main tree unchanged after removal');
});

test('without a patch the worktree is the commit as committed; a Buffer patch applies too', async () => {
  const { dir, commitA, patch } = await movedOn();
  const plain = await createWorktree({ repoTop: dir, commit: commitA, parent: tempDir(), name: 'plain' });
  assert.equal(readFileSync(join(plain.dir, 'train.py'), 'utf8'), 'lr = 0.1\n');
  assert.ok(!existsSync(join(plain.dir, 'extra.py')));
  assert.equal(git(plain.dir, 'status', '--porcelain'), '');
  const buf = await createWorktree({ repoTop: dir, commit: commitA.slice(0, 10), patch: Buffer.from(patch), parent: tempDir() });
  assert.equal(readFileSync(join(buf.dir, 'train.py'), 'utf8'), 'lr = 0.2\n');
  await Promise.all([plain.remove(), buf.remove()]);
  assert.equal(worktreeCount(dir), 1);
});

test('an unknown commit is a clear error and leaves nothing behind', async () => {
  const dir = repo();
  const before = mainState(dir);
  const parent = tempDir();
  await assert.rejects(createWorktree({ repoTop: dir, commit: 'deadbeef'.repeat(5), parent }),
    { message: 'commit deadbee is not in this repository (was it rebased away or not fetched?)' });
  await assert.rejects(createWorktree({ repoTop: dir, commit: '--help', parent }), /is not a commit id/);
  assert.deepEqual(readdirSync(parent), []);
  assert.equal(worktreeCount(dir), 1);
  assert.deepEqual(mainState(dir), before);
});

test('a patch that does not apply is a clear error and leaves no worktree', async () => {
  const dir = repo();
  const commit = git(dir, 'rev-parse', 'HEAD').trim();
  const patch = 'diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-something else\n+lr = 9\n';
  const before = mainState(dir);
  const parent = tempDir();
  await assert.rejects(createWorktree({ repoTop: dir, commit, patch, parent }), (e: Error) => {
    assert.match(e.message, new RegExp(`^the stored patch does not apply to ${commit.slice(0, 7)}: .*train\\.py`));
    return true;
  });
  assert.deepEqual(readdirSync(parent), []);
  assert.equal(worktreeCount(dir), 1);
  assert.deepEqual(readdirSync(join(dir, '.git')).includes('worktrees') ? readdirSync(join(dir, '.git', 'worktrees')) : [], []);
  assert.deepEqual(mainState(dir), before);
});

test('repoTop: from a subfolder, through a symlink, and outside git', async () => {
  const dir = repo();
  mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
  assert.equal(await repoTop(join(dir, 'src', 'deep')), dir);
  const link = join(tempDir(), 'linked');
  symlinkSync(dir, link);
  assert.equal(await repoTop(join(link, 'src')), link, 'spelled like the cwd');
  await assert.rejects(repoTop(tempDir()), /not a git repository/);
  await assert.rejects(repoTop(join(tempDir(), 'missing')), /not a git repository/);
});

test('mapIntoWorktree moves paths inside the repo and only those', () => {
  assert.equal(mapIntoWorktree('/r/repo/data/x.csv', '/r/repo', '/t/tree'), '/t/tree/data/x.csv');
  assert.equal(mapIntoWorktree('/r/repo', '/r/repo', '/t/tree'), '/t/tree');
  assert.equal(mapIntoWorktree('/r/repo/out/', '/r/repo', '/t/tree'), '/t/tree/out/');
  assert.equal(mapIntoWorktree('/r/repo-other/x', '/r/repo', '/t/tree'), '/r/repo-other/x');
  assert.equal(mapIntoWorktree('/r/..repo', '/r', '/t/tree'), '/t/tree/..repo');
  assert.equal(mapIntoWorktree('/etc/hosts', '/r/repo', '/t/tree'), '/etc/hosts');
  assert.equal(mapIntoWorktree('data/x.csv', '/r/repo', '/t/tree'), 'data/x.csv');
});

test('planReproduction remaps cwd and path args; the program only when the worktree has it', () => {
  const top = tempDir(), tree = tempDir();
  mkdirSync(join(top, '.venv', 'bin'), { recursive: true });
  writeFileSync(join(top, '.venv', 'bin', 'python'), '');
  writeFileSync(join(top, 'run.sh'), '');
  writeFileSync(join(tree, 'run.sh'), '');
  const plan = planReproduction({
    cwd: join(top, 'src'),
    command: [join(top, '.venv', 'bin', 'python'), join(top, 'src', 'train.py'), `--data=${join(top, 'data')}`, '--out', join(top, 'out'),
      'model.path=' + join(top, 'm.pt'), '--lr=0.1', '/etc/hosts', 'relative/x'],
  }, top, tree);
  assert.equal(plan.cwd, join(tree, 'src'));
  assert.deepEqual(plan.command, [join(top, '.venv', 'bin', 'python'), join(tree, 'src', 'train.py'), `--data=${join(tree, 'data')}`,
    '--out', join(tree, 'out'), 'model.path=' + join(tree, 'm.pt'), '--lr=0.1', '/etc/hosts', 'relative/x']);
  assert.deepEqual(plan.linkedDatasets, []);
  assert.deepEqual(planReproduction({ cwd: top, command: [join(top, 'run.sh'), '-v'] }, top, tree).command, [join(tree, 'run.sh'), '-v']);
  const shell = `python ${join(top, 'train.py')} | tee log`;
  assert.deepEqual(planReproduction({ cwd: top, command: shell }, top, tree), { cwd: tree, command: shell, linkedDatasets: [] });
  assert.throws(() => planReproduction({ cwd: top, command: null }, top, tree), /no recorded command/);
  assert.throws(() => planReproduction({ cwd: top, command: [] }, top, tree), /no recorded command/);
  assert.throws(() => planReproduction({ cwd: null, command: ['x'] }, top, tree), /no recorded working folder/);
  assert.throws(() => planReproduction({ cwd: '/elsewhere', command: ['x'] }, top, tree), /outside the repository/);
});

test('prepareDatasets links ignored data into the worktree; removal keeps the originals', async () => {
  const { dir, commitA, patch } = await movedOn();
  writeFileSync(join(dir, 'weights.pt'), 'w'); // untracked since the run: not in the worktree
  writeFileSync(join(dir, '..', 'outside.txt'), 'o'); // next to the repo
  const wt = await createWorktree({ repoTop: dir, commit: commitA, patch, parent: tempDir() });
  const linked = await prepareDatasets(
    [{ path: 'data' }, { path: 'train.py' }, { path: 'absent' }, { path: join(dir, 'weights.pt') }, { path: '/etc/hostname' }, { path: '../outside.txt' }],
    dir, wt.dir);
  assert.deepEqual(linked, [
    { path: join(wt.dir, 'data'), from: join(dir, 'data') },
    { path: join(wt.dir, 'weights.pt'), from: join(dir, 'weights.pt') },
  ]);
  assert.ok(lstatSync(join(wt.dir, 'data')).isSymbolicLink());
  assert.equal(readFileSync(join(wt.dir, 'data', 'train.csv'), 'utf8'), 'x,y\n1,2\n');
  assert.ok(!lstatSync(join(wt.dir, 'train.py')).isSymbolicLink(), 'the committed file is kept');
  assert.equal(readFileSync(join(wt.dir, 'train.py'), 'utf8'), 'lr = 0.2\n');
  assert.ok(!existsSync(join(dirname(wt.dir), 'outside.txt')), 'no link outside the worktree');
  await wt.remove();
  assert.equal(readFileSync(join(dir, 'data', 'train.csv'), 'utf8'), 'x,y\n1,2\n', 'the linked original survives removal');
  assert.equal(readFileSync(join(dir, 'weights.pt'), 'utf8'), 'w');
});

const stored = (path: string, h: Awaited<ReturnType<typeof hashDataset>>): StoredDataset =>
  ({ path, kind: h.kind, digest: h.digest, fileCount: h.fileCount, bytes: h.bytes, files: h.files });

test('checkDatasets names changed, added and removed files, and missing datasets', async () => {
  const cwd = tempDir();
  mkdirSync(join(cwd, 'data'));
  writeFileSync(join(cwd, 'data', 'a.csv'), '1\n');
  writeFileSync(join(cwd, 'data', 'b.csv'), '2\n');
  writeFileSync(join(cwd, 'labels.txt'), 'cat\n');
  writeFileSync(join(cwd, 'gone.txt'), 'bye\n');
  const recorded = [
    stored('data', await hashDataset(join(cwd, 'data'))),
    stored('labels.txt', await hashDataset(join(cwd, 'labels.txt'))),
    stored('gone.txt', await hashDataset(join(cwd, 'gone.txt'))),
  ];
  writeFileSync(join(cwd, 'data', 'b.csv'), '2 changed\n');
  writeFileSync(join(cwd, 'data', 'c.csv'), '3\n');
  rmSync(join(cwd, 'data', 'a.csv'));
  rmSync(join(cwd, 'gone.txt'));
  const [data, labels, gone] = await checkDatasets(recorded, cwd);
  assert.deepEqual(data, {
    path: 'data', recordedDigest: recorded[0]!.digest, currentDigest: (await hashDataset(join(cwd, 'data'))).digest,
    same: false, added: ['c.csv'], removed: ['a.csv'], changed: ['b.csv'],
  });
  assert.notEqual(data!.currentDigest, data!.recordedDigest);
  assert.deepEqual(labels, {
    path: 'labels.txt', recordedDigest: recorded[1]!.digest, currentDigest: recorded[1]!.digest, same: true, added: [], removed: [], changed: [],
  });
  assert.deepEqual(gone, {
    path: 'gone.txt', recordedDigest: recorded[2]!.digest, currentDigest: null, same: false, added: [], removed: ['gone.txt'], changed: [],
  });
});

function dataset(path: string, files: Record<string, string>): StoredDataset {
  const list = Object.entries(files).map(([p, sha256]) => ({ path: p, sha256, size: 1 }));
  return { path, kind: 'directory', digest: list.map((f) => f.sha256).join(''), fileCount: list.length, bytes: list.length, files: list };
}

function run(id: number, finals: Record<string, number | null>, extra: Partial<ReportRun> = {}): ReportRun {
  return {
    id, uid: `uid-${id}`, name: `run ${id}`, status: 'finished', params: { lr: 0.1, model: 'cnn', deep: true },
    datasets: [dataset('data', { 'a.csv': 'aa', 'b.csv': 'bb' })], finals: new Map(Object.entries(finals)), ...extra,
  };
}

test('buildReport: identical, within tolerance, and beyond it', () => {
  const same = buildReport({ original: run(1, { loss: 0.5, acc: NaN }), reproduction: run(2, { loss: 0.5, acc: NaN }), tolerance: 0 });
  assert.equal(same.verdict, 'identical');
  assert.deepEqual(same.original, { id: 1, name: 'run 1', uid: 'uid-1' });
  assert.deepEqual(same.reproduction, { id: 2, name: 'run 2', uid: 'uid-2', status: 'finished' });
  assert.deepEqual(same.params, { identical: true, differences: [] });
  assert.equal(same.data.identical, true);
  assert.deepEqual(same.metrics.rows.map((r) => [r.key, r.verdict, r.diff]), [['acc', 'exact', 0], ['loss', 'exact', 0]]);

  const near = buildReport({ original: run(1, { loss: 0.5 }), reproduction: run(2, { loss: 0.5 + 1e-9 }), tolerance: 1e-6 });
  assert.equal(near.verdict, 'within-tolerance');
  assert.equal(near.metrics.identical, false);
  assert.equal(near.metrics.withinTolerance, true);
  assert.equal(near.metrics.rows[0]!.verdict, 'within');
  assert.ok(Math.abs(near.metrics.rows[0]!.diff! - 1e-9) < 1e-15);

  const exactOnly = buildReport({ original: run(1, { loss: 0.5 }), reproduction: run(2, { loss: 0.5 + 1e-9 }), tolerance: 0 });
  assert.equal(exactOnly.verdict, 'differs');
  const far = buildReport({ original: run(1, { loss: 0.5 }), reproduction: run(2, { loss: 0.51 }), tolerance: 1e-6 });
  assert.equal(far.verdict, 'differs');
  assert.equal(far.metrics.rows[0]!.verdict, 'differs');
  const nan = buildReport({ original: run(1, { loss: 0.5 }), reproduction: run(2, { loss: NaN }), tolerance: 1 });
  assert.deepEqual([nan.metrics.rows[0]!.verdict, nan.metrics.rows[0]!.diff], ['differs', null]);
  const inf = buildReport({ original: run(1, { loss: Infinity }), reproduction: run(2, { loss: 1 }), tolerance: 1 });
  assert.equal(inf.metrics.rows[0]!.verdict, 'differs');
});

test('buildReport: a missing metric, a param type change, changed data and a failed reproduction differ', () => {
  const missing = buildReport({ original: run(1, { loss: 0.5, acc: 0.9 }), reproduction: run(2, { loss: 0.5, extra: 1 }), tolerance: 0 });
  assert.equal(missing.verdict, 'differs');
  assert.deepEqual(missing.metrics.rows.map((r) => [r.key, r.original, r.reproduced, r.verdict]), [['acc', 0.9, null, 'missing'], ['loss', 0.5, 0.5, 'exact']]);

  const typed = buildReport({
    original: run(1, { loss: 0.5 }, { params: { epochs: 1, lr: 0.1 } }),
    reproduction: run(2, { loss: 0.5 }, { params: { epochs: '1', lr: 0.1, extra: true } }), tolerance: 0,
  });
  assert.equal(typed.verdict, 'differs');
  assert.equal(typed.metrics.identical, true);
  assert.deepEqual(typed.params, { identical: false, differences: [
    { key: 'epochs', original: 1, reproduced: '1' }, { key: 'extra', original: undefined, reproduced: true },
  ] });

  const data = buildReport({
    original: run(1, { loss: 0.5 }),
    reproduction: run(2, { loss: 0.5 }, { datasets: [dataset('data', { 'a.csv': 'aa', 'b.csv': 'XX', 'c.csv': 'cc' })] }), tolerance: 0,
  });
  assert.equal(data.verdict, 'differs');
  assert.deepEqual(data.data, { identical: false, datasets: [{ path: 'data', original: 'aabb', reproduced: 'aaXXcc', changedFiles: ['b.csv', 'c.csv'] }] });
  const noData = buildReport({ original: run(1, {}), reproduction: run(2, {}, { datasets: [] }), tolerance: 0 });
  assert.deepEqual(noData.data.datasets, [{ path: 'data', original: 'aabb', reproduced: null, changedFiles: [] }]);
  assert.equal(noData.verdict, 'differs');

  const failed = buildReport({ original: run(1, {}), reproduction: run(2, {}, { status: 'failed' }), tolerance: 0 });
  assert.equal(failed.verdict, 'differs');
  assert.equal(buildReport({ original: run(1, {}), reproduction: run(2, {}), tolerance: 0 }).verdict, 'identical');
});

test('reportMarkdown: headline verdicts, changed files, and escaped user values', () => {
  const ok = reportMarkdown(buildReport({ original: run(1, { loss: 0.5 }), reproduction: run(2, { loss: 0.5 }), tolerance: 0 }));
  assert.match(ok, /^# ✅ Reproduced exactly$/m);
  const near = reportMarkdown(buildReport({ original: run(1, { loss: 0.5 }), reproduction: run(2, { loss: 0.5 + 1e-9 }), tolerance: 1e-6 }));
  assert.match(near, /^# ≈ Reproduced within tolerance 1e-6$/m);
  assert.match(near, /^\| loss \| 0\.5 \| 0\.500000001 \| 1e-9 \| within \|$/m);

  const bad = reportMarkdown(buildReport({
    original: run(1, { 'a|b': 1, 'x`y': 2 }, { name: 'my | run', params: { note: 'p|q' } }),
    reproduction: run(2, { 'a|b': 1 }, { params: { note: 'p`q' }, datasets: [dataset('data', { 'a.csv': 'aa', 'b|c.csv': 'bc' })] }),
    tolerance: 0,
  }));
  assert.match(bad, /^# ❌ Did not reproduce$/m);
  assert.match(bad, /^\| a\\\|b \| 1 \| 1 \| 0 \| exact \|$/m);
  assert.match(bad, /^\| x\\`y \| 2 \| — \|  \| missing \|$/m);
  assert.match(bad, /^\| note \| "p\\\|q" \| "p\\`q" \|$/m);
  assert.match(bad, /Original: my \\\| run \(#1\)/);
  assert.match(bad, /^- data: changed\n {2}- b\.csv\n {2}- b\\\|c\.csv$/m);
  assert.doesNotMatch(bad, /[^\\]`/, 'no bare backtick');
  for (const line of bad.split('\n').filter((l) => l.startsWith('|'))) {
    const cells = line.replace(/\\\|/g, '').split('|').length - 2;
    assert.ok(cells === 3 || cells === 5, line);
  }
});
