/**
 * Reads metric values out of a training program's stdout, one line at a time, with no instrumentation.
 * False positives are worse than misses, so every rule errs towards "not a metric".
 *
 * Recognised: `key=value` and `key: value` pairs (separated by spaces, `,`, `|`, ` - `, tabs), JSON objects
 * and Python dicts (Hugging Face Trainer), Keras, tqdm and Lightning progress lines, counters such as
 * `Epoch [3/10]`, `Step 100:`, `Iteration 1,`, `[10]` (XGBoost, LightGBM) and `10:` + tab (CatBoost),
 * `name value` segments after a counter (nanoGPT `iter 100: loss 2.31, mfu 30.1%`), and fastai tables.
 *
 * Step: a `step`, `global_step`, `iter` or `iteration` written as an integer is the step (never a value).
 * `epoch` is always kept as a value; when written as an integer (`3`, not HF's `1.0`) and there is no
 * step, it is also the step. A line whose only values are epoch/step returns undefined.
 *
 * Prose guards: a key (up to three words) must not follow another plain word or a stop word
 * ("number of positive: 3"); a value must be followed by the line end, a separator, a bracket or the next
 * key ("Note: 3 items" is not a pair). At least one metric must be non-integer (0.5, 1e-3, nan): lines of
 * integers only are counts or settings (`epochs: 10`). A line whose only value is one pair must also not
 * be indented or a spaced `x = 1` (code, config dumps) unless column-aligned, and have at most three
 * other words. Whole lines are dropped for URLs, shell commands, tracebacks, warnings and errors,
 * object reprs, and lines over 10,000 characters. User patterns, when they match, bypass all of this.
 */
import { stripVTControlCharacters } from 'node:util';

export interface ParsedMetrics { values: Record<string, number>; step?: number }

export interface StdoutParserOptions {
  /** User regexes from runlens.yaml: named groups become metrics; a group named `step` sets the step. */
  patterns?: string[];
}

interface Item { key: string; raw: string; value: number }
interface Pair extends Item { start: number; end: number; loose: boolean }

const MAX_LINE = 10_000;
const STEP_KEYS = new Set(['step', 'global_step', 'iter', 'iteration']);
/** Numbers that are settings or bookkeeping, not metrics. */
const IGNORED = new Set(['v_num', 'pid', 'port', 'rank', 'local_rank', 'node_rank', 'world_size', 'seed', 'version',
  'python', 'torch', 'cuda', 'cudnn', 'nccl', 'numpy', 'pandas', 'transformers', 'tensorflow', 'keras', 'jax',
  'lightning', 'sklearn', 'progress', 'timestamp', 'ts']);
const STOPWORDS = new Set(['a', 'an', 'the', 'of', 'at', 'in', 'on', 'to', 'is', 'was', 'are', 'were', 'be', 'with',
  'and', 'or', 'for', 'from', 'by', 'after', 'before', 'than', 'our', 'my', 'your', 'its', 'this', 'that', 'we',
  'i', 'you', 'it', 'has', 'have', 'had', 'not', 'no', 'as', 'into', 'per']);
/** Log level tokens act as separators before a key ("INFO loss: 0.5"). */
const LEVELS = new Set(['info', 'debug', 'trace', 'notice']);

const NUM = String.raw`[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|inf(?:inity)?)`;
const VALUE = new RegExp(`^${NUM}%?$`, 'i');
const INT = /^[-+]?\d+$/;
const DECIMAL = /[.en]/i; // 0.5, 1e-3, nan, inf
const PAIR = new RegExp(
  String.raw`(?<=^|[\s,;|(\[{])([A-Za-z_][\w.\/\-]*)([ \t]*)([:=])([ \t]*)(${NUM})(%?)(?=$|[\s,;|)\]}])`, 'gi');
const FOLLOW = new RegExp(String.raw`^(?:$|[ \t]*[,;|)\]}]|\t|[ \t]{2}|[ \t]+[-•][ \t]|[ \t]+[-•]$|[ \t]+[(\[]`
  + String.raw`|[ \t]+(?:[A-Za-z][\w'.\/\-]* ){0,2}[A-Za-z_][\w.\/\-]*[ \t]*[:=])`);
const SPACE_PAIR = new RegExp(String.raw`^((?:[A-Za-z][\w'.\/\-]* ){0,2}[A-Za-z][\w'.\/\-]*) (${NUM})(%?)$`, 'i');
const HEADER = /(?<![\w.\/\-])(epoch|global_step|step|iteration|iter)(?:\s*\[\s*(\d+)\s*(?:\/\s*\d+\s*)?\]|\s+(\d+)(?:\s*\/\s*\d+)?)(?:\s*:)?/gi;
const LEAD_COUNTER = /^\[(\d+)\](?=\s)|^(\d+):(?=\t)/;
const TQDM_BAR = /\d{1,3}(?:\.\d+)?%\|[^|]{0,200}\|/g;
const WORD = /^[A-Za-z][\w'.\/\-]*$/;
const PLAIN_WORD = /^[A-Za-z][A-Za-z'\-]+[.,;:!?]?$/;
const LOG_PREFIX = /^(?:DEBUG|INFO|NOTICE|TRACE):[\w.<>\-]*:\s*/;
const TABLE_HEAD = /^epoch(?:\s+[a-z_][a-z0-9_]*){2,15}$/;
const REJECTS = [
  /:\/\//, // URLs
  /^\s*(?:export|set|unset|alias|\$|\+|>>>|\.\.\.|#|!|%|sudo|cd|python[\d.]*|pip[\d.]*|conda|uv|torchrun|accelerate|deepspeed|srun|sbatch|mpirun|bash|sh|git|docker|nvidia-smi)(?:\s|$)/i,
  /^\s*(?:File "|Traceback \(|During handling|raise\s)/,
  /\b[A-Z]\w*(?:Warning|Error|Exception|Interrupt)\b|\b(?:WARNING|WARN|ERROR|CRITICAL|FATAL)\b/,
  /^\s*\[?(?:warning|warn|error|fatal|critical)\]?\s*:|\[(?:warning|warn|error|fatal|critical)\]/i,
  /^\s*[A-Za-z_][\w.]*\(.*\)\s*$/, // an object's repr: Namespace(lr=0.1, epochs=3)
  /^\s*[A-Z][A-Z0-9_]*=/, // environment: LR=0.1, CUDA_VISIBLE_DEVICES=0 python ...
];

export class StdoutParser {
  private readonly patterns: RegExp[];
  /** fastai prints a table: a header line, then one row per epoch. */
  private columns: string[] | undefined;

  constructor(options: StdoutParserOptions = {}) {
    this.patterns = (options.patterns ?? []).map(compilePattern);
  }

  /** The metrics on one stdout line, or undefined when it carries none. */
  parse(line: string): ParsedMetrics | undefined {
    if (line.length > MAX_LINE) return undefined;
    const text = visible(line);
    if (this.patterns.length > 0) {
      const found = build(this.patterns.flatMap((re) => groupItems(re, text)), false);
      if (found) return found;
    }
    const s = text.trim().replace(LOG_PREFIX, '');
    if (TABLE_HEAD.test(s)) {
      this.columns = s.split(/\s+/).map(normKey);
      return undefined;
    }
    if (!/\d|nan|inf/i.test(s) || REJECTS.some((re) => re.test(text))) return undefined;
    if (s.startsWith('{')) return build(dictItems(s) ?? []);
    const row = this.columns && tableRow(this.columns, s);
    return build(row ?? scan(s, /^\s/.test(text)));
  }
}

/** What a terminal would show: no colour codes, only the text after the last \r or backspaces. */
function visible(line: string): string {
  const parts = stripVTControlCharacters(line).split(/[\r\n]|\x08+/);
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i]!.trim() !== '') return parts[i]!.trimEnd();
  return '';
}

function compilePattern(pattern: string): RegExp {
  const source = String(pattern).replace(/(?<!\\)\(\?P</g, '(?<'); // Python's (?P<name>...) too
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (err) {
    const why = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    throw new Error(`Invalid stdout pattern ${JSON.stringify(pattern)}: ${why}`);
  }
  if (!/\(\?<(?![=!])/.test(source)) {
    throw new Error(`Invalid stdout pattern ${JSON.stringify(pattern)}: it has no named group, like (?<loss>[0-9.]+)`);
  }
  return re;
}

function groupItems(re: RegExp, text: string): Item[] {
  const groups = re.exec(text)?.groups ?? {};
  const items: Item[] = [];
  for (const [name, raw] of Object.entries(groups)) {
    const t = raw?.trim();
    if (t !== undefined && VALUE.test(t)) items.push(item(name, t));
  }
  return items;
}

function item(key: string, raw: string): Item {
  const r = raw.replace(/%$/, '');
  return { key: normKey(key), raw: r, value: toNumber(r) };
}

function toNumber(raw: string): number {
  const t = raw.toLowerCase().replace(/^\+/, '');
  if (/^-?nan$/.test(t)) return NaN;
  if (/^inf(inity)?$/.test(t)) return Infinity;
  if (/^-inf(inity)?$/.test(t)) return -Infinity;
  return Number(t);
}

/** Lower snake case; `/` and `.` stay ("train/loss"), "valid_0's l2" -> "valid_0_l2", "Avg. loss" -> "avg_loss". */
function normKey(key: string): string {
  return key.replace(/'s\b/gi, '').replace(/\.(?=\s|$)/g, '').toLowerCase()
    .replace(/[^a-z0-9_.\/]+/g, '_').replace(/_+/g, '_').replace(/^[_.\/]+|[_.\/]+$/g, '');
}

/** Built-in rules (`strict`) skip IGNORED keys and want one non-integer metric: all-integer lines are counts or settings. */
function build(items: Item[], strict = true): ParsedMetrics | undefined {
  const values: Record<string, number> = {};
  let step: number | undefined;
  let epochStep: number | undefined;
  let metrics = 0;
  let decimal = false;
  for (const { key, raw, value } of items) {
    if (key === '' || (strict && IGNORED.has(key))) continue;
    if (STEP_KEYS.has(key)) {
      if (step === undefined && INT.test(raw) && value >= 0) step = value;
      continue;
    }
    if (Object.hasOwn(values, key)) continue;
    values[key] = value;
    if (key !== 'epoch') {
      metrics++;
      decimal ||= DECIMAL.test(raw);
    } else if (INT.test(raw) && value >= 0) epochStep = value;
  }
  if (metrics === 0 || (strict && !decimal)) return undefined;
  step ??= epochStep;
  return step === undefined ? { values } : { values, step };
}

/** The token just before `at` when a single space separates them (a phrase goes on), else undefined. */
function tokenBefore(s: string, at: number): string | undefined {
  if (at < 2 || s[at - 1] !== ' ' || /\s/.test(s[at - 2]!)) return undefined;
  let from = at - 1;
  while (from > 0 && !/[\s,;|(\[{]/.test(s[from - 1]!)) from--;
  return s.slice(from, at - 1);
}

const isWord = (t: string | undefined): t is string => t !== undefined && WORD.test(t) && !LEVELS.has(t.toLowerCase());

/** Start of a key of up to three words ending at `at` ("Val Acc"), or -1 when it sits inside prose. */
function keyStart(s: string, at: number): number {
  let start = at;
  for (let n = 0; ; n++) {
    const tok = tokenBefore(s, start);
    if (!isWord(tok)) return start;
    if (n === 2 || STOPWORDS.has(tok.toLowerCase())) return -1;
    start -= tok.length + 1;
  }
}

/** `indented`: the original line started with white space (config dumps, code in tracebacks). */
function scan(line: string, indented: boolean): Item[] {
  const items: Item[] = [];
  let s = line.replace(TQDM_BAR, '\t').replace(LEAD_COUNTER, (_m, a?: string, b?: string) => {
    items.push(item('step', (a ?? b)!));
    return '\t';
  });
  s = s.replace(HEADER, (m: string, name: string, a: string | undefined, b: string | undefined, at: number, str: string) => {
    if (isWord(tokenBefore(str, at)) || !/^(?:$|[\s,;|)\]])/.test(str.slice(at + m.length, at + m.length + 1))) return m;
    items.push(item(name, (a ?? b)!));
    return '\t';
  });
  const counters = items.length;
  const pairs: Pair[] = [];
  for (const m of s.matchAll(PAIR)) {
    const [text, key, before, sep, after, num, pct] = m as unknown as string[];
    const end = m.index + text!.length;
    const start = keyStart(s, m.index);
    const rest = s.slice(end, end + 120);
    if (start < 0 || !FOLLOW.test(rest) || /^,\d/.test(rest)) continue; // prose, or 60,000
    if (sep === ':' && before === '' && after === '' && !DECIMAL.test(num!)) continue; // host:8080, x.py:12
    if (pct && /ing$/i.test(key!)) continue; // "Downloading: 45%"
    let name = s.slice(start, m.index) + key;
    if (start < m.index && /^epoch$/i.test(key!)) name = 'epoch'; // "Train Epoch: 1"
    const aligned = before!.length >= 2 || after!.length >= 2;
    const loose = ((indented && start === 0) || (sep === '=' && before !== '')) && !aligned;
    pairs.push({ ...item(name, num! + pct), start, end, loose });
  }
  items.push(...pairs);
  if (counters > 0) items.push(...spacePairs(s));
  const kept = items.filter((i) => !IGNORED.has(i.key));
  const lone = kept.length === 1 && pairs.includes(kept[0] as Pair) ? kept[0] as Pair : undefined;
  if (lone && (lone.loose || wordsOutside(s, lone) > 3)) return [];
  return items;
}

/** After a counter, "name value" segments: "iter 100: loss 2.31, time 45.2ms, mfu 30.1%". */
function spacePairs(s: string): Item[] {
  const items: Item[] = [];
  for (const segment of s.split(/[,;|\t]| - /)) {
    const t = segment.trim();
    const m = /[:=]/.test(t) ? null : SPACE_PAIR.exec(t);
    if (m && !m[1]!.split(' ').some((w) => STOPWORDS.has(w.toLowerCase()))) items.push(item(m[1]!, m[2]! + m[3]!));
  }
  return items;
}

function wordsOutside(s: string, p: Pair): number {
  return `${s.slice(0, p.start)} ${s.slice(p.end)}`.split(/\s+/).filter((t) => PLAIN_WORD.test(t)).length;
}

function tableRow(columns: string[], s: string): Item[] | undefined {
  const cells = s.split(/\s+/);
  if (cells.length !== columns.length || !INT.test(cells[0]!)) return undefined;
  const items: Item[] = [];
  for (let i = 0; i < cells.length; i++) {
    if (VALUE.test(cells[i]!)) items.push(item(columns[i]!, cells[i]!));
    else if (!/^(?:\d+:)+\d+$|^#na#$/.test(cells[i]!)) return undefined; // times like 00:05 are skipped
  }
  return items;
}

// JSON objects and Python dict literals, read by a small tokenizer: top-level numeric entries only.

type Token = { kind: 'punct' | 'string' | 'number' | 'name'; text: string };
type Value = string | null | undefined; // number text | not a number | syntax error

const TOKEN = new RegExp(String.raw`\s*(?:([{}\[\](),:=])|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(${NUM})(?![\w.])|([A-Za-z_][\w.]*))`, 'iy');
const MAX_DEPTH = 16;

function tokenize(s: string): Token[] | undefined {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < s.length) {
    const from = TOKEN.lastIndex;
    const m = TOKEN.exec(s);
    if (!m) return /^\s*$/.test(s.slice(from)) ? tokens : undefined;
    if (m[1]) tokens.push({ kind: 'punct', text: m[1] });
    else if (m[2]) tokens.push({ kind: 'string', text: m[2].slice(1, -1).replace(/\\(.)/g, '$1') });
    else if (m[3]) tokens.push({ kind: 'number', text: m[3] });
    else tokens.push({ kind: 'name', text: m[4]! });
  }
  return tokens;
}

function dictItems(s: string): Item[] | undefined {
  const tokens = tokenize(s);
  if (!tokens) return undefined;
  let k = 0;
  const isPunct = (t: Token | undefined, p: string) => t?.kind === 'punct' && t.text === p;

  function value(depth: number): Value {
    const t = tokens![k++];
    if (!t || depth > MAX_DEPTH) return undefined;
    if (t.kind === 'number') return t.text;
    if (t.kind === 'string') return null;
    if (t.kind === 'name') {
      if (!isPunct(tokens![k], '(')) return null; // True, None, ...
      k++;
      const args = list(')', depth + 1); // np.float64(0.5), tensor(0.5, device='cuda:0')
      return args === undefined ? undefined : (args[0] ?? null);
    }
    if (t.text === '{') return object(depth + 1, []) && null;
    if (t.text === '[') return list(']', depth + 1) && null;
    if (t.text === '(') return list(')', depth + 1) && null;
    return undefined;
  }

  function list(close: string, depth: number): Value[] | undefined {
    const out: Value[] = [];
    if (isPunct(tokens![k], close)) { k++; return out; }
    for (;;) {
      let v = value(depth);
      if (v === undefined) return undefined;
      if (isPunct(tokens![k], '=')) { // keyword argument
        k++;
        if (value(depth) === undefined) return undefined;
        v = null;
      }
      out.push(v);
      const t = tokens![k++];
      if (isPunct(t, close)) return out;
      if (!isPunct(t, ',')) return undefined;
      if (isPunct(tokens![k], close)) { k++; return out; }
    }
  }

  function object(depth: number, out: [string | undefined, Value][]): typeof out | undefined {
    if (isPunct(tokens![k], '}')) { k++; return out; }
    for (;;) {
      const key = tokens![k++];
      if (!key || key.kind === 'punct' || !isPunct(tokens![k++], ':')) return undefined;
      const v = value(depth);
      if (v === undefined) return undefined;
      out.push([key.kind === 'number' ? undefined : key.text, v]);
      const t = tokens![k++];
      if (isPunct(t, '}')) return out;
      if (!isPunct(t, ',')) return undefined;
      if (isPunct(tokens![k], '}')) { k++; return out; }
    }
  }

  if (!isPunct(tokens[k++], '{')) return undefined;
  const entries = object(1, []);
  if (!entries || k !== tokens.length) return undefined;
  return entries.filter(([key, v]) => key !== undefined && typeof v === 'string').map(([key, v]) => item(key!, v!));
}
