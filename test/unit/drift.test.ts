import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Cdf, Kll } from '../../src/core/drift/kll.ts';
import { type TableProfile, TableProfiler, profileFile, profileText, tabularDelimiter } from '../../src/core/drift/profile.ts';
import { binEdges, columnDrift, ks, psi, tableDrift } from '../../src/core/drift/scores.ts';
import { cellNumber, parseRows } from '../../src/core/formats/delimited.ts';
import { Store } from '../../src/core/store/store.ts';
import { tempDir } from './helpers.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b}`);
const cdf = (values: number[]) => { const k = new Kll(); for (const v of values) k.add(v); return new Cdf(k); };
const csv = (header: string, rows: (string | number)[][]) => `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
const column = (p: TableProfile, name: string) => p.columns.find((c) => c.name === name)!;

// ---------------------------------------------------------------- PSI and KS by hand

test('PSI by hand: swapped shares, counts as well as shares, and an empty bin', () => {
  // (0.5 − 0.25)·ln(0.5/0.25) + 0 + (0.25 − 0.5)·ln(0.25/0.5) = 0.5·ln 2
  close(psi([0.25, 0.25, 0.5], [0.5, 0.25, 0.25]), 0.5 * Math.LN2);
  close(psi([25, 25, 50], [2, 1, 1]), 0.34657359027997264);
  close(psi([1, 2, 3], [1, 2, 3]), 0);
  // an empty bin counts as 0.0001: (0.5 − 1)·ln(0.5/1) + (0.5 − 0.0001)·ln(0.5/0.0001)
  close(psi([1, 0], [0.5, 0.5]), 0.5 * Math.LN2 + 0.4999 * Math.log(5000));
  close(psi([1, 0], [0.5, 0.5]), 4.6043185, 1e-6);
});

test('KS by hand: the largest gap between the two step functions', () => {
  close(ks(cdf([1, 2, 3, 4]), cdf([3, 4, 5, 6])), 0.5); // at x = 2: 2/4 − 0
  close(ks(cdf([1, 2, 3]), cdf([1.5, 2.5, 3.5, 4.5])), 0.5); // at x = 3: 1 − 2/4
  close(ks(cdf([1, 2, 3]), cdf([1, 2, 3])), 0);
  close(ks(cdf([1, 1, 1, 1, 1, 6, 7, 8, 9, 10]), cdf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), 0.4); // at x = 1: 0.5 − 0.1
});

test('number columns: bins at the reference deciles; PSI and KS as computed by hand', () => {
  const a = profileText(csv('x', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((v) => [v])));
  const b = profileText(csv('x', [1, 1, 1, 1, 1, 6, 7, 8, 9, 10].map((v) => [v])));
  assert.deepEqual(binEdges(new Cdf(column(a, 'x').sketch!)), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const d = columnDrift(column(a, 'x'), column(b, 'x'));
  // bins (−∞,1] … (9,∞): a has 0.1 in each; b has 0.5, four empty bins (0.0001), then 0.1 in each of the last five
  close(d.psi!, (0.5 - 0.1) * Math.log(0.5 / 0.1) + 4 * (1e-4 - 0.1) * Math.log(1e-4 / 0.1));
  close(d.ks!, 0.4);
  const same = columnDrift(column(a, 'x'), column(profileText(csv('x', [10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((v) => [v]))), 'x'));
  assert.deepEqual([same.psi, same.ks], [0, 0], 'order does not matter');
});

test('text columns: PSI over the top values of both, missing cells in a bin of their own', () => {
  const a = profileText(csv('city', [['paris'], ['paris'], ['lyon'], ['lyon']]));
  const b = profileText(csv('city', [['paris'], ['paris'], ['paris'], ['nice']]));
  const d = columnDrift(column(a, 'city'), column(b, 'city'));
  // bins paris, lyon, nice: a 0.5, 0.5, 0; b 0.75, 0, 0.25
  close(d.psi!, 0.25 * Math.log(1.5) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5) + (0.25 - 1e-4) * Math.log(0.25 / 1e-4));
  assert.equal(d.ks, null);
  const m = profileText(csv('city', [['paris'], [''], ['NA'], ['lyon']]));
  const dm = columnDrift(column(a, 'city'), column(m, 'city'));
  assert.deepEqual(dm.missing, { a: 0, b: 0.5 });
  // paris 0.5 → 0.25, lyon 0.5 → 0.25, missing 0 → 0.5
  close(dm.psi!, 2 * (0.25 - 0.5) * Math.log(0.25 / 0.5) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4));
});

test('tableDrift: new and removed columns first, then the most drifted', () => {
  const a = profileText(csv('x,y,gone', [[1, 'a', 1], [2, 'b', 2], [3, 'a', 3], [4, 'b', 4]]));
  const b = profileText(csv('x,y,added', [[1, 'a', 1], [2, 'a', 2], [30, 'a', 3], [40, 'a', 4]]));
  const d = tableDrift(a, b);
  assert.deepEqual(d.slice(0, 2).map((c) => [c.column, c.note]), [['gone', 'column removed'], ['added', 'new column']]);
  assert.deepEqual(d.slice(2).map((c) => c.column).sort(), ['x', 'y']);
  assert.ok(d[2]!.psi! > d[3]!.psi! && d[3]!.psi! > 0, 'by PSI, most first');
});

// ---------------------------------------------------------------- the profiler reads as formats/delimited.ts does

const TRICKY = '\uFEFFid,"na,me",score,note\r\n'
  + '1,alpha,0.5,"said ""hi"""\r\n'
  + '2,"be\nta",1e3,\r\n'
  + '3,gamma,NaN,x,extra\n'
  + '\n'
  + '4,,-inf,"a,b"\n'
  + '"5",delta, 7 ,plain"quote\n'
  + '6,eps,12345678901234567,\n'
  + '7';

/** Per column, from parseRows: cells, missing, numbers, text values with counts. */
function expected(text: string) {
  const rows = parseRows(`${text}\n`).rows;
  const names = rows[0]!.map((n, i) => (i === 0 ? n.replace(/^\uFEFF/, '') : n).trim());
  return names.map((name, c) => {
    const out = { name, count: 0, missing: 0, numbers: 0, text: new Map<string, number>() };
    for (const row of rows.slice(1)) {
      out.count++;
      const cell = row[c];
      const v = cell === undefined ? undefined : cellNumber(cell);
      if (v === undefined || (typeof v === 'number' && Number.isNaN(v))) out.missing++;
      else if (v === null) out.text.set(cell!, (out.text.get(cell!) ?? 0) + 1);
      else out.numbers++;
    }
    return out;
  });
}

function summary(p: TableProfile) {
  return p.columns.map((c) => ({ name: c.name, count: c.count, missing: c.missing, numbers: c.numbers, text: new Map(c.top) }));
}

test('cells are read as parseRows and cellNumber read them: quotes, line breaks in quotes, CRLF, short and long rows', () => {
  const want = expected(TRICKY);
  const whole = profileText(TRICKY);
  assert.equal(whole.rows, 8);
  assert.deepEqual(summary(whole), want);
  assert.deepEqual(column(whole, 'score').sketch!.levels.flat(), [0.5, 7, 1000, 12345678901234568]);
  assert.equal(column(whole, 'score').negInf, 1);
  assert.deepEqual(column(whole, 'note').top, [['a,b', 1], ['plain"quote', 1], ['said "hi"', 1], ['x', 1]]);
  assert.deepEqual(whole.columns.map((c) => [c.name, c.type]), [['id', 'number'], ['na,me', 'string'], ['score', 'number'], ['note', 'string']]);
  // Every split into two slices, and one byte at a time, reads the same.
  const bytes = Buffer.from(TRICKY);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const p = new TableProfiler();
    p.update(bytes.subarray(0, cut));
    p.update(bytes.subarray(cut));
    assert.deepEqual(p.finish(), whole, `cut at ${cut}`);
  }
  const p = new TableProfiler();
  for (let i = 0; i < bytes.length; i++) p.update(bytes.subarray(i, i + 1));
  assert.deepEqual(p.finish(), whole);
});

test('numbers read exactly as Number() reads them', () => {
  const cells = ['0.1', '-0.3', '+2', '00012', '.5', '5.', '1e-7', '-2.5E+3', '123456789012345', '0.30000000000000004', '9007199254740993', ' 4 ', 'inf', '-Infinity', 'nan'];
  const p = profileText(`v\n${cells.join('\n')}\n`);
  const c = column(p, 'v');
  assert.deepEqual([c.numbers, c.missing, c.posInf, c.negInf], [14, 1, 1, 1]);
  const want = cells.slice(0, 12).map((s) => Number(s)).sort((a, b) => a - b);
  assert.deepEqual(c.sketch!.levels.flat(), want);
  assert.equal(tabularDelimiter('data/train.CSV'), ',');
  assert.equal(tabularDelimiter('x.tsv'), '\t');
  assert.equal(tabularDelimiter('x.parquet'), undefined);
  const tsv = profileText('a\tb\n1\tx y\n', { delimiter: '\t' });
  assert.deepEqual(tsv.columns.map((col) => [col.name, col.type]), [['a', 'number'], ['b', 'string']]);
});

// ---------------------------------------------------------------- large files: the sample

function bigCsv(rows: number, quoted = false): string {
  let s = 'id,value,group,comment\n';
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < rows; i++) {
    const comment = quoted && i % 7 === 0 ? '"a, b\nc"' : 'ok';
    s += `${i},${(rnd() * 1000).toFixed(3)},${['a', 'b', 'c'][i % 3]},${comment}\n`;
  }
  return s;
}

test('beyond sampleBytes: rows exact, cells from an even sample, the same whatever the slices', async () => {
  for (const quoted of [false, true]) {
    const text = bigCsv(60_000, quoted);
    const file = join(tempDir(), 'big.csv');
    writeFileSync(file, text);
    const full = await profileFile(file, { sampleBytes: Infinity });
    const sampled = await profileFile(file, { sampleBytes: 256 << 10 });
    assert.equal(full.rows, 60_000);
    assert.equal(sampled.rows, 60_000, 'rows are counted over every byte');
    assert.equal(full.sampledRows, 60_000);
    const share = sampled.sampledRows / sampled.rows;
    const want = (256 << 10) / Buffer.byteLength(text);
    assert.ok(Math.abs(share - want) < 0.03, `sampled ${share}, want about ${want}`);
    const qa = new Cdf(column(full, 'value').sketch!), qb = new Cdf(column(sampled, 'value').sketch!);
    for (const q of [0.1, 0.5, 0.9]) assert.ok(Math.abs(qa.quantile(q) - qb.quantile(q)) < 30, `q${q}: ${qa.quantile(q)} vs ${qb.quantile(q)}`);
    assert.ok(column(sampled, 'id').max! > 42_000, 'the sample spans the file');
    const d = tableDrift(full, sampled).find((c) => c.column === 'value')!;
    assert.ok(d.psi! < 0.02 && d.ks! < 0.05, `a sample of the same data does not drift: ${d.psi} ${d.ks}`);
    // Any slicing gives the same profile: the sample depends on byte offsets only.
    const bytes = Buffer.from(text);
    const p = new TableProfiler({ size: bytes.length, sampleBytes: 256 << 10 });
    for (let i = 0; i < bytes.length; i += 4099) p.update(bytes.subarray(i, i + 4099));
    assert.deepEqual(p.finish(), sampled);
  }
});

test('KLL: exact while small, about 1% rank error when large, mergeable, and JSON round trips', () => {
  const small = new Kll();
  for (const v of [5, 1, 4, 2, 3]) small.add(v);
  const c = new Cdf(small);
  assert.deepEqual([c.quantile(0), c.quantile(0.2), c.quantile(0.5), c.quantile(1), c.at(2.5), c.at(0), c.at(9)], [1, 1, 3, 5, 0.4, 0, 1]);
  const n = 200_000;
  const a = new Kll(), b = new Kll(), all = new Kll();
  for (let i = 0; i < n; i++) {
    const v = (i * 7919) % n; // a permutation of 0..n-1
    all.add(v);
    (i % 2 ? a : b).add(v);
  }
  a.merge(b);
  for (const sketch of [all, a, Kll.from(JSON.parse(JSON.stringify(all.toJSON())))]) {
    const q = new Cdf(sketch);
    assert.equal(q.total, n);
    for (const r of [0.01, 0.25, 0.5, 0.75, 0.99]) assert.ok(Math.abs(q.quantile(r) / n - r) < 0.02, `q${r}: ${q.quantile(r) / n}`);
  }
  assert.ok(JSON.stringify(all.toJSON()).length < 8000, `${JSON.stringify(all.toJSON()).length} bytes`);
  const again = new Kll();
  for (let i = 0; i < n; i++) again.add((i * 7919) % n);
  assert.deepEqual(again.toJSON(), all.toJSON(), 'the same input gives the same sketch');
});

test('profiles are stored by the file\'s sha256', () => {
  const store = Store.open(join(tempDir(), '.runlens'));
  const p = profileText(bigCsv(5000));
  store.profiles.put('ab'.repeat(32), p);
  assert.deepEqual(store.profiles.get('ab'.repeat(32)), p);
  assert.equal(store.profiles.get('cd'.repeat(32)), undefined);
  assert.deepEqual([...store.profiles.has(['ab'.repeat(32), 'cd'.repeat(32)])], ['ab'.repeat(32)]);
  assert.ok(JSON.stringify(p).length < 20_000, `${JSON.stringify(p).length} bytes for 4 columns`);
  store.close();
});
