import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findPythonParams } from '../../../src/core/hparams/findPython.ts';

const dir = join(import.meta.dirname, '..', 'fixtures', 'hparams', 'broken');

/**
 * Exactly what each broken file yields: [name, value, line]. Anything on a line the parser could not
 * read is left out, and so is anything inside an unterminated string or an unclosed call.
 */
const EXPECTED: { [file: string]: [string, unknown, number][] } = {
  'empty.py': [],
  'extra_closing.py': [['BATCH', 32, 1]], // LR's line has a stray ")", WD's list is never closed
  'garbage.py': [],
  'huge_line.py': [['LR', 0.001, 1], ['BIG', 'a'.repeat(20_000), 2]],
  'mid_edit_argparse.py': [['epochs', 5, 2], ['wd', 0.0001, 5]], // not --lr (no default yet), not EPOCHS (inside its call)
  'mid_edit_assign.py': [['BATCH_SIZE', 64, 1]], // `LR = ` is nothing yet; the grammar does not read `0.` (being typed)
  'mid_edit_dataclass.py': [['lr', 0.001, 4], ['wd', 0.0001, 6]], // not epochs, not train's half-typed params
  'mid_edit_dict.py': [['SEED', 0, 5]], // a dict being edited gives nothing until it parses again
  'missing_indent.py': [['WD', 0.0001, 2]], // LR is where the `if` body should be
  'tabs_spaces.py': [['lr', 0.001, 4], ['SEED', 3, 6]], // the tab-indented field is not read
  'unbalanced_brackets.py': [['BATCH', 8, 2]], // config's dict is never closed; SEED's line is inside it
  'unterminated_in_call.py': [], // MAX is swallowed by the unclosed call
  'unterminated_string.py': [['LR', 0.001, 1]], // a one-line string ends at its line
  'unterminated_triple.py': [['BATCH', 32, 0]], // LR and EPOCHS are inside the open """ string
  'weird_chars.py': [['LR', 0.001, 0], ['NAME', 'héllo 🚀', 1], ['LONE', '\ufffd\ufffd\ufffd', 5], ['MOMENTUM', 0.9, 6]],
};

const files = readdirSync(dir).filter((f) => f.endsWith('.py')).sort();

test('the broken corpus has at least 10 files, each with an expectation', () => {
  assert.ok(files.length >= 10);
  assert.deepEqual(files, Object.keys(EXPECTED).sort());
});

for (const file of files) {
  test(`broken: ${file} yields exactly the params that are really there`, () => {
    const text = readFileSync(join(dir, file), 'utf8');
    const found = findPythonParams(text, { entryPoints: ['train'] });
    assert.deepEqual(found.map((p) => [p.name, p.value, p.line]), EXPECTED[file]);
    for (const p of found) assert.equal(text.slice(p.range.start, p.range.end).replace(/-/g, '_'), p.name);
  });
}

test('every prefix of every broken file is read without throwing, with ranges inside the text', () => {
  for (const file of files.filter((f) => f !== 'huge_line.py')) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (let end = 0; end <= text.length; end++) {
      const prefix = text.slice(0, end);
      for (const p of findPythonParams(prefix, { entryPoints: ['train'], cacheKey: 'prefixes' })) {
        assert.ok(p.range.end <= end && (p.valueRange?.end ?? 0) <= end, `${file} @${end}: ${p.name}`);
        assert.equal(prefix.slice(p.range.start, p.range.end).replace(/-/g, '_'), p.name.split('.').pop());
      }
    }
  }
});

test('incremental parsing of the broken files agrees with a fresh parse', () => {
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    findPythonParams(`X_ONE = 1\n${text}`, { entryPoints: ['train'], cacheKey: 'agree' });
    assert.deepEqual(findPythonParams(text, { entryPoints: ['train'], cacheKey: 'agree' }), findPythonParams(text, { entryPoints: ['train'] }), file);
  }
});

test('deep nesting neither throws nor finds what an unclosed bracket swallows', () => {
  const deep = `config = ${'{"a": '.repeat(3000)}1${'}'.repeat(3000)}\nLR = 1\n`;
  assert.deepEqual(findPythonParams(deep).map((p) => p.name), ['LR'], 'dicts deeper than 16 levels are not read');
  assert.deepEqual(findPythonParams(`X = ${'('.repeat(20_000)}\nLR = 2\n`), []);
  assert.deepEqual(findPythonParams(`cfg = ${'{"a": '.repeat(3)}1${'}'.repeat(3)}`).map((p) => p.name), ['a.a.a']);
});
