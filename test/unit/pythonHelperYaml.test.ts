// The helper's small YAML reader (media/python/runlens/_yaml.py) against the `yaml` package the
// extension reads runlens.yaml and params files with: the same values, or a refusal, never a wrong answer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';

const PYTHONPATH = resolve(import.meta.dirname, '../../media/python');
const demo = (f: string) => readFileSync(resolve(import.meta.dirname, '../../demo', f), 'utf8');

/** Each document parsed by the helper: {value} or {error}. Non-finite floats come back as strings. */
function pythonParse(docs: string[]): ({ value: unknown } | { error: string })[] {
  const r = spawnSync('python3', ['-c', `
import json, math, sys
from runlens._yaml import parse, YamlError
def plain(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v
out = []
for doc in json.load(sys.stdin):
    try:
        out.append({"value": plain(parse(doc))})
    except YamlError as e:
        out.append({"error": str(e)})
print(json.dumps(out))
`], { input: JSON.stringify(docs), encoding: 'utf8', env: { ...process.env, PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const plain = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)));

const SUPPORTED = [
  demo('runlens.yaml'),
  demo('params.yaml'),
  '',
  '# only a comment\n',
  '---\na: 1\n',
  'a: 1\n...\n',
  'a: [1, 0o17, 0x1F, +5, -0, 1_000, 1e3, .inf, -.Inf, .NaN, 0.0, 1., yes, No, ~, Null, 2020-01-01, 0b11, 012, 1.5e+3, +.5, 0x, .e3]\n',
  '1: a\ntrue: b\nnull: c\n1.5: d\n0x1F: e\n.5: g\n1e3: h\n1e21: i\n"quoted key": j\n\'single\': k\n',
  'a: |\n  x\n  y\n\n\nb: >\n  p\n  q\n\n  r\n    s\n  t\nc: |-\n  z\n\nd: |+\n  k\n\n',
  'e: >-\n  one\n  two\nf: |2\n    indented\n  less\ng: |\n  # not a comment\n  x: y\nh: 1\n',
  'cmd: "python3 \\"a b\\" \\t\\u00e9\\x41\\\\"\nsq: \'it\'\'s # not a comment\'\nurl: http://x.y/z#frag # comment\nword: don\'t # c\n',
  'runs:\n  train:\n    command: python3 train.py --lr 0.1\n    params:\n    - params.yaml\n    - more.json\n    datasets: data\n',
  'list:\n- a\n- b: 1\n  c: 2\n- - x\n  - y\n-\n- [1, {k: v, e: }, "q, r"]\n- {a: [1, 2], b: {c: d}}\n',
  'flow: [a,\n  b, # a comment\n  c]\nmap: {\n  x: 1,\n  y: [2, 3]\n}\nafter: ok\n',
  'nested:\n  deeper:\n    deepest:\n      value: -1.5e-3\n  sibling: true\nlast: null\nempty:\n',
  'colon: a:b\ntime: 12:30\nminus: -x\nq: ?x\nstar: a*b\nspaces:   padded   \nhash: a#b\n',
  'crlf: 1\r\nnext: two\r\n',
  '\ufeffbom: 1\n',
  'top:\n    - four\n    - spaces\nother: [  ]\nobj: {}\n',
  'a:    # comment\n  nested: 1\n# between\n  other: 2\nb:\n  c:\n  - 1\n  - x: [y,\n      z]\n    w: 3\n  d: e\n',
  'seq:\n- |\n  block in a list\n- >-\n  folded\n  here\n- \'x\' # c\nkey with spaces: v\n"k:1": {"a b": 1, \'c\': \'d\'}\n',
  'just a scalar\n',
  '- top\n- level\n-   - indented\n    - more\n',
  'a: 1   \nb: 2\t\n',
]; 

const UNSUPPORTED = [
  'a: &anchor 1\nb: *anchor\n',
  'a: !!str 1\n',
  '? complex\n: key\n',
  'a: plain\n  continued\n',
  'a: "quoted\n  over lines"\n',
  'a: 1\n---\nb: 2\n',
  'a: 1\na: 2\n',
  'a: b: c\n',
  '%YAML 1.2\n---\na: 1\n',
  'a:\n\t- tab\n',
];

test('the helper reads runlens.yaml, params files and the YAML they use as the yaml package does', () => {
  const got = pythonParse(SUPPORTED);
  SUPPORTED.forEach((doc, i) => {
    const r = got[i]!;
    assert.ok('value' in r, `supported: ${JSON.stringify(doc)}: ${'error' in r ? r.error : ''}`);
    assert.deepEqual(r.value, plain(parse(doc) ?? null), JSON.stringify(doc));
  });
});

test('what the reader does not support is refused, never read wrong', () => {
  const got = pythonParse(UNSUPPORTED);
  UNSUPPORTED.forEach((doc, i) => assert.ok('error' in got[i]!, `refused: ${JSON.stringify(doc)} gave ${JSON.stringify(got[i])}`));
});
