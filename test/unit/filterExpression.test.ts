import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../../src/core/store/store.ts';
import {
  FilterSyntaxError, compileFilter, describeFilterHelp, parseFilter,
} from '../../src/core/query/filterExpression.ts';
import { tempDir, series } from './helpers.ts';

const MIN = 60_000;
const INJECTION = "'; DROP TABLE runs; --";

/**
 * Six runs with a spread of params, metrics and tags. The clock is in epoch ms and moves one
 * minute per created run; `clock.t` can be set for durations.
 */
function fixture() {
  const clock = { t: 1_700_000_000_000 };
  const store = Store.open(tempDir(), { now: () => (clock.t += MIN) });
  const r = store.runs;
  const t0 = clock.t;
  const alpha = r.create({
    name: 'alpha', experiment: 'vision', status: 'finished', startedAt: t0,
    params: { lr: 0.001, optimizer: 'adam', use_amp: true, 'optimizer.lr': 0.5, batch: 32, both: 1 },
    tags: { owner: 'ana', 'data set': 'cifar', seed: '42' },
  });
  r.update(alpha.id, { starred: true, notes: 'Tried WARMUP here', endedAt: t0 + 90_000 });
  store.metrics.append(alpha.id, 'val_acc', series(0, 10, (s) => 0.5 + s * 0.05)); // 0.5 .. 0.95
  store.metrics.append(alpha.id, 'train/loss', series(0, 5, (s) => 1 / (s + 1))); // last 0.2
  store.metrics.append(alpha.id, 'both', series(0, 1, () => 10));

  const beta = r.create({
    name: 'beta', experiment: 'vision', status: 'running', startedAt: clock.t,
    params: { lr: 0.01, optimizer: 'sgd', use_amp: false, batch: 64 }, tags: { owner: 'bo', seed: '7' },
  });
  store.metrics.append(beta.id, 'val_acc', series(0, 3, (s) => [0.7, 0.9, 0.85][s]!));
  store.metrics.append(beta.id, 'train/loss', series(0, 3, (s) => 2 - s * 0.5)); // last 1.0

  const gamma = r.create({
    name: 'gamma', experiment: 'nlp', status: 'failed', params: { lr: 0.1, optimizer: 'adam', 'my key': 7 },
  });
  const delta = r.create({ name: 'delta', experiment: 'nlp', status: 'crashed', params: { batch: 32 } });
  store.metrics.append(delta.id, 'val_acc', series(0, 2, (s) => 0.9 + s * 0.02)); // last 0.92
  const quoted = r.create({ name: `it's "quoted"`, experiment: 'nlp', status: 'queued', params: { optimizer: '1e-3' } });
  const hostile = r.create({
    name: INJECTION, experiment: 'nlp', status: 'stopped', params: { [INJECTION]: 1 }, tags: { [INJECTION]: INJECTION },
  });
  return { store, clock, ids: { alpha: alpha.id, beta: beta.id, gamma: gamma.id, delta: delta.id, quoted: quoted.id, hostile: hostile.id } };
}

/** The names of the runs a filter selects, sorted so tests compare sets. */
function names(store: Store, where: string): string[] {
  return store.runs.list({ where, limit: 1000 }).map((r) => r.name).sort();
}

function syntaxError(fn: () => unknown): FilterSyntaxError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FilterSyntaxError, `expected a FilterSyntaxError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a FilterSyntaxError');
}

test('empty or blank text is no filter: every run shows', () => {
  assert.equal(parseFilter(''), undefined);
  assert.equal(parseFilter('   \t'), undefined);
  const { store } = fixture();
  assert.equal(names(store, '  ').length, 6);
  store.close();
});

test('and binds tighter than or; parentheses change that', () => {
  const { store } = fixture();
  assert.deepEqual(names(store, 'lr == 0.1 or optimizer == "adam" and use_amp'), ['alpha', 'gamma']);
  assert.deepEqual(names(store, '(lr == 0.1 or optimizer == "adam") and use_amp'), ['alpha']);
  assert.deepEqual(names(store, 'lr == 0.1 || optimizer == "sgd" && batch == 64'), ['beta', 'gamma']);
  assert.deepEqual(names(store, 'lr == 0.1 OR lr == 0.01 AND batch == 32'), ['gamma'], 'keywords are case-insensitive');
  store.close();
});

test('not binds tighter than and, and applies to a whole comparison', () => {
  const { store } = fixture();
  assert.deepEqual(names(store, 'not lr > 0.005 and optimizer == "adam"'), ['alpha']);
  assert.deepEqual(names(store, '!(lr > 0.005) or batch == 64'), ['alpha', 'beta']);
  assert.deepEqual(names(store, 'not not lr == 0.01'), ['beta']);
  store.close();
});

test('every comparison operator selects the expected runs', () => {
  const { store } = fixture();
  assert.deepEqual(names(store, 'lr < 0.01'), ['alpha']);
  assert.deepEqual(names(store, 'lr <= 0.01'), ['alpha', 'beta']);
  assert.deepEqual(names(store, 'lr > 0.01'), ['gamma']);
  assert.deepEqual(names(store, 'lr >= 0.01'), ['beta', 'gamma']);
  assert.deepEqual(names(store, 'lr == 0.01'), ['beta']);
  assert.deepEqual(names(store, 'lr = 0.01'), ['beta']);
  assert.deepEqual(names(store, 'lr != 0.01'), ['alpha', 'gamma']);
  assert.deepEqual(names(store, 'lr <> 0.01'), ['alpha', 'gamma']);
  assert.deepEqual(names(store, '0.01 > lr'), ['alpha'], 'a literal may come first');
  assert.deepEqual(names(store, 'lr in (0.1, 0.001)'), ['alpha', 'gamma']);
  assert.deepEqual(names(store, 'lr not in (0.1, 0.001)'), ['beta']);
  assert.deepEqual(names(store, 'optimizer in ("adam", "1e-3")'), ['alpha', 'gamma', `it's "quoted"`]);
  assert.deepEqual(names(store, 'optimizer contains "AD"'), ['alpha', 'gamma'], 'contains ignores case');
  assert.deepEqual(names(store, 'optimizer not contains "ad"'), ['beta', `it's "quoted"`]);
  assert.deepEqual(names(store, 'name ~ "?ELTA"'), ['delta']);
  assert.deepEqual(names(store, 'name ~ "*a"'), ['alpha', 'beta', 'delta', 'gamma']);
  assert.deepEqual(names(store, 'batch == val_acc'), [], 'two fields can be compared');
  assert.deepEqual(names(store, 'lr < `optimizer.lr`'), ['alpha']);
  store.close();
});

test('numbers: exponents, negatives, leading dot and digit separators', () => {
  const { store } = fixture();
  assert.deepEqual(names(store, 'lr == 1e-3'), ['alpha']);
  assert.deepEqual(names(store, 'lr == 1E-2'), ['beta']);
  assert.deepEqual(names(store, 'lr > -0.5 and lr < .005'), ['alpha']);
  assert.deepEqual(names(store, 'lr > +0'), ['alpha', 'beta', 'gamma']);
  assert.deepEqual(names(store, 'batch < 1_000 and batch > 3_2'), ['beta']);
  store.close();
});

test('strings in single or double quotes with backslash escapes', () => {
  const { store } = fixture();
  assert.deepEqual(names(store, `name == 'it\\'s "quoted"'`), [`it's "quoted"`]);
  assert.deepEqual(names(store, `name == "it's \\"quoted\\""`), [`it's "quoted"`]);
  assert.deepEqual(names(store, `optimizer == '1e-3'`), [`it's "quoted"`], 'a numeric-looking string param stays text');
  assert.deepEqual(parseFilter(String.raw`name == "a\tb\\c\n"`), {
    type: 'compare', op: '==',
    left: { type: 'field', scope: 'any', key: 'name', quoted: false, offset: 0, length: 4 },
    right: { type: 'literal', value: 'a\tb\\c\n', offset: 8, length: 11 },
  });
  store.close();
});

test('backquoted, dotted and slashed keys, and the param./metric./tag. prefixes', () => {
  const { store } = fixture();
  assert.deepEqual(names(store, '`my key` == 7'), ['gamma']);
  assert.deepEqual(names(store, 'params.`my key` > 6'), ['gamma']);
  assert.deepEqual(names(store, 'optimizer.lr == 0.5'), ['alpha'], 'a dotted key is one name');
  assert.deepEqual(names(store, 'param.optimizer.lr == 0.5'), ['alpha']);
  assert.deepEqual(names(store, 'train/loss < 0.5'), ['alpha']);
  assert.deepEqual(names(store, 'metrics.train/loss >= 1'), ['beta']);
  assert.deepEqual(names(store, 'tag.owner == "ana"'), ['alpha']);
  assert.deepEqual(names(store, 'tags.`data set` contains "CIF"'), ['alpha']);
  assert.deepEqual(names(store, 'Params.lr == 0.1'), ['gamma'], 'prefixes ignore case');
  assert.deepEqual(names(store, 'tag.seed > 10'), ['alpha'], 'a numeric tag compares as a number');
  assert.deepEqual(names(store, 'tag.seed == 7'), ['beta']);
  assert.deepEqual(names(store, 'tag.owner > 1'), [], 'a text tag never matches a number');
  store.close();
});

test('a key that is both a param and a metric means the param; metric.x reaches the metric', () => {
  const { store } = fixture();
  assert.deepEqual(names(store, 'both == 1'), ['alpha']);
  assert.deepEqual(names(store, 'both == 10'), []);
  assert.deepEqual(names(store, 'metric.both == 10'), ['alpha']);
  store.close();
});

test('names resolve like everywhere else: lr finds the only .lr key, case and _ - . are ignored', () => {
  const store = Store.open(tempDir());
  const r = store.runs;
  const demo = [['slow', 0.01, 0.8], ['mid', 0.05, 0.9], ['fast', 0.3, 0.85]] as const;
  for (const [name, lr, acc] of demo) {
    const run = r.create({ name, experiment: 'demo', status: 'finished', params: { 'train.lr': lr, 'train.batch_size': 32 } });
    store.metrics.append(run.id, 'val_acc', series(0, 3, () => acc));
  }
  assert.deepEqual(names(store, 'lr < 0.1'), ['mid', 'slow']);
  assert.deepEqual(names(store, 'LR >= 0.1'), ['fast']);
  assert.deepEqual(names(store, 'param.lr == 0.05 and BATCH-SIZE == 32'), ['mid']);
  assert.deepEqual(names(store, 'val-acc > 0.82 and max(VAL_ACC) < 0.9'), ['fast']);
  const lrr = syntaxError(() => names(store, 'lrr < 0.1'));
  assert.equal(lrr.message, 'No param or metric named "lrr".', 'no match: the did-you-mean rule as before');

  // A second .lr key makes lr ambiguous; the full key still works.
  const other = r.create({ name: 'other', experiment: 'demo', status: 'finished', params: { 'optim.lr': 0.001 } });
  const err = syntaxError(() => names(store, 'val_acc > 0 and lr < 0.1'));
  assert.equal(err.message, '"lr" could be optim.lr or train.lr');
  assert.deepEqual([err.offset, err.length], [16, 2]);
  assert.equal(syntaxError(() => names(store, 'param.lr < 1')).message, '"lr" could be optim.lr or train.lr');
  assert.deepEqual(names(store, 'optim.lr < 0.1'), ['other']);

  // A metric with the exact name beats the param the name is a suffix of.
  store.metrics.append(other.id, 'lr', series(0, 2, () => 0.5));
  assert.deepEqual(names(store, 'lr == 0.5'), ['other'], 'lr is now the logged metric');
  store.close();
});

test('min, max, last and count read a metric summary', () => {
  const { store } = fixture();
  assert.deepEqual(names(store, 'min(val_acc) < 0.6'), ['alpha']);
  assert.deepEqual(names(store, 'max(val_acc) >= 0.9'), ['alpha', 'beta', 'delta']);
  assert.deepEqual(names(store, 'last(val_acc) > 0.86 and last(val_acc) < 0.93'), ['delta']);
  assert.deepEqual(names(store, 'count(val_acc) >= 3'), ['alpha', 'beta']);
  assert.deepEqual(names(store, 'MAX(`train/loss`) == 2'), ['beta']);
  assert.deepEqual(names(store, 'count("train/loss") == 5'), ['alpha']);
  assert.deepEqual(names(store, 'count(val_acc)'), ['alpha', 'beta', 'delta'], 'a call alone means non-zero');
  store.close();
});

test('built-ins: name, status, experiment, notes, starred, duration, created', () => {
  const { store, clock, ids } = fixture();
  assert.deepEqual(names(store, 'name contains "ph"'), ['alpha']);
  assert.deepEqual(names(store, 'status == running'), ['beta'], 'a status may go without quotes');
  assert.deepEqual(names(store, 'status == "FAILED"'), ['gamma']);
  assert.deepEqual(names(store, 'status in (queued, "crashed")'), ['delta', `it's "quoted"`]);
  assert.deepEqual(names(store, 'status not in (queued, crashed, stopped, failed)'), ['alpha', 'beta']);
  assert.deepEqual(names(store, 'running == status'), ['beta']);
  assert.deepEqual(names(store, 'experiment == "vision"'), ['alpha', 'beta']);
  assert.deepEqual(names(store, 'notes contains "warmup"'), ['alpha']);
  assert.deepEqual(names(store, 'starred'), ['alpha']);
  assert.deepEqual(names(store, 'starred == true'), ['alpha']);
  assert.equal(names(store, 'not starred').length, 5);
  // alpha ran 90 s and ended; beta started a minute later and is still running.
  const beta = store.runs.get(ids.beta)!;
  clock.t = beta.startedAt! + 10 * MIN;
  assert.deepEqual(names(store, 'duration > 60 and duration < 100'), ['alpha']);
  assert.deepEqual(names(store, 'duration > 500'), ['beta'], 'a running run counts until now');
  const gamma = store.runs.get(ids.gamma)!;
  assert.deepEqual(names(store, `created >= ${gamma.createdAt}`), ['delta', 'gamma', INJECTION, `it's "quoted"`].sort());
  assert.deepEqual(names(store, `created < "${new Date(gamma.createdAt).toISOString()}"`), ['alpha', 'beta'], 'created takes a date');
  assert.deepEqual(names(store, 'NAME == "beta"'), ['beta'], 'built-ins ignore case');
  store.close();
});

test('bool params compare with true and false; a bare name means set and true', () => {
  const { store } = fixture();
  assert.deepEqual(names(store, 'use_amp == true'), ['alpha']);
  assert.deepEqual(names(store, 'use_amp == FALSE'), ['beta']);
  assert.deepEqual(names(store, 'use_amp != true'), ['beta']);
  assert.deepEqual(names(store, 'use_amp'), ['alpha']);
  assert.deepEqual(names(store, 'not use_amp'), ['beta', 'delta', 'gamma', INJECTION, `it's "quoted"`].sort(),
    'runs without the param are "not set", so not use_amp selects them');
  assert.deepEqual(names(store, 'optimizer'), ['alpha', 'beta', 'gamma', `it's "quoted"`], 'a non-empty string is true');
  store.close();
});

test('a missing param or metric never matches a comparison, negated or not', () => {
  const { store } = fixture();
  assert.deepEqual(names(store, 'val_acc > 0'), ['alpha', 'beta', 'delta']);
  assert.deepEqual(names(store, 'not (val_acc > 0.9)'), ['beta'], 'gamma has no val_acc and stays out');
  assert.deepEqual(names(store, 'val_acc != 0.85'), ['alpha', 'delta']);
  assert.deepEqual(names(store, 'val_acc not in (0.85)'), ['alpha', 'delta']);
  assert.deepEqual(names(store, 'not (lr < 0.05)'), ['gamma']);
  assert.deepEqual(names(store, 'lr > 0.05 or val_acc > 0.9'), ['alpha', 'delta', 'gamma']);
  assert.deepEqual(names(store, 'optimizer > 1'), [], 'a string param compared with a number matches nothing');
  assert.deepEqual(names(store, 'lr == "adam"'), []);
  store.close();
});

test('an unknown name is an error that suggests the closest known one', () => {
  const { store } = fixture();
  const cases: [string, string, number, number][] = [
    ['lrr < 0.01', 'No param or metric named "lrr". Did you mean "lr"?', 0, 3],
    ['lr < 1 and val_ac > 0.9', 'No param or metric named "val_ac". Did you mean "val_acc"?', 11, 6],
    ['Optimiser == "adam"', 'No param or metric named "Optimiser". Did you mean "optimizer"?', 0, 9],
    ['optimizer == adamw', 'No param or metric named "adamw". To compare with text, put it in quotes: "adamw"', 13, 5],
    ['optimizer == nam', 'No param or metric named "nam". Did you mean "name"? To compare with text, put it in quotes: "nam"', 13, 3],
    ['owner == "ana"', 'No param or metric named "owner". To filter by the tag, write tag.owner', 0, 5],
    ['param.val_acc > 1', 'No param named "val_acc".', 0, 13],
    ['max(lr) > 1', 'No metric named "lr".', 0, 7],
    ['max(val_accc) > 1', 'No metric named "val_accc". Did you mean "val_acc"?', 0, 13],
    ['tag.ownr == "x"', 'No tag named "ownr". Did you mean "owner"?', 0, 8],
    ['status == runing', 'Unknown status "runing": use queued, running, finished, failed, stopped or crashed. Did you mean "running"?', 10, 6],
    ['status > running', 'status can only be compared with ==, != or in, e.g. status in (running, queued)', 9, 7],
    ['optimizer in (adam, sgd)', 'Put text in quotes in a list: "adam" (only status names may go without quotes)', 14, 4],
    ['created > "last tuesday"', '"last tuesday" is not a date: write created > "2024-05-01" or epoch milliseconds', 10, 14],
  ];
  for (const [text, message, offset, length] of cases) {
    const err = syntaxError(() => store.runs.list({ where: text }));
    assert.equal(err.message, message, text);
    assert.deepEqual([err.offset, err.length], [offset, length], text);
    assert.ok(err.offset + err.length <= text.length, `${text}: the highlight stays inside the text`);
  }
  assert.throws(() => store.runs.count({ where: 'lrr < 1' }), FilterSyntaxError, 'count checks names too');
  store.close();
});

test('each syntax error says what is wrong and where', () => {
  const cases: [string, string, number, number][] = [
    ['lr <', 'Expected a value after "<" at column 5', 4, 0],
    ['lr < )', 'Expected a value after "<" at column 6, not ")"', 5, 1],
    ['lr < 1 and', 'Expected a condition after "and" at column 11', 10, 0],
    ['and lr', 'Expected a condition at column 1, not "and"', 0, 3],
    ['not', 'Expected a condition after "not" at column 4', 3, 0],
    ['name == "resnet', 'Unclosed string starting at column 9', 8, 7],
    ["name == 'x\\'", 'Unclosed string starting at column 9', 8, 4],
    ['`my key == 1', 'Unclosed `quoted name` starting at column 1', 0, 12],
    ['avg(val_acc) > 0.9', 'Unknown function "avg": use min, max, last or count', 0, 3],
    ['max() > 1', 'Expected a metric name inside max( at column 5, not ")"', 4, 1],
    ['max(val_acc > 1', 'Expected ")" after the metric name at column 13, not ">"', 12, 1],
    ['lr > 0.1 and val_acc > 1)', 'Unexpected ")" at column 25', 24, 1],
    ['(lr > 0.1', 'Missing ")" to close the "(" at column 1', 0, 1],
    ['(lr > 0.1 lr', 'Expected ")" at column 11, not "lr" (the "(" at column 1 is still open)', 10, 2],
    ['()', 'Expected a condition after "(" at column 2', 1, 1],
    ['lr 0.1', 'Expected an operator (<, <=, >, >=, ==, !=, in, contains) after "lr" at column 4, not "0.1"', 3, 3],
    ['lr < 0.1 batch > 1', 'Unexpected "batch" at column 10: join conditions with "and" or "or"', 9, 5],
    ['0.5', '0.5 alone is not a condition: compare it with something, e.g. name contains "0.5" (column 1)', 0, 3],
    ['"adam"', '"adam" alone is not a condition: compare it with something, e.g. name contains "adam" (column 1)', 0, 6],
    ['lr in 0.1', 'Expected "(" after "in" at column 7, as in lr in (0.1, 0.01)', 6, 3],
    ['lr in (0.1,', 'Expected a value in the list at column 12', 11, 0],
    ['lr in (0.1 0.2)', 'Expected "," or ")" in the list at column 12, not "0.2"', 11, 3],
    ['lr in (0.1', 'Missing ")" to close the list at column 7', 6, 1],
    ['lr in ()', 'Expected a value in the list at column 8, not ")"', 7, 1],
    ['lr not 1', 'Expected "in" or "contains" after "not" at column 8', 7, 1],
    ['name contains 3', 'Expected text in quotes after "contains" at column 15, not "3"', 14, 1],
    ['name ~ resnet', 'Expected a pattern in quotes after "~" at column 8, not "resnet"', 7, 6],
    ['lr & batch', 'Unexpected "&" at column 4: write "and" (or "&&")', 3, 1],
    ['lr | batch', 'Unexpected "|" at column 4: write "or" (or "||")', 3, 1],
    ['lr < 1e', 'Invalid number "1e" at column 6', 5, 2],
    ['lr < 1.2.3', 'Invalid number "1.2.3" at column 6', 5, 5],
    ['lr < 3x', 'Invalid number "3x" at column 6', 5, 2],
    ['lr < 1__0', 'Invalid number "1__0" at column 6', 5, 4],
    ['lr ; drop', 'Unexpected character ";" at column 4', 3, 1],
    ['lr < $1', 'Unexpected character "$" at column 6', 5, 1],
  ];
  for (const [text, message, offset, length] of cases) {
    const err = syntaxError(() => parseFilter(text));
    assert.equal(err.message, message, text);
    assert.deepEqual([err.offset, err.length], [offset, length], text);
    assert.equal(err.name, 'FilterSyntaxError');
  }
});

test('a very long or deeply nested filter still runs, and a monster one gets a message', () => {
  const { store } = fixture();
  const longest = Array.from({ length: 240 }, (_, i) => `lr == ${i === 100 ? 0.01 : i + 1}`).join(' or ');
  assert.deepEqual(names(store, longest), ['beta'], '240 conditions in a row');
  assert.deepEqual(names(store, `${'not '.repeat(64)}lr < 0.005`), ['alpha'], '64 nots');
  assert.deepEqual(names(store, `${'('.repeat(63)}lr < 0.005${')'.repeat(63)}`), ['alpha'], '63 parentheses');
  const tooLong = syntaxError(() => parseFilter(`${longest}${' or lr == 1'.repeat(20)}`));
  assert.equal(tooLong.message, 'This filter is too long: keep it under 1000 names, values and symbols');
  const tooDeep = syntaxError(() => parseFilter(`${'not '.repeat(500)}lr < 1`));
  assert.equal(tooDeep.message, 'This filter nests "(" and "not" more than 64 deep (column 257)');
  assert.equal(tooDeep.offset, 256);
  assert.match(syntaxError(() => parseFilter(`${'('.repeat(900)}lr`)).message, /more than 64 deep/);
  assert.match(syntaxError(() => parseFilter(`${'('.repeat(100_000)}lr`)).message, /too long/, 'no stack overflow');
  store.close();
});

test('SQL in strings, keys and tags is only ever data: the store stays intact', () => {
  const { store, ids } = fixture();
  const before = store.runs.count();
  assert.deepEqual(names(store, `name == "${INJECTION}"`), [INJECTION]);
  assert.deepEqual(names(store, `name contains "'; DROP"`), [INJECTION]);
  assert.deepEqual(names(store, `\`${INJECTION}\` == 1`), [INJECTION], 'a hostile key is just a key');
  assert.deepEqual(names(store, `tag.\`${INJECTION}\` == "${INJECTION}"`), [INJECTION]);
  assert.deepEqual(names(store, `name == "x\\" OR 1=1 --"`), []);
  assert.deepEqual(names(store, `notes == "') OR ('1'='1"`), []);
  assert.equal(store.runs.list({ text: INJECTION }).length, 1);
  assert.equal(store.runs.count(), before);
  assert.deepEqual(store.runs.params(ids.alpha).lr, 0.001);
  const node = parseFilter(`\`${INJECTION}\` == "${INJECTION}" or name contains "DROP TABLE"`)!;
  const { sql, args } = compileFilter(node);
  assert.ok(!sql.includes('DROP'), `no user text in SQL: ${sql}`);
  assert.ok(args.includes(INJECTION));
  store.close();
});

test('compileFilter alone: a name with no known keys reads the param, else the metric', () => {
  const { store } = fixture();
  const file = store.file;
  store.close();
  const db = new Database(file, { readonly: true });
  const run = (text: string) => {
    const { sql, args } = compileFilter(parseFilter(text)!, undefined, { now: 0 });
    return (db.prepare(`SELECT name FROM runs r WHERE ${sql} ORDER BY name`).pluck().all(...args) as string[]);
  };
  assert.deepEqual(run('lr < 0.05'), ['alpha', 'beta'], 'lr is a param');
  assert.deepEqual(run('val_acc > 0.9'), ['alpha', 'delta'], 'val_acc is a metric');
  assert.deepEqual(run('nothing_like_this > 0'), [], 'an unknown name matches nothing');
  assert.deepEqual(run('both == 1'), ['alpha']);
  db.close();
});

test('the help text names the operators, built-ins and functions', () => {
  const help = describeFilterHelp();
  for (const word of ['and', 'or', 'not', 'contains', 'in (', 'status', 'duration', 'min(x)', 'count(x)', 'param.x', 'metric.x', 'tag.x', 'lr < 0.01']) {
    assert.ok(help.includes(word), `help mentions ${word}`);
  }
  assert.ok(!help.includes('\n'), 'one paragraph');
});
