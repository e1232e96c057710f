import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { StdoutParser, type ParsedMetrics } from '../../src/core/ingest/stdoutParser.ts';

const corpus = join(import.meta.dirname, 'fixtures', 'stdout');
const linesOf = (file: string) => readFileSync(join(corpus, file), 'utf8').split('\n').slice(0, -1);
/** Expected files write non-finite numbers as "NaN", "Infinity", "-Infinity". */
const decode = (_k: string, v: unknown) => (v === 'NaN' || v === 'Infinity' || v === '-Infinity' ? Number(v) : v);
const parse = (line: string) => new StdoutParser().parse(line);

// Corpus: each positive file has a .expected.json with one entry per line (null: must not parse).

for (const file of readdirSync(corpus).filter((f) => f.endsWith('.txt') && f !== 'negatives.txt')) {
  test(`corpus ${file}: every line parses to exactly what is expected`, () => {
    const lines = linesOf(file);
    const expected = JSON.parse(readFileSync(join(corpus, file.replace(/\.txt$/, '.expected.json')), 'utf8'), decode) as (ParsedMetrics | null)[];
    assert.equal(expected.length, lines.length, 'one expectation per line');
    assert.ok(expected.some((e) => e !== null), 'the file has metric lines');
    const parser = new StdoutParser(); // one parser per file, as for one run (fastai tables span lines)
    lines.forEach((line, i) => assert.deepEqual(parser.parse(line), expected[i] ?? undefined, `${file}:${i + 1}: ${line}`));
  });
}

test('corpus negatives.txt: no line parses', () => {
  const lines = linesOf('negatives.txt');
  assert.ok(lines.length >= 100);
  const parser = new StdoutParser();
  const parsed = lines.filter((line) => parser.parse(line) !== undefined);
  assert.deepEqual(parsed, []);
});

test('the formats from the spec', () => {
  assert.deepEqual(parse('epoch=3 step=3 train_loss=0.6123 val_acc=0.7400'),
    { values: { epoch: 3, train_loss: 0.6123, val_acc: 0.74 }, step: 3 });
  assert.deepEqual(parse('loss=0.31, acc=0.9 | lr=1e-3'), { values: { loss: 0.31, acc: 0.9, lr: 0.001 } });
  assert.deepEqual(parse('Epoch 3: loss: 0.5123, acc: 0.81'), { values: { epoch: 3, loss: 0.5123, acc: 0.81 }, step: 3 });
  assert.deepEqual(parse('step: 100  loss: 2.31'), { values: { loss: 2.31 }, step: 100 });
  assert.deepEqual(parse("{'loss': 0.5, 'grad_norm': 1.23, 'learning_rate': 4.9e-05, 'epoch': 1.0}"),
    { values: { loss: 0.5, grad_norm: 1.23, learning_rate: 4.9e-5, epoch: 1 } });
  assert.deepEqual(parse('1875/1875 [==============================] - 3s 2ms/step - loss: 0.2961 - accuracy: 0.9140 - val_loss: 0.1234'),
    { values: { loss: 0.2961, accuracy: 0.914, val_loss: 0.1234 } });
  assert.deepEqual(parse('Epoch [3/10], Step [100/600], Loss: 0.2345'), { values: { epoch: 3, loss: 0.2345 }, step: 100 });
  assert.deepEqual(parse('100%|██████| 50/50 [00:02<00:00, 20.1it/s, loss=0.123, acc=0.9]'), { values: { loss: 0.123, acc: 0.9 } });
});

test('keys become lower snake case; / and . stay', () => {
  assert.deepEqual(parse('Val Acc: 0.9, Loss: 0.5, train/loss: 0.4, model.l2: 0.1, val-f1: 0.7')?.values,
    { val_acc: 0.9, loss: 0.5, 'train/loss': 0.4, 'model.l2': 0.1, val_f1: 0.7 });
  assert.deepEqual(parse("[1]\tvalid_0's l2: 0.12\tAvg. loss: 0.5")?.values, { valid_0_l2: 0.12, avg_loss: 0.5 });
  assert.deepEqual(parse('{"Train Loss": 0.5, "__proto__": 0.1, "constructor": 0.2}')?.values, { train_loss: 0.5, proto: 0.1, constructor: 0.2 });
});

test('values: ints, floats, exponents, nan/inf in any case, and percentages as written', () => {
  assert.deepEqual(parse('a=1 b=-2.5 c=1e-3 d=+4.0E2 e=.5 f=nan g=NaN h=inf i=-inf j=Infinity')?.values,
    { a: 1, b: -2.5, c: 0.001, d: 400, e: 0.5, f: NaN, g: NaN, h: Infinity, i: -Infinity, j: Infinity });
  assert.deepEqual(parse('acc: 91.4%, top5: 99%')?.values, { acc: 91.4, top5: 99 });
  assert.deepEqual(parse("{'loss': nan, 'x': -inf, 'y': 1e+15}")?.values, { loss: NaN, x: -Infinity, y: 1e15 });
});

test('step: step/global_step/iter/iteration, else an integer epoch; epoch is always a value too', () => {
  assert.deepEqual(parse('epoch=2 global_step=40 loss=0.5'), { values: { epoch: 2, loss: 0.5 }, step: 40 });
  assert.deepEqual(parse('iter=7 loss=0.5'), { values: { loss: 0.5 }, step: 7 });
  assert.deepEqual(parse('iteration: 9, loss: 0.5'), { values: { loss: 0.5 }, step: 9 });
  assert.deepEqual(parse('epoch=4 loss=0.5'), { values: { epoch: 4, loss: 0.5 }, step: 4 });
  assert.deepEqual(parse('epoch=0.5 loss=0.5'), { values: { epoch: 0.5, loss: 0.5 } }, 'fractional epoch: no step');
  assert.deepEqual(parse("{'loss': 0.5, 'epoch': 2.0}"), { values: { loss: 0.5, epoch: 2 } }, '2.0 is written as a float: no step');
  assert.deepEqual(parse('step=1.5 loss=0.5'), { values: { loss: 0.5 } }, 'a non-integer step is dropped');
  assert.equal(parse('epoch=3 step=30'), undefined, 'nothing to chart');
  assert.equal(parse('Epoch 3/10'), undefined);
  assert.equal(parse("{'epoch': 1.0}"), undefined);
});

test('what a terminal shows: the last \\r segment, no colour codes, no backspaced text', () => {
  const tqdm = ' 10%|█         | 5/50 [00:01<00:09, 5.0it/s, loss=0.9]\r 20%|██        | 10/50 [00:02<00:08, 5.0it/s, loss=0.7]\r\n';
  assert.deepEqual(parse(tqdm), { values: { loss: 0.7 } });
  assert.deepEqual(parse('\x1b[32mINFO\x1b[0m loss=\x1b[1m0.25\x1b[0m acc=0.5'), { values: { loss: 0.25, acc: 0.5 } });
  assert.deepEqual(parse('1/3 - loss: 0.9\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08\x083/3 - loss: 0.5 - acc: 0.8'),
    { values: { loss: 0.5, acc: 0.8 } });
  assert.deepEqual(parse('loss=0.5\r\r'), parse('loss=0.5'));
});

test('terminal sequences as tqdm, rich and tput print them: colours, cursor moves, hyperlinks', () => {
  // rich's log handler: dim time, coloured level, bold numbers, OSC 8 links to the source line
  const richLog = '\x1b[2;36m[12:00:01]\x1b[0m\x1b[2;36m \x1b[0m\x1b[34mINFO    \x1b[0m step=\x1b[1;36m100\x1b[0m loss=\x1b[1;36m0.25\x1b[0m    '
    + '\x1b]8;id=1;file:///x/train.py\x1b\\\x1b[2mtrain.py\x1b[0m\x1b]8;;\x1b\\\x1b[2m:\x1b[0m\x1b]8;id=2;file:///x/train.py#42\x1b\\\x1b[2m42\x1b[0m\x1b]8;;\x1b\\';
  assert.deepEqual(parse(richLog), { values: { loss: 0.25 }, step: 100 });
  // rich's live progress: hide cursor, erase line, cursor up, 24-bit and 256 colours
  const richBar = '\x1b[?25l\r\x1b[2K\x1b[1A\x1b[2KEpoch 3/10 \x1b[38;2;249;38;114m━━━━━━━━━━\x1b[0m\x1b[38;5;237m╺━━━━━━━━━\x1b[0m \x1b[35m 50%\x1b[0m \x1b[36m0:00:03\x1b[0m loss=\x1b[1;36m0.25\x1b[0m';
  assert.deepEqual(parse(richBar), { values: { epoch: 3, loss: 0.25 }, step: 3 });
  // tqdm with colour=green at position=1: the bar, then cursor up
  assert.deepEqual(parse('\r 20%|\x1b[32m██        \x1b[0m| 10/50 [00:02<00:08, 5.0it/s, loss=0.7]\x1b[A'), { values: { loss: 0.7 } });
  // tput sgr0 resets with a charset selection too
  assert.deepEqual(parse('\x1b[1mtrain\x1b(B\x1b[m loss=0.5 acc=0.9'), { values: { train_loss: 0.5, acc: 0.9 } });
  assert.deepEqual(parse('\x1b]0;training: epoch 3\x07loss=0.5'), { values: { loss: 0.5 } }, 'a window title');
});

test('prose: a value must end its phrase, and a key must not continue a sentence', () => {
  assert.equal(parse('Note: 3 items remaining'), undefined);
  assert.equal(parse('Number of positive: 3, number of negative: 5'), undefined);
  assert.equal(parse('The model reached a final accuracy: 0.93'), undefined);
  assert.equal(parse('We finally got the loss: 0.21 after tuning'), undefined);
  assert.equal(parse('done: best val_acc=0.7400 at epoch 5; wrote outputs/model.json'), undefined);
  assert.equal(parse('In total, accuracy: 0.9 and loss: 0.5 were achieved by this model'), undefined, 'a lone pair among many words');
  assert.deepEqual(parse('Final test accuracy: 0.93'), { values: { final_test_accuracy: 0.93 } }, 'a short line is fine');
  assert.deepEqual(parse('loss: 0.5 (best 0.4)'), { values: { loss: 0.5 } });
});

test('settings and counts: lone integers, indented config, code and env assignments are not metrics', () => {
  assert.equal(parse('epochs: 10'), undefined);
  assert.equal(parse('batch_size: 32, workers: 4'), undefined, 'integers only');
  assert.equal(parse('    lr: 0.001'), undefined, 'indented: an optimizer or config dump');
  assert.equal(parse('lr = 0.1'), undefined, 'a spaced assignment is code');
  assert.equal(parse('LR=0.1'), undefined, 'environment');
  assert.equal(parse('seed=42 v_num=3'), undefined, 'bookkeeping keys');
  assert.deepEqual(parse('  eval_loss               =     0.3912'), { values: { eval_loss: 0.3912 } }, 'column-aligned summary');
  assert.deepEqual(parse('lr: 0.001'), { values: { lr: 0.001 } }, 'a top-level float is accepted (a known gray area)');
  assert.deepEqual(parse('optimizer=adam lr=0.1 scheduler=cosine'), { values: { lr: 0.1 } }, 'word values are skipped, numbers kept');
});

test('not numbers: versions, hex, uuids, IPs, times, host:port, thousands', () => {
  for (const line of ['torch==2.1.0', 'a=1.2.3', 'commit=3f2a9b1', 'id=0x1f', 'uuid=123e4567-e89b-12d3-a456-426614174000',
    'host=10.0.0.1', 'at 10:11:12', 'eta: 0:00:12', 'localhost:8080', 'examples=60,000', 'time=12.5s', 'acc: 9856/10000']) {
    assert.equal(parse(line), undefined, line);
  }
});

test('JSON and Python dicts: top-level numbers only; anything malformed is not parsed', () => {
  assert.deepEqual(parse('{"loss": 0.5, "nested": {"a": 1.5}, "list": [1.5, 2], "ok": true, "s": "0.5", "n": null, "t": [1, {"x": 2}]}'),
    { values: { loss: 0.5 } });
  assert.deepEqual(parse("{'loss': 0.5, 'flag': True, 'none': None, 'tup': (1, 2),}"), { values: { loss: 0.5 } });
  assert.deepEqual(parse("{'loss': np.float64(0.25), 'acc': tensor(0.5, device='cuda:0'), 'x': Foo(bar=1)}"), { values: { loss: 0.25, acc: 0.5 } });
  assert.deepEqual(parse('{"a\\"b": 0.5, \'it\\\'s\': 0.25}'), { values: { a_b: 0.5, it: 0.25 } });
  for (const bad of ["{'loss': 0.5", "{'loss': 0.5} trailing", "{'loss' 0.5}", "{0: 0.5, 1: 0.25}", '{"a": <object at 0x7f>}', '{' + '['.repeat(100) + ']'.repeat(100) + '}']) {
    assert.equal(parse(bad), undefined, bad);
  }
});

test('fastai tables: rows map to the header seen before them, and only then', () => {
  const row = '1         0.512345    0.498765    0.781200  00:04';
  assert.equal(parse(row), undefined, 'no header yet');
  const parser = new StdoutParser();
  assert.equal(parser.parse('epoch     train_loss  valid_loss  accuracy  time'), undefined);
  assert.deepEqual(parser.parse(row), { values: { epoch: 1, train_loss: 0.512345, valid_loss: 0.498765, accuracy: 0.7812 }, step: 1 });
  assert.equal(parser.parse('1 2 3'), undefined, 'a row must have every column');
});

test('user patterns: named groups become metrics, a step group sets the step', () => {
  const parser = new StdoutParser({ patterns: [String.raw`^TRAIN (?<step>\d+) L=(?<train_loss>\S+)`, String.raw`acc (?<Acc>[\d.]+%)`] });
  assert.deepEqual(parser.parse('TRAIN 12 L=0.25 acc 91.5%'), { values: { train_loss: 0.25, acc: 91.5 }, step: 12 });
  assert.deepEqual(parser.parse('TRAIN 13 L=oops'), undefined, 'a non-numeric group is skipped');
  assert.deepEqual(parser.parse('loss=0.5 acc=0.8'), { values: { loss: 0.5, acc: 0.8 } }, 'built-ins still apply when no pattern matches');
  assert.deepEqual(parser.parse('TRAIN 14 L=0.2 loss=0.9'), { values: { train_loss: 0.2 }, step: 14 }, 'a matching pattern wins over built-ins');
  assert.deepEqual(new StdoutParser({ patterns: ['>> (?P<loss>[0-9.]+)'] }).parse('>> 0.5'), { values: { loss: 0.5 } }, "Python's (?P<name>)");
  assert.deepEqual(new StdoutParser({ patterns: ['n=(?<count>\\d+)'] }).parse('n=3'), { values: { count: 3 } }, 'user patterns may catch integers');
  assert.deepEqual(new StdoutParser({ patterns: ['(?<loss>[0-9.]+)'] }).parse('    lr = 0.5'), { values: { loss: 0.5 } }, 'and skip the prose guards');
});

test('an invalid user pattern throws, naming the pattern and why', () => {
  assert.throws(() => new StdoutParser({ patterns: ['loss=(?<loss>[0-9.+)'] }),
    (err: Error) => err.message.includes('"loss=(?<loss>[0-9.+)"') && /unterminated character class/i.test(err.message));
  assert.throws(() => new StdoutParser({ patterns: ['(?<a>x)(?<a>y)'] }), /"\(\?<a>x\)\(\?<a>y\)": Duplicate capture group name/);
  assert.throws(() => new StdoutParser({ patterns: ['loss=([0-9.]+)'] }), /"loss=\(\[0-9\.\]\+\)": it has no named group/);
});

test('long lines: over 10,000 characters is undefined', () => {
  const pairs = 'loss=0.5 '.repeat(1112);
  assert.ok(pairs.length > 10_000);
  assert.equal(parse(pairs), undefined);
  assert.deepEqual(parse(pairs.slice(0, 9999)), { values: { loss: 0.5 } });
  const parser = new StdoutParser({ patterns: ['(?<loss>[0-9.]+)'] });
  assert.equal(parser.parse('a=1 '.repeat(5000)), undefined, 'too long even for user patterns');
  assert.equal(parse('x '.repeat(4990) + 'loss: 0.5'), undefined, 'prose');
});

test('pathological lines return in time (no catastrophic regex): checked in a child process that is killed if it hangs', async () => {
  const lines = ['a='.repeat(5000), `a=${'1'.repeat(9990)}x`, `${'a'.repeat(9990)}: 1x`, 'Epoch '.repeat(1666), ' '.repeat(9999) + 'x',
    `{${"'a': [".repeat(1000)}`, '9%|'.repeat(3333), 'x '.repeat(4990) + 'loss: 0.5', `${'a-'.repeat(4990)}: 0.5 b`];
  for (const line of lines) assert.ok(line.length <= 10_000);
  await parsesWithin(lines, 2000); // they take about 30 ms in all
});

/**
 * Parses each line in a child process and fails, naming the line, when the lines take more than `ms`
 * in all (counted from when the parser is loaded), instead of hanging the suite.
 */
async function parsesWithin(lines: string[], ms: number): Promise<void> {
  const module = pathToFileURL(join(import.meta.dirname, '../../src/core/ingest/stdoutParser.ts')).href;
  const script = `import { readFileSync, writeSync } from 'node:fs';
    import { StdoutParser } from ${JSON.stringify(module)};
    const lines = JSON.parse(readFileSync(0, 'utf8'));
    writeSync(1, 'ready\\n');
    lines.forEach((line, i) => { writeSync(1, i + '\\n'); new StdoutParser().parse(line); });
    writeSync(1, 'done\\n');`;
  const child = spawn(process.execPath, ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', '--input-type=module', '-e', script],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(JSON.stringify(lines));
  let out = '', err = '';
  child.stderr.on('data', (b) => (err += b));
  const failure = await new Promise<string | undefined>((settle) => {
    let timer: NodeJS.Timeout | undefined;
    const startup = setTimeout(() => { child.kill('SIGKILL'); settle('the child did not load the parser within 60 s'); }, 60_000);
    child.stdout.on('data', (b) => {
      out += b;
      if (!timer && out.startsWith('ready\n')) {
        clearTimeout(startup);
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          const i = Number(out.trim().split('\n').at(-1));
          const line = lines[i] ?? '';
          settle(`parsing took over ${ms} ms; stuck on lines[${i}] = ${JSON.stringify(line.slice(0, 40))}... (${line.length} characters)`);
        }, ms);
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(startup);
      clearTimeout(timer);
      settle(out.endsWith('done\n') ? undefined : `the child exited (${code ?? signal}) before it was done: ${err.slice(0, 500)}`);
    });
  });
  if (failure) assert.fail(failure);
}

test('100k lines of the demo format all parse', () => {
  const parser = new StdoutParser();
  let n = 0;
  for (let i = 1; i <= 100_000; i++) {
    const r = parser.parse(`epoch=${i} step=${i} train_loss=${(1 / i).toFixed(4)} val_loss=0.6925 val_acc=0.5062`);
    if (r?.step === i && r.values.val_acc === 0.5062) n++;
  }
  assert.equal(n, 100_000);
});
