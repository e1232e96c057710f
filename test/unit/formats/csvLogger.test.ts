import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCsvMetrics, type CsvState } from '../../../src/core/formats/csvLogger.ts';
import { parseRows } from '../../../src/core/formats/delimited.ts';

const NOW = 1_700_000_000_000;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

test('the tokenizer: quotes, doubled quotes, separators and line breaks inside quotes, CRLF', () => {
  const text = 'a,"b,c","say ""hi""","two\r\nlines"\r\n,,\r\n"x"\nlast,"open';
  const { rows, end } = parseRows(text);
  assert.deepEqual(rows, [['a', 'b,c', 'say "hi"', 'two\r\nlines'], ['', '', ''], ['x']]);
  assert.equal(end, text.indexOf('last'));
  assert.deepEqual(parseRows('a,b\r'), { rows: [], end: 0 }, 'a \\r at the end may be half of \\r\\n');
  assert.deepEqual(parseRows('"a"'), { rows: [], end: 0 });
  assert.deepEqual(parseRows('"a"""\n'), { rows: [['a"']], end: 6 });
  assert.deepEqual(parseRows('a\tb c\n', '\t'), { rows: [['a', 'b c']], end: 6 });
});

test('a sparse Lightning metrics.csv: empty cells are not points, epoch is a metric', () => {
  const text = [
    'epoch,step,train_loss,val_acc,val_loss',
    '0,49,0.5,,',
    '0,99,0.25,,',
    '0,99,,0.75,0.3',
    '1,149,NaN,,',
    '1,199,-inf,,',
    '',
  ].join('\r\n');
  const state: CsvState = {};
  const r = readCsvMetrics(text, state, NOW);
  const p = (key: string, step: number, value: number) => ({ key, step, time: NOW, value });
  assert.deepEqual(r.points, [
    p('epoch', 49, 0), p('train_loss', 49, 0.5),
    p('epoch', 99, 0), p('train_loss', 99, 0.25),
    p('val_acc', 99, 0.75), p('val_loss', 99, 0.3),
    p('epoch', 149, 1), p('train_loss', 149, NaN),
    p('epoch', 199, 1), p('train_loss', 199, -Infinity),
  ]);
  assert.equal(r.consumed, bytes(text));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(state.header, ['epoch', 'step', 'train_loss', 'val_acc', 'val_loss']);
  assert.deepEqual(r.header, state.header);
});

test('a Keras CSVLogger file: the epoch is the step', () => {
  const text = 'epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.25,0.625,1\n1,0.75,0.8,NA,INF\n';
  const r = readCsvMetrics(text, {}, NOW);
  assert.deepEqual(r.points.map((p) => [p.key, p.step, p.value]), [
    ['accuracy', 0, 0.5], ['loss', 0, 1.25], ['val_accuracy', 0, 0.625], ['val_loss', 0, 1],
    ['accuracy', 1, 0.75], ['loss', 1, 0.8], ['val_loss', 1, Infinity],
  ]);
  assert.ok(r.points.every((p) => p.time === NOW));
  assert.deepEqual(r.problems, []);
});

test('a timestamp column gives the time (seconds to ms) and is not a metric', () => {
  const r = readCsvMetrics('step,loss,timestamp\n1,0.5,1700000000.25\n2,0.4,\n', {}, NOW);
  assert.deepEqual(r.points, [
    { key: 'loss', step: 1, time: 1_700_000_000_250, value: 0.5 },
    { key: 'loss', step: 2, time: NOW, value: 0.4 },
  ]);
});

test('quoted cells: quoted numbers are read; a column of text gives one problem', () => {
  const text = 'step,"val,acc","note ""x"""\n"1","0.5","first\nline"\n2,0.25,second\n';
  const r = readCsvMetrics(text, {}, NOW);
  assert.deepEqual(r.points.map((p) => [p.key, p.step, p.value]), [['val,acc', 1, 0.5], ['val,acc', 2, 0.25]]);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0]!, /column "note \\"x\\"" holds values that are not numbers/);
  assert.equal(r.consumed, bytes(text));
});

test('a torn last line is not consumed; the next read continues with the header state', () => {
  const full = 'step,lösś\n1,0.5\n2,0.25\n3,"0.125"\n';
  for (const cut of [full.indexOf('3,') + 1, full.indexOf('3,') + 4, full.length - 1]) {
    const state: CsvState = {};
    const first = readCsvMetrics(full.slice(0, cut), state, NOW);
    assert.deepEqual(first.points.map((p) => p.step), [1, 2], `cut at ${cut}`);
    assert.equal(first.consumed, bytes(full.slice(0, full.indexOf('3,'))), 'bytes, not characters');
    const rest = Buffer.from(full, 'utf8').subarray(first.consumed).toString('utf8');
    const second = readCsvMetrics(rest, state, NOW);
    assert.deepEqual(second.points, [{ key: 'lösś', step: 3, time: NOW, value: 0.125 }]);
    assert.equal(second.consumed, bytes(rest));
  }
  const crOnly = readCsvMetrics('step,loss\r\n1,0.5\r', {}, NOW);
  assert.deepEqual(crOnly.points, []);
  assert.equal(crOnly.consumed, 11);
});

test('a new header (Lightning rewrote the file with new keys) replaces the old one', () => {
  const state: CsvState = {};
  readCsvMetrics('epoch,step,loss\n0,10,0.5\n', state, NOW);
  assert.deepEqual(state.header, ['epoch', 'step', 'loss']);
  // The rewritten file, read again from the start.
  const r = readCsvMetrics('epoch,loss,lr,step\n0,0.5,,10\n0,0.4,0.01,20\n', state, NOW);
  assert.deepEqual(state.header, ['epoch', 'loss', 'lr', 'step']);
  assert.deepEqual(r.points.map((p) => [p.key, p.step, p.value]), [
    ['epoch', 10, 0], ['loss', 10, 0.5], ['epoch', 20, 0], ['loss', 20, 0.4], ['lr', 20, 0.01],
  ]);
  // Later text without a header uses the new one.
  const later = readCsvMetrics('1,0.3,0.02,30\n', state, NOW);
  assert.deepEqual(later.points.map((p) => [p.key, p.step, p.value]), [['epoch', 30, 1], ['loss', 30, 0.3], ['lr', 30, 0.02]]);
});

test('rows without a step, and headers without a step or epoch, are skipped with problems', () => {
  const r = readCsvMetrics('step,loss\n,0.5\nabc,0.1\n4,0.2\n', {}, NOW);
  assert.deepEqual(r.points.map((p) => p.step), [4]);
  assert.equal(r.problems.length, 2);
  const none = readCsvMetrics('a,b\n1,2\n', {}, NOW);
  assert.deepEqual(none.points, []);
  assert.match(none.problems[0]!, /no step or epoch column/);
  assert.equal(none.consumed, 8);
});
