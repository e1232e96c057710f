import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { MemoryHashCache, type ProfileSink, hashDataset } from '../../src/core/provenance/datasetHash.ts';
import { MAX_COLUMNS, MAX_ROW_BYTES, type TableProfile, profileFile } from '../../src/core/drift/profile.ts';
import { tableDrift } from '../../src/core/drift/scores.ts';
import { driftLevel } from '../../src/core/drift/fileDrift.ts';
import { buildModel } from '../../src/core/compare/modelCache.ts';
import { driftText } from '../../src/core/compare/driftText.ts';
import { datasetDiff, lineage } from '../../src/core/models/lineage.ts';
import { lineagePage } from '../../src/core/models/lineagePage.ts';
import { metricValue } from '../../src/core/format.ts';
import { adoptInbox } from '../../src/core/runs/inbox.ts';
import { inboxEntry, writeHelperRun } from './inboxFixture.ts';
import { tempDir } from './helpers.ts';

const sha = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A training table; `shift` moves the age column, `n` rows. */
function rows(n: number, shift = 0): string {
  let s = 'age,income,city\n';
  for (let i = 0; i < n; i++) s += `${20 + ((i * 37) % 40) + shift},${1000 + ((i * 7919) % 500)},${['paris', 'lyon', '"nice, fr"'][i % 3]}\n`;
  return s;
}

/** A sink that keeps what it is handed (a Map of profiles by sha256) and what was skipped. */
function memorySink() {
  const kept = new Map<string, TableProfile>();
  const puts: string[] = [];
  const skipped: string[] = [];
  const sink: ProfileSink = {
    wanted: (s) => !kept.has(s),
    put: (s, p, path) => { kept.set(s, p); puts.push(path); },
    skipped: (path, reason) => skipped.push(`${path}: ${reason}`),
  };
  return { kept, puts, skipped, sink };
}

/** Makes a file old enough for the hash cache to keep it. */
const age = (file: string) => utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));

test('hashing profiles CSV and TSV files from the same slices: the profile equals profileFile\'s, other files get none', async () => {
  const dir = join(tempDir(), 'data');
  mkdirSync(dir);
  const big = rows(400_000); // ~7 MB: the profile parses an even sample of it
  writeFileSync(join(dir, 'train.csv'), big);
  writeFileSync(join(dir, 'test.tsv'), 'a\tb\n1\tx\n2\ty\n');
  writeFileSync(join(dir, 'notes.txt'), 'a,b\n1,2\n');
  writeFileSync(join(dir, 'model.bin'), Buffer.from([1, 2, 3]));
  const m = memorySink();
  const h = await hashDataset(dir, { profiles: m.sink });
  assert.deepEqual(m.skipped, []);
  assert.deepEqual([...m.kept.keys()].sort(), [sha(big), sha(readFileSync(join(dir, 'test.tsv')))].sort());
  assert.deepEqual(m.kept.get(sha(big)), await profileFile(join(dir, 'train.csv')));
  assert.deepEqual(m.kept.get(h.files.find((f) => f.path === 'test.tsv')!.sha256), await profileFile(join(dir, 'test.tsv')));
  assert.equal(m.kept.get(sha(big))!.rows, 400_000);
  // the digest is the one hashing alone gives
  assert.equal(h.digest, (await hashDataset(dir)).digest);
});

test('a cached CSV without a profile is read once to get one; later hashes find it and read nothing', async () => {
  const dir = join(tempDir(), 'data');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a.csv'), rows(500));
  writeFileSync(join(dir, 'b.bin'), 'xyz');
  age(join(dir, 'a.csv'));
  age(join(dir, 'b.bin'));
  const cache = new MemoryHashCache();
  const first = await hashDataset(dir, { cache }); // hashed before profiles existed
  assert.equal(first.cachedFiles, 0);

  const m = memorySink();
  const progress: number[] = [];
  const second = await hashDataset(dir, { cache, profiles: m.sink, onProgress: (done) => progress.push(done) });
  assert.equal(second.digest, first.digest);
  assert.equal(second.cachedFiles, 2, 'the hashes still come from the cache');
  assert.deepEqual(m.puts, [join(dir, 'a.csv')]);
  assert.deepEqual(m.kept.get(second.files[0]!.sha256), await profileFile(join(dir, 'a.csv')));
  assert.equal(progress.at(-1), rows(500).length, 'the profiled file is read (and counted), the other is not');

  const third = await hashDataset(dir, { cache, profiles: m.sink, onProgress: (done) => progress.push(done) });
  assert.equal(third.digest, first.digest);
  assert.equal(m.puts.length, 1, 'profiled once');
  assert.equal(progress.at(-1), 0, 'nothing read');
});

test('a malformed or too wide CSV still hashes; the profile is skipped with the reason', async () => {
  const dir = join(tempDir(), 'data');
  mkdirSync(dir);
  const unclosed = Buffer.concat([Buffer.from('a,b\n1,"never closed\n'), Buffer.alloc(MAX_ROW_BYTES + (1 << 20), 0x61)]);
  writeFileSync(join(dir, 'quote.csv'), unclosed);
  const wide = `${Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => `c${i}`).join(',')}\n`;
  writeFileSync(join(dir, 'wide.csv'), wide);
  writeFileSync(join(dir, 'ok.csv'), 'x\n1\n');
  const m = memorySink();
  const h = await hashDataset(dir, { profiles: m.sink });
  assert.deepEqual(h.files.map((f) => [f.path, f.sha256]), [['ok.csv', sha('x\n1\n')], ['quote.csv', sha(unclosed)], ['wide.csv', sha(wide)]]);
  assert.deepEqual([...m.kept.keys()], [sha('x\n1\n')]);
  assert.equal(m.skipped.length, 2);
  assert.match(m.skipped.find((s) => s.includes('quote.csv'))!, /longer than 16 MB/);
  assert.match(m.skipped.find((s) => s.includes('wide.csv'))!, new RegExp(`${MAX_COLUMNS + 1} columns`));
});

test('a sink that fails does not fail the hash', async () => {
  const dir = join(tempDir(), 'data');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a.csv'), rows(10));
  const skipped: string[] = [];
  const h = await hashDataset(dir, {
    profiles: { wanted: () => true, put: () => { throw new Error('database is locked'); }, skipped: (_path, r) => skipped.push(r) },
  });
  assert.equal(h.files[0]!.sha256, sha(rows(10)));
  assert.deepEqual(skipped, ['database is locked']);
});

/** A workspace with a store and two runs whose data/train.csv differ: age shifted in the second. */
async function twoRuns() {
  const ws = tempDir();
  const store = Store.open(join(ws, '.runlens'));
  const cache = store.provenance.hashCache();
  const record = async (name: string, text: string) => {
    mkdirSync(join(ws, 'data'), { recursive: true });
    writeFileSync(join(ws, 'data', 'train.csv'), text);
    writeFileSync(join(ws, 'data', 'readme.txt'), name);
    const run = store.runs.create({ name, experiment: 'demo', status: 'finished' });
    // as src/runs/hashDatasets.ts does for a launched run
    const h = await hashDataset(join(ws, 'data'), { cache, profiles: store.profiles.sink() });
    store.provenance.setDataset(run.id, { path: 'data', kind: h.kind, digest: h.digest, fileCount: h.fileCount, bytes: h.bytes, files: h.files });
    return { run, sha: h.files.find((f) => f.path === 'train.csv')!.sha256 };
  };
  const a = await record('before', rows(3000));
  const b = await record('after', rows(3000, 15));
  const expected = tableDrift(store.profiles.get(a.sha)!, store.profiles.get(b.sha)!);
  return { ws, store, a, b, expected };
}

test('Compare: a changed CSV shows its most drifted columns with PSI and KS from scores.ts', async () => {
  const { store, a, b, expected } = await twoRuns();
  assert.equal(expected[0]!.column, 'age', 'the shifted column drifts most');
  assert.ok(expected[0]!.psi! > 0.25);
  const model = buildModel(store, [store.runs.get(a.run.id)!, store.runs.get(b.run.id)!]);
  assert.equal(model.provenance[0]!.datasets[0]!.drift, undefined, 'the first run is the reference');
  const d = model.provenance[1]!.datasets[0]!;
  assert.deepEqual(d.changed, ['data/readme.txt', 'data/train.csv']);
  assert.deepEqual(d.drift, [{
    file: 'data/train.csv',
    columns: expected.slice(0, 3).map((c) => ({ column: c.column, psi: c.psi, ks: c.ks, level: driftLevel(c) })),
  }]);
  assert.deepEqual(d.drift![0]!.columns.map((c) => c.level), expected.slice(0, 3).map((c) => driftLevel(c)));
  const psis = d.drift![0]!.columns.map((c) => c.psi!);
  assert.deepEqual(psis, [...psis].sort((x, y) => y - x), 'the most drifted first');
  const text = driftText(d.drift!)!;
  assert.equal(text.text, `drift: age PSI ${metricValue(expected[0]!.psi, { digits: 2 })}`);
  assert.match(text.title, /data\/train\.csv: age PSI [\d.]+ KS [\d.]+ \(drifted\)/);
  store.close();
});

test('driftText: a column in one version only ranks first; no columns, no text', () => {
  const col = (column: string, psi: number | null, note?: string) => ({ column, psi, ks: null, level: 'stable' as const, ...(note ? { note } : {}) });
  assert.equal(driftText([]), undefined);
  assert.equal(driftText([{ file: 'a.csv', columns: [col('x', 0.05)] }, { file: 'b.csv', columns: [col('y', 0.4), col('z', null, 'new column')] }])!.text,
    'drift: z (new column)');
  assert.equal(driftText([{ file: 'a.csv', columns: [col('x', 0.05)] }, { file: 'b.csv', columns: [col('y', 0.4)] }])!.text, 'drift: y PSI 0.4');
});

test('the lineage page lists the drift of a changed CSV against the other version, drifted columns first', async () => {
  const { store, a, b, expected } = await twoRuns();
  const reg = (runId: number) => store.models.register({
    model: 'clf', runId, artifactId: null, path: 'model.bin', kind: 'file', digest: sha(String(runId)),
    size: 1, fileCount: 1, params: {}, metrics: [],
  });
  const v1 = reg(a.run.id), v2 = reg(b.run.id);
  const l = lineage(store, v2.id);
  const diff = datasetDiff(store.provenance.datasets(a.run.id), l.datasets, store.profiles);
  const html = lineagePage(l, { cspSource: 'x', style: 's.css', against: { version: v1.version, diff } });
  assert.match(html, /Drift of <code>train\.csv<\/code> from v1 to v2: <span class="changed">\d+ column\(s\) drifted<\/span>/);
  const table = html.slice(html.indexOf('<table class="drift">'));
  const cells = [...table.slice(0, table.indexOf('</table>')).matchAll(/<tr><td><code>([^<]+)<\/code><\/td><td>(\w+)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><td><span class="drift (\w+)">/g)]
    .map((m) => m.slice(1));
  assert.deepEqual(cells, expected.map((c) => [c.column, c.type, metricValue(c.psi, { digits: 2, missing: '—' }),
    metricValue(c.ks, { digits: 2, missing: '—' }), '0% → 0%', driftLevel(c)]));
  assert.equal(cells[0]![0], 'age');
  assert.equal(cells[0]![5], 'drifted');
  assert.match(html, /PSI ≥ 0\.25: drifted; ≥ 0\.1: moderate\./);
  // no profiles asked for: no drift table
  assert.doesNotMatch(lineagePage(l, { cspSource: 'x', style: 's.css', against: { version: 1, diff: datasetDiff(store.provenance.datasets(a.run.id), l.datasets) } }), /class="drift"/);
  store.close();
});

test('a run adopted from the inbox gets profiles of its CSV files that still hash to what it recorded', async () => {
  const dir = tempDir();
  const storeDir = join(dir, '.runlens');
  const store = Store.open(storeDir);
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'same.csv'), rows(50));
  writeFileSync(join(dir, 'data', 'edited.csv'), rows(50, 3));
  const h = await hashDataset(join(dir, 'data')); // as the helper hashed them
  writeFileSync(join(dir, 'data', 'edited.csv'), rows(50, 9)); // changed after the run recorded it
  const e = inboxEntry(dir, { datasets: [{ path: 'data', digest: h.digest, fileCount: h.fileCount, bytes: h.bytes, files: h.files }] });
  writeHelperRun(storeDir, e);
  const result = await adoptInbox(store, storeDir);
  assert.equal(result.adopted.length, 1);
  assert.deepEqual(result.warnings, []);
  const [edited, same] = h.files.map((f) => f.sha256);
  assert.deepEqual(store.profiles.get(same!), await profileFile(join(dir, 'data', 'same.csv')));
  assert.equal(store.profiles.get(edited!), undefined, 'not the recorded content any more');
  assert.equal(store.profiles.has([sha(rows(50, 9))]).size, 0, 'nor a profile of content no run recorded');
  store.close();
});
