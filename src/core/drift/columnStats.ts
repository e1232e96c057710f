/** Per-column figures of a table profile: counts, a sample of the numbers, and the most frequent text values. */
import { Kll, type KllJson } from './kll.ts';
import type { ColumnProfile } from './profile.ts';

/** Distinct text values counted exactly per column; beyond, Misra–Gries (counts are lower bounds). */
const TEXT_CAP = 1000;
const TOP = 20;
/** Finite numbers kept per column for its sketch (a quantile's rank within about ±1.5%, 95% of the time). */
const RESERVOIR = 4096;

/** A text value's count; `hash` is the FNV-1a of its bytes when it was read from unquoted ASCII. */
interface Entry { text: string; n: number; hash: number | undefined }

export class ColumnStats {
  count = 0;
  missing = 0;
  numbers = 0;
  negInf = 0;
  posInf = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;
  finite = 0;
  readonly sample = new Reservoir(RESERVOIR);
  readonly text = new Map<string, Entry>();
  /** The same entries by the hash of their bytes: a repeated value is counted without making its text again. */
  private readonly byHash = new Map<number, Entry>();
  textCount = 0;
  capped = false;

  number(v: number): void {
    if (v !== v) { this.missing++; return; }
    this.numbers++;
    if (v === Infinity) { this.posInf++; return; }
    if (v === -Infinity) { this.negInf++; return; }
    this.finite++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.sample.add(v);
  }

  /** The text b[i..j), all ASCII. */
  ascii(b: Buffer, i: number, j: number): void {
    let hash = 0x811c9dc5; // FNV-1a
    for (let k = i; k < j; k++) hash = Math.imul(hash ^ b[k]!, 0x01000193);
    const e = this.byHash.get(hash);
    if (e !== undefined && e.text.length === j - i) {
      let k = 0;
      while (k < j - i && e.text.charCodeAt(k) === b[i + k]) k++;
      if (k === j - i) { e.n++; this.textCount++; return; }
    }
    this.word(b.toString('latin1', i, j), hash);
  }

  word(s: string, hash?: number): void {
    this.textCount++;
    const e = this.text.get(s);
    if (e !== undefined) { e.n++; return; }
    if (this.text.size < TEXT_CAP) {
      const entry = { text: s, n: 1, hash };
      this.text.set(s, entry);
      if (hash !== undefined && !this.byHash.has(hash)) this.byHash.set(hash, entry);
      return;
    }
    this.capped = true; // Misra–Gries: one less for every value, this one included
    for (const [k, x] of this.text) {
      if (--x.n > 0) continue;
      this.text.delete(k);
      if (x.hash !== undefined && this.byHash.get(x.hash) === x) this.byHash.delete(x.hash);
    }
  }

  profile(name: string): ColumnProfile {
    const present = this.count - this.missing;
    const top = [...this.text.values()].sort((a, b) => b.n - a.n || (a.text < b.text ? -1 : 1)).slice(0, TOP)
      .map((e): [string, number] => [e.text, e.n]);
    return {
      name,
      type: present === 0 ? 'empty' : this.numbers >= 0.95 * present ? 'number' : 'string',
      count: this.count, missing: this.missing, numbers: this.numbers, negInf: this.negInf, posInf: this.posInf,
      min: this.finite ? this.min : null, max: this.finite ? this.max : null, mean: this.finite ? this.sum / this.finite : null,
      sketch: this.finite ? this.sample.sketch() : null,
      top, other: this.textCount - top.reduce((a, [, n]) => a + n, 0), distinct: this.capped ? TEXT_CAP : this.text.size,
    };
  }
}

/**
 * A uniform sample of fixed size (Li's Algorithm L: after the first `cap` values, only the values it
 * takes cost anything), from a fixed random sequence so the same input gives the same sample.
 */
class Reservoir {
  private readonly cap: number;
  /** Grows to `cap` as numbers come (a wide table's text columns keep a small one). */
  private values = new Float64Array(64);
  private size = 0;
  private seen = 0;
  private next = 0;
  private w = 1;
  private seed = 0x9e3779b9;

  constructor(cap: number) {
    this.cap = cap;
  }

  add(x: number): void {
    const i = ++this.seen;
    if (this.size < this.cap) {
      if (this.size === this.values.length) {
        const grown = new Float64Array(Math.min(this.cap, this.size * 4));
        grown.set(this.values);
        this.values = grown;
      }
      this.values[this.size++] = x;
      if (this.size === this.cap) { this.w = Math.exp(Math.log(this.random()) / this.cap); this.skip(); }
      return;
    }
    if (i !== this.next) return;
    this.values[Math.floor(this.random() * this.cap)] = x;
    this.w *= Math.exp(Math.log(this.random()) / this.cap);
    this.skip();
  }

  /** A KLL sketch of the sample. */
  sketch(): KllJson {
    const k = new Kll();
    for (let i = 0; i < this.size; i++) k.add(this.values[i]!);
    return k.toJSON();
  }

  private skip(): void {
    this.next = this.seen + Math.floor(Math.log(this.random()) / Math.log(1 - this.w)) + 1;
  }

  /** xorshift32, in (0, 1). */
  private random(): number {
    let x = this.seed;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.seed = x;
    return ((x >>> 0) + 0.5) / 4294967296;
  }
}
