/**
 * The Runs view's filter language: a tokenizer, a recursive-descent parser and a compiler to a
 * SQL boolean expression over the `runs` table aliased `r`. Every value and key is bound as a
 * parameter; no user text is ever spliced into the SQL.
 *
 *   expr       := or
 *   or         := and (("or" | "||") and)*
 *   and        := not (("and" | "&&") not)*
 *   not        := ("not" | "!") not | primary
 *   primary    := "(" or ")" | comparison
 *   comparison := operand [ cmpOp operand | ["not"] "in" "(" value ("," value)* ")"
 *                         | ["not"] "contains" string | "~" string ]
 *   operand    := number | string | true | false | identifier | fn "(" key ")"
 *
 * A missing param or metric makes a comparison unknown (SQL NULL), so neither `x > 1` nor
 * `not (x > 1)` selects a run without x. A bare identifier (`starred`, `use_amp`) means
 * "is set and truthy" and is plainly false for runs without it, so `not use_amp` selects them.
 */
import { RUN_STATUSES } from '../types.ts';
import { type NameMatch, type Resolver, ambiguityMessage, closest, nameResolver, unresolvedMessage } from './resolveName.ts';

/** A filter the user typed that cannot be read or resolved. `offset`/`length` locate the culprit. */
export class FilterSyntaxError extends Error {
  readonly offset: number;
  readonly length: number;

  constructor(message: string, offset: number, length: number) {
    super(message);
    this.name = 'FilterSyntaxError';
    this.offset = offset;
    this.length = length;
  }
}

export type FieldScope = 'any' | 'param' | 'metric' | 'tag';
export type MetricFunction = 'last' | 'min' | 'max' | 'count';
export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Span {
  offset: number;
  length: number;
}

export interface LiteralOperand extends Span {
  type: 'literal';
  value: number | string | boolean;
}

/** An identifier. `quoted` when written in backquotes (never a keyword or built-in then). */
export interface FieldOperand extends Span {
  type: 'field';
  scope: FieldScope;
  key: string;
  quoted: boolean;
}

export interface CallOperand extends Span {
  type: 'call';
  fn: MetricFunction;
  key: string;
}

export type Operand = LiteralOperand | FieldOperand | CallOperand;

export type FilterNode =
  | { type: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { type: 'not'; operand: FilterNode }
  | { type: 'compare'; op: CompareOp; left: Operand; right: Operand }
  | { type: 'in'; negated: boolean; operand: Operand; values: Operand[] }
  | { type: 'contains'; negated: boolean; operand: Operand; text: string }
  | { type: 'glob'; operand: Operand; pattern: string }
  | { type: 'truthy'; operand: Operand };

export const BUILTINS = ['name', 'status', 'experiment', 'notes', 'starred', 'duration', 'created'] as const;
export type Builtin = (typeof BUILTINS)[number];

const FUNCTIONS: readonly MetricFunction[] = ['min', 'max', 'last', 'count'];
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'contains', 'true', 'false']);
const PREFIXES: Record<string, FieldScope> = {
  params: 'param', param: 'param', metrics: 'metric', metric: 'metric', tags: 'tag', tag: 'tag',
};

// ---------------------------------------------------------------------------------------------
// Tokenizer

type Token = Span & (
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ident'; name: string; scope: FieldScope; quoted: boolean }
  | { kind: 'op'; op: string }
  | { kind: 'end' }
);

const col = (offset: number) => `column ${offset + 1}`;
const IDENT_START = /[\p{L}_]/u;
const IDENT_CHAR = /[\p{L}\p{N}_]/u;
const NUMBER = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d+)?$/;
const TWO_CHAR_OPS = ['<=', '>=', '==', '!=', '<>', '&&', '||'];
const ONE_CHAR_OPS = '<>=!~(),';

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

  /** Reads a quoted run starting at text[i] (the quote); backslash escapes the next character. */
  const readQuoted = (what: string): { value: string; end: number } => {
    const quote = text[i]!;
    let out = '';
    let j = i + 1;
    for (; j < text.length; j++) {
      const c = text[j]!;
      if (c === quote) return { value: out, end: j + 1 };
      if (c === '\\' && j + 1 < text.length) {
        const e = text[++j]!;
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
      } else {
        out += c;
      }
    }
    throw new FilterSyntaxError(`Unclosed ${what} starting at ${col(i)}`, i, text.length - i);
  };

  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const start = i;

    if (c === '"' || c === "'") {
      const { value, end } = readQuoted('string');
      tokens.push({ kind: 'string', value, offset: start, length: end - start });
      i = end;
      continue;
    }

    if (c === '`') {
      const { value, end } = readQuoted('`quoted name`');
      tokens.push({ kind: 'ident', name: value, scope: 'any', quoted: true, offset: start, length: end - start });
      i = end;
      continue;
    }

    if (isDigit(c) || (c === '.' && isDigit(text[i + 1]))
      || ((c === '-' || c === '+') && (isDigit(text[i + 1]) || (text[i + 1] === '.' && isDigit(text[i + 2]))))) {
      let j = i + 1;
      while (j < text.length) {
        const d = text[j]!;
        if (IDENT_CHAR.test(d) || d === '.') j++;
        else if ((d === '-' || d === '+') && /[eE]/.test(text[j - 1]!)) j++;
        else break;
      }
      const raw = text.slice(i, j);
      if (!NUMBER.test(raw)) throw new FilterSyntaxError(`Invalid number "${raw}" at ${col(i)}`, i, j - i);
      tokens.push({ kind: 'number', value: Number(raw.replaceAll('_', '')), offset: start, length: j - start });
      i = j;
      continue;
    }

    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < text.length) {
        const d = text[j]!;
        if (IDENT_CHAR.test(d)) j++;
        else if ((d === '.' || d === '-' || d === '/') && j + 1 < text.length && IDENT_CHAR.test(text[j + 1]!)) j++;
        else break;
      }
      const word = text.slice(i, j);
      const dot = word.indexOf('.');
      const prefixScope = PREFIXES[(dot < 0 ? word : word.slice(0, dot)).toLowerCase()];
      if (prefixScope && dot < 0 && text[j] === '.' && text[j + 1] === '`') {
        // params.`my key`
        i = j + 1;
        const { value, end } = readQuoted('`quoted name`');
        tokens.push({ kind: 'ident', name: value, scope: prefixScope, quoted: true, offset: start, length: end - start });
        i = end;
        continue;
      }
      if (prefixScope && dot > 0) {
        tokens.push({ kind: 'ident', name: word.slice(dot + 1), scope: prefixScope, quoted: false, offset: start, length: j - start });
      } else {
        tokens.push({ kind: 'ident', name: word, scope: 'any', quoted: false, offset: start, length: j - start });
      }
      i = j;
      continue;
    }

    const two = text.slice(i, i + 2);
    if (TWO_CHAR_OPS.includes(two)) {
      tokens.push({ kind: 'op', op: two, offset: start, length: 2 });
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPS.includes(c)) {
      tokens.push({ kind: 'op', op: c, offset: start, length: 1 });
      i++;
      continue;
    }
    if (c === '&' || c === '|') {
      throw new FilterSyntaxError(`Unexpected "${c}" at ${col(i)}: write "${c === '&' ? 'and' : 'or'}" (or "${c}${c}")`, i, 1);
    }
    throw new FilterSyntaxError(`Unexpected character "${c}" at ${col(i)}`, i, 1);
  }
  tokens.push({ kind: 'end', offset: text.length, length: 0 });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser

const COMPARE_OPS: Record<string, CompareOp> = {
  '<': '<', '<=': '<=', '>': '>', '>=': '>=', '==': '==', '=': '==', '!=': '!=', '<>': '!=',
};

/** Limits that keep a pasted monster filter an error message, within SQLite's expression depth. */
const MAX_DEPTH = 64;
const MAX_TOKENS = 1000;

class Parser {
  private readonly text: string;
  private readonly tokens: Token[];
  private pos = 0;
  private depth = 0;

  constructor(text: string) {
    this.text = text;
    this.tokens = tokenize(text);
    if (this.tokens.length > MAX_TOKENS) {
      const t = this.tokens[MAX_TOKENS]!;
      throw new FilterSyntaxError(`This filter is too long: keep it under ${MAX_TOKENS} names, values and symbols`, t.offset, text.length - t.offset);
    }
  }

  private source(t: Span): string {
    return this.text.slice(t.offset, t.offset + t.length);
  }

  /** How a token reads in a message: `"x"`, or nothing at the end of the input. */
  private found(t: Token): string {
    return t.kind === 'end' ? '' : `, not "${this.source(t)}"`;
  }

  private get peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private isOp(op: string, t: Token = this.peek): boolean {
    return t.kind === 'op' && t.op === op;
  }

  private isKeyword(word: string, t: Token = this.peek): boolean {
    return t.kind === 'ident' && !t.quoted && t.scope === 'any' && t.name.toLowerCase() === word;
  }

  parse(): FilterNode {
    const node = this.parseOr();
    const t = this.peek;
    if (t.kind !== 'end') {
      if (this.isOp(')', t)) throw new FilterSyntaxError(`Unexpected ")" at ${col(t.offset)}`, t.offset, t.length);
      throw new FilterSyntaxError(`Unexpected "${this.source(t)}" at ${col(t.offset)}: join conditions with "and" or "or"`, t.offset, t.length);
    }
    return node;
  }

  private parseOr(after?: Token): FilterNode {
    let left = this.parseAnd(after);
    while (this.isKeyword('or') || this.isOp('||')) {
      const op = this.next();
      left = { type: 'or', left, right: this.parseAnd(op) };
    }
    return left;
  }

  private parseAnd(after?: Token): FilterNode {
    let left = this.parseNot(after);
    while (this.isKeyword('and') || this.isOp('&&')) {
      const op = this.next();
      left = { type: 'and', left, right: this.parseNot(op) };
    }
    return left;
  }

  private parseNot(after?: Token): FilterNode {
    if (this.isKeyword('not') || this.isOp('!')) {
      const op = this.enter(this.next());
      const operand = this.parseNot(op);
      this.depth--;
      return { type: 'not', operand };
    }
    return this.parsePrimary(after);
  }

  /** Counts nesting (parentheses, not) so a pathological filter gets a message, not a stack overflow. */
  private enter(t: Token): Token {
    if (++this.depth > MAX_DEPTH) {
      throw new FilterSyntaxError(`This filter nests "(" and "not" more than ${MAX_DEPTH} deep (column ${t.offset + 1})`, t.offset, t.length);
    }
    return t;
  }

  private parsePrimary(after?: Token): FilterNode {
    if (!this.isOp('(')) return this.parseComparison(after);
    const open = this.enter(this.next());
    if (this.isOp(')')) {
      const t = this.peek;
      throw new FilterSyntaxError(`Expected a condition after "(" at ${col(t.offset)}`, t.offset, t.length);
    }
    const inner = this.parseOr(open);
    if (!this.isOp(')')) {
      const t = this.peek;
      if (t.kind === 'end') throw new FilterSyntaxError(`Missing ")" to close the "(" at ${col(open.offset)}`, open.offset, 1);
      throw new FilterSyntaxError(`Expected ")" at ${col(t.offset)}${this.found(t)} (the "(" at ${col(open.offset)} is still open)`, t.offset, t.length);
    }
    this.next();
    this.depth--;
    return inner;
  }

  private parseComparison(after?: Token): FilterNode {
    const left = this.parseOperand(after, 'a condition');
    const t = this.peek;

    if (t.kind === 'op' && COMPARE_OPS[t.op]) {
      this.next();
      const right = this.parseOperand(t, 'a value');
      return { type: 'compare', op: COMPARE_OPS[t.op]!, left, right };
    }
    if (this.isOp('~')) {
      this.next();
      return { type: 'glob', operand: left, pattern: this.expectString(t, 'a pattern in quotes') };
    }
    let negated = false;
    if (this.isKeyword('not')) {
      const next = this.tokens[this.pos + 1]!;
      if (!this.isKeyword('in', next) && !this.isKeyword('contains', next)) {
        throw new FilterSyntaxError(`Expected "in" or "contains" after "not" at ${col(next.offset)}`, next.offset, next.length);
      }
      this.next();
      negated = true;
    }
    if (this.isKeyword('in')) {
      return { type: 'in', negated, operand: left, values: this.parseList(this.next()) };
    }
    if (this.isKeyword('contains')) {
      const kw = this.next();
      return { type: 'contains', negated, operand: left, text: this.expectString(kw, 'text in quotes') };
    }

    if (left.type === 'literal') {
      const shown = this.source(left);
      throw new FilterSyntaxError(
        `${shown} alone is not a condition: compare it with something, e.g. name contains ${typeof left.value === 'string' ? shown : `"${shown}"`} (${col(left.offset)})`,
        left.offset, left.length);
    }
    if (t.kind === 'number' || t.kind === 'string' || (t.kind === 'ident' && !this.isKeyword('and', t) && !this.isKeyword('or', t))) {
      throw new FilterSyntaxError(
        `Expected an operator (<, <=, >, >=, ==, !=, in, contains) after "${this.source(left)}" at ${col(t.offset)}${this.found(t)}`,
        t.offset, t.length);
    }
    return { type: 'truthy', operand: left };
  }

  private parseList(kw: Token): Operand[] {
    const open = this.peek;
    if (!this.isOp('(')) {
      throw new FilterSyntaxError(`Expected "(" after "${this.source(kw)}" at ${col(open.offset)}, as in lr in (0.1, 0.01)`, open.offset, open.length);
    }
    this.next();
    const values: Operand[] = [];
    for (;;) {
      const t = this.peek;
      if (t.kind === 'number' || t.kind === 'string' || (t.kind === 'ident' && t.scope === 'any')) {
        values.push(this.parseOperand(undefined, 'a value'));
      } else {
        throw new FilterSyntaxError(`Expected a value in the list at ${col(t.offset)}${this.found(t)}`, t.offset, t.length);
      }
      const sep = this.peek;
      if (this.isOp(',')) { this.next(); continue; }
      if (this.isOp(')')) { this.next(); return values; }
      if (sep.kind === 'end') {
        throw new FilterSyntaxError(`Missing ")" to close the list at ${col(open.offset)}`, open.offset, 1);
      }
      throw new FilterSyntaxError(`Expected "," or ")" in the list at ${col(sep.offset)}${this.found(sep)}`, sep.offset, sep.length);
    }
  }

  private expectString(after: Token, what: string): string {
    const t = this.peek;
    if (t.kind !== 'string') {
      throw new FilterSyntaxError(`Expected ${what} after "${this.source(after)}" at ${col(t.offset)}${this.found(t)}`,
        t.offset, t.length);
    }
    this.next();
    return t.value;
  }

  private parseOperand(after: Token | undefined, what: string): Operand {
    const t = this.peek;
    const expected = () => new FilterSyntaxError(
      `Expected ${what}${after ? ` after "${this.source(after)}"` : ''} at ${col(t.offset)}${this.found(t)}`,
      t.offset, t.length);
    if (t.kind === 'number' || t.kind === 'string') {
      this.next();
      return { type: 'literal', value: t.value, offset: t.offset, length: t.length };
    }
    if (t.kind !== 'ident') throw expected();
    if (!t.quoted && t.scope === 'any') {
      const lower = t.name.toLowerCase();
      if (lower === 'true' || lower === 'false') {
        this.next();
        return { type: 'literal', value: lower === 'true', offset: t.offset, length: t.length };
      }
      if (KEYWORDS.has(lower)) throw expected();
      if (this.isOp('(', this.tokens[this.pos + 1])) return this.parseCall(t);
    }
    this.next();
    return { type: 'field', scope: t.scope, key: t.name, quoted: t.quoted, offset: t.offset, length: t.length };
  }

  private parseCall(name: Token & { kind: 'ident' }): CallOperand {
    const fn = name.name.toLowerCase() as MetricFunction;
    if (!FUNCTIONS.includes(fn)) {
      throw new FilterSyntaxError(`Unknown function "${name.name}": use min, max, last or count`, name.offset, name.length);
    }
    this.next(); // name
    const open = this.next(); // (
    const arg = this.peek;
    let key: string;
    if (arg.kind === 'string' || (arg.kind === 'ident' && (arg.scope === 'any' || arg.scope === 'metric')
      && (arg.quoted || arg.scope === 'metric' || !KEYWORDS.has(arg.name.toLowerCase())))) {
      key = arg.kind === 'string' ? arg.value : arg.name;
      this.next();
    } else {
      throw new FilterSyntaxError(`Expected a metric name inside ${fn}( at ${col(arg.offset)}${this.found(arg)}`,
        arg.offset, arg.length);
    }
    const close = this.peek;
    if (!this.isOp(')')) {
      if (close.kind === 'end') throw new FilterSyntaxError(`Missing ")" to close the "(" at ${col(open.offset)}`, open.offset, 1);
      throw new FilterSyntaxError(`Expected ")" after the metric name at ${col(close.offset)}${this.found(close)}`, close.offset, close.length);
    }
    this.next();
    return { type: 'call', fn, key, offset: name.offset, length: close.offset + 1 - name.offset };
  }
}

/** Parses a filter. Empty or blank text means no filter. Throws FilterSyntaxError. */
export function parseFilter(text: string): FilterNode | undefined {
  if (!text.trim()) return undefined;
  return new Parser(text).parse();
}

// ---------------------------------------------------------------------------------------------
// Compiler

export interface KnownKeys {
  params: readonly string[];
  metrics: readonly string[];
  tags?: readonly string[];
}

export interface CompiledFilter {
  sql: string;
  args: (string | number)[];
}

export interface CompileOptions {
  /** "Now" for the duration of runs still going, in epoch ms. Default Date.now(). */
  now?: number;
}

type TypeHint = 'number' | 'string' | undefined;

interface Value {
  sql: string;
  args: (string | number)[];
}

const METRIC_COLUMN: Record<MetricFunction, string> = {
  last: 's.last_value', min: 's.min_value', max: 's.max_value', count: 's.count',
};

/** SQL for a param's value; `hint` keeps only values of the type the other side has. */
export function paramSql(hint?: TypeHint): string {
  const type = hint === 'number' ? " AND type <> 'string'" : hint === 'string' ? " AND type = 'string'" : '';
  return `(SELECT value FROM params WHERE run_id = r.id AND key = ?${type})`;
}

export function metricSql(fn: MetricFunction = 'last'): string {
  return `(SELECT ${METRIC_COLUMN[fn]} FROM metric_summaries s WHERE s.run_id = r.id AND s.key_id = (SELECT id FROM metric_keys WHERE name = ?))`;
}

function tagSql(hint?: TypeHint): string {
  // Tags are text; compared with a number, only numeric-looking tags take part.
  return hint === 'number'
    ? `(SELECT CAST(value AS REAL) FROM tags WHERE run_id = r.id AND key = ? AND value GLOB '*[0-9]*' AND value NOT GLOB '*[^0-9.eE+-]*')`
    : '(SELECT value FROM tags WHERE run_id = r.id AND key = ?)';
}

/** Run duration in seconds: until it ended, or until now while it has not. */
export const DURATION_SQL = '((coalesce(r.ended_at, ?) - r.started_at) / 1000.0)';

const BUILTIN_SQL: Record<Exclude<Builtin, 'duration'>, string> = {
  name: 'r.name',
  status: 'r.status',
  experiment: '(SELECT name FROM experiments WHERE id = r.experiment_id)',
  notes: 'r.notes',
  starred: 'r.starred',
  created: 'r.created_at',
};

function isBuiltin(word: string): word is Builtin {
  return (BUILTINS as readonly string[]).includes(word);
}

class Compiler {
  private readonly known: KnownKeys | undefined;
  private readonly now: number;
  /** One resolver per kind of key, built on first use. */
  private readonly resolvers = new Map<string, Resolver>();

  constructor(known: KnownKeys | undefined, now: number) {
    this.known = known;
    this.now = now;
  }

  condition(node: FilterNode): CompiledFilter {
    switch (node.type) {
      case 'and':
      case 'or': {
        const l = this.condition(node.left), r = this.condition(node.right);
        return { sql: `(${l.sql} ${node.type.toUpperCase()} ${r.sql})`, args: [...l.args, ...r.args] };
      }
      case 'not': {
        const c = this.condition(node.operand);
        return { sql: `(NOT ${c.sql})`, args: c.args };
      }
      case 'compare': {
        const left = this.side(node.left, node.right, node.op, false);
        const right = this.side(node.right, node.left, node.op, true);
        const op = node.op === '==' ? '=' : node.op === '!=' ? '<>' : node.op;
        return { sql: `(${left.sql} ${op} ${right.sql})`, args: [...left.args, ...right.args] };
      }
      case 'in': {
        const operand = this.value(node.operand, listHint(node.values), false);
        const isStatus = builtinOf(node.operand) === 'status';
        const values = node.values.map((v) => {
          if (isStatus) return this.statusValue(v, 'in');
          if (v.type !== 'literal') {
            const shown = v.type === 'field' ? v.key : v.fn;
            throw new FilterSyntaxError(`Put text in quotes in a list: "${shown}" (only status names may go without quotes)`, v.offset, v.length);
          }
          return this.value(v, undefined, true);
        });
        return {
          sql: `(${operand.sql} ${node.negated ? 'NOT IN' : 'IN'} (${values.map((v) => v.sql).join(', ')}))`,
          args: [...operand.args, ...values.flatMap((v) => v.args)],
        };
      }
      case 'contains': {
        const v = this.value(node.operand, undefined, false);
        return { sql: `(instr(lower(${v.sql}), lower(?)) ${node.negated ? '=' : '>'} 0)`, args: [...v.args, node.text] };
      }
      case 'glob': {
        const v = this.value(node.operand, undefined, false);
        return { sql: `(lower(${v.sql}) GLOB lower(?))`, args: [...v.args, node.pattern] };
      }
      case 'truthy': {
        // Two-valued on purpose: a run without the key is simply "not set", so `not use_amp` selects it.
        const v = this.value(node.operand, undefined, false);
        return { sql: `(coalesce(${v.sql}, 0) NOT IN (0, ''))`, args: v.args };
      }
    }
  }

  /** One side of a comparison; the other side decides status words, dates and which param types take part. */
  private side(o: Operand, other: Operand, op: CompareOp, rightSide: boolean): Value {
    const otherBuiltin = builtinOf(other);
    if (otherBuiltin === 'status') return this.statusValue(o, op);
    if (otherBuiltin === 'created' && o.type === 'literal' && typeof o.value === 'string') {
      const ms = Date.parse(o.value);
      if (Number.isNaN(ms)) {
        throw new FilterSyntaxError(`"${o.value}" is not a date: write created > "2024-05-01" or epoch milliseconds`, o.offset, o.length);
      }
      return { sql: '?', args: [ms] };
    }
    return this.value(o, literalHint(other), rightSide && other.type !== 'literal');
  }

  /** A value compared with `status`: a status name, quoted or bare. */
  private statusValue(o: Operand, op: CompareOp | 'in'): Value {
    if (op !== '==' && op !== '!=' && op !== 'in') {
      throw new FilterSyntaxError('status can only be compared with ==, != or in, e.g. status in (running, queued)', o.offset, o.length);
    }
    const word = o.type === 'literal' && typeof o.value === 'string' ? o.value
      : o.type === 'field' && o.scope === 'any' && !o.quoted && !builtinOf(o) ? o.key : undefined;
    if (word === undefined) return this.value(o, 'string', false);
    const status = word.toLowerCase();
    if (!(RUN_STATUSES as readonly string[]).includes(status)) {
      const guess = closest(word, RUN_STATUSES);
      throw new FilterSyntaxError(
        `Unknown status "${word}": use ${RUN_STATUSES.slice(0, -1).join(', ')} or ${RUN_STATUSES.at(-1)}${guess ? `. Did you mean "${guess}"?` : ''}`,
        o.offset, o.length);
    }
    return { sql: '?', args: [status] };
  }

  private value(o: Operand, hint: TypeHint, rightSide: boolean): Value {
    if (o.type === 'literal') {
      return { sql: '?', args: [typeof o.value === 'boolean' ? (o.value ? 1 : 0) : o.value] };
    }
    if (o.type === 'call') return { sql: metricSql(o.fn), args: [this.resolve(o.key, 'metric', o)] };
    switch (o.scope) {
      case 'param': return { sql: paramSql(hint), args: [this.resolve(o.key, 'param', o)] };
      case 'metric': return { sql: metricSql(), args: [this.resolve(o.key, 'metric', o)] };
      case 'tag': return { sql: tagSql(hint), args: [this.resolve(o.key, 'tag', o)] };
      case 'any': break;
    }
    const builtin = builtinOf(o);
    if (builtin === 'duration') return { sql: DURATION_SQL, args: [this.now] };
    if (builtin) return { sql: BUILTIN_SQL[builtin], args: [] };
    if (!this.known) return { sql: `coalesce(${paramSql(hint)}, ${metricSql()})`, args: [o.key, o.key] };
    // Params and metrics are one pool of keys; a key that is both means the param.
    const match = this.resolver('any')(o.key);
    if (match.kind !== 'found') throw this.unknownName(o, match, rightSide);
    return this.known.params.includes(match.key) ? { sql: paramSql(hint), args: [match.key] } : { sql: metricSql(), args: [match.key] };
  }

  private resolver(kind: 'param' | 'metric' | 'tag' | 'any'): Resolver {
    let r = this.resolvers.get(kind);
    if (!r) {
      const k = this.known!;
      r = nameResolver(kind === 'any' ? [...k.params, ...k.metrics] : kind === 'param' ? k.params : kind === 'metric' ? k.metrics : k.tags ?? []);
      this.resolvers.set(kind, r);
    }
    return r;
  }

  private unknownName(o: FieldOperand, match: NameMatch, rightSide: boolean): FilterSyntaxError {
    const known = this.known!;
    if (match.kind === 'ambiguous') return new FilterSyntaxError(ambiguityMessage(o.key, match.candidates), o.offset, o.length);
    let msg = `No param or metric named "${o.key}".`;
    const guess = closest(o.key, [...known.params, ...known.metrics, ...BUILTINS]);
    const tag = known.tags && this.resolver('tag')(o.key);
    if (tag?.kind === 'found') msg += ` To filter by the tag, write tag.${tag.key}`;
    else if (guess) msg += ` Did you mean "${guess}"?`;
    if (rightSide) msg += ` To compare with text, put it in quotes: "${o.key}"`;
    return new FilterSyntaxError(msg, o.offset, o.length);
  }

  /** The recorded key a scoped name means; without known keys, the name as written. */
  private resolve(key: string, kind: 'param' | 'metric' | 'tag', at: Span): string {
    const keys = kind === 'param' ? this.known?.params : kind === 'metric' ? this.known?.metrics : this.known?.tags;
    if (!keys) return key;
    const match = this.resolver(kind)(key);
    if (match.kind === 'found') return match.key;
    throw new FilterSyntaxError(unresolvedMessage(key, match, keys, kind), at.offset, at.length);
  }
}

/** The built-in an operand names, if any: a plain, unquoted, unprefixed identifier, any case. */
function builtinOf(o: Operand): Builtin | undefined {
  if (o.type !== 'field' || o.scope !== 'any' || o.quoted) return undefined;
  const lower = o.key.toLowerCase();
  return isBuiltin(lower) ? lower : undefined;
}

function literalHint(o: Operand): TypeHint {
  if (o.type !== 'literal') return undefined;
  return typeof o.value === 'string' ? 'string' : 'number';
}

function listHint(values: Operand[]): TypeHint {
  const hints = new Set(values.map((v) => (v.type === 'literal' ? literalHint(v) : 'other')));
  return hints.size === 1 && !hints.has('other') ? literalHint(values[0]!) : undefined;
}

/**
 * Compiles a parsed filter to a SQL boolean expression over `runs r`, with its bound arguments.
 * With `known`, names are resolved by the rule in resolveName.ts (`lr` → `train.lr`); unknown
 * names are errors with a suggestion, ambiguous ones list the candidates. A plain name is looked
 * up among params and metrics together, and a key that is both means the param (`metric.x`
 * reaches the metric).
 */
export function compileFilter(node: FilterNode, known?: KnownKeys, options: CompileOptions = {}): CompiledFilter {
  return new Compiler(known, options.now ?? Date.now()).condition(node);
}

/** One paragraph for the filter input box. */
export function describeFilterHelp(): string {
  return 'Filter runs by params and metrics, e.g. lr < 0.01 and val_acc > 0.9. '
    + 'Combine with and, or, not and parentheses; compare with < <= > >= == != , x in (1, 2), x not in (…), '
    + 'name contains "text", name ~ "glob*". Text goes in quotes; status names may go bare (status == running). '
    + 'A bare name such as starred or use_amp means "set and true". '
    + 'A name is a built-in (name, status, experiment, notes, starred, duration in seconds, created), else a param, else a metric\'s last value; '
    + 'names ignore case and _ - . and may leave out a dotted prefix (lr finds train.lr); '
    + 'write param.x, metric.x or tag.x to choose, min(x), max(x), last(x) or count(x) for a metric\'s summary, '
    + 'and `backquotes` for names with spaces. Runs without a key never match a comparison on it.';
}
