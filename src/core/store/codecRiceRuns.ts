/**
 * The smallest, largest and last integer of runs of a Rice coded column (order 0, codecRice.ts), for what a
 * chart needs without decoding the column into an array. A column written in blocks answers each block a run
 * covers whole from its table, so only the blocks at the runs' edges are decoded.
 */
import { type Reader, peek32 } from './codecBits.ts';
import { ESCAPE, readTable, table } from './codecRice.ts';

const INT_MAX = 2 ** 31 - 1, INT_MIN = -(2 ** 31);

/**
 * The stream being read (b, from bit `start`; `view` sees b's whole buffer, b at `base`) and where scan() is
 * (the integer it reads next, at `bit`); the runs (run j ends at `edge`), and the min, max and last so far of
 * run j. `zero`: a run held a zero, or may have.
 */
const s = {
  b: new Uint8Array(0) as Uint8Array<ArrayBufferLike>, view: new DataView(new ArrayBuffer(0)) as DataView<ArrayBufferLike>,
  base: 0, len: 0, start: 0, center: 0, k: 0, mask: 0, width: 0, wmask: 0, log: 31, blocks: false, next: 0, bit: 0,
  cuts: new Int32Array(0) as Int32Array<ArrayBufferLike>, out: new Float64Array(0) as Float64Array<ArrayBufferLike>,
  runs: 0, j: 0, edge: 0, min: INT_MAX, max: INT_MIN, last: 0, zero: false,
};

/**
 * Run j of the n integers is [cuts[j], cuts[j + 1]) (j < runs, cuts[runs] <= n); out gets its smallest,
 * largest and last at 3j, 3j + 1, 3j + 2. False, with r where it was, when the integers may not be int32s,
 * or a run's integers may hold a zero (±0 ties in a chart's min and max: the caller decodes the values instead).
 */
export function readRiceRuns(r: Reader, n: number, cuts: Int32Array, runs: number, out: Float64Array, inBlocks = false): boolean {
  const from = r.at;
  const center = r.svarint(), k = r.byte(), width = r.byte();
  // |center| <= 2^30 and |residual| <= 2^30: the integers are int32s
  if (k > 31 || width > 31 || !(Math.abs(center) <= 2 ** 30) || n === 0) {
    r.at = from;
    return false;
  }
  if (inBlocks) readTable(r, n, center);
  const b = r.bytes, log = inBlocks ? table.log : 31;
  if (s.view.buffer !== b.buffer) s.view = new DataView(b.buffer);
  s.b = b; s.base = b.byteOffset; s.len = r.length; s.start = 8 * r.at; s.bit = s.start; s.next = 0;
  s.center = center; s.k = k; s.mask = k === 0 ? 0 : (1 << k) - 1; s.width = width; s.wmask = (1 << width) - 1;
  s.log = log; s.blocks = inBlocks;
  s.cuts = cuts; s.out = out; s.runs = runs; s.j = 0; s.edge = runs > 0 ? cuts[1]! : INT_MAX; s.min = INT_MAX; s.max = INT_MIN; s.zero = false;
  const stop = runs > 0 ? cuts[runs]! : 0;
  for (let i = runs > 0 ? cuts[0]! : 0; i < stop && !s.zero;) {
    const t = i >>> log, end = inBlocks ? Math.min(stop, (t + 1) << log) : stop;
    if (inBlocks && i === t << log && s.edge >= Math.min(n, (t + 1) << log)) { // a whole block of run j, from its table
      s.min = Math.min(s.min, table.lo[t]!);
      s.max = Math.max(s.max, table.hi[t]!);
      i = end;
      if (i === s.edge) { // run j ends with the block: its last integer
        if (i === n) s.last = table.last;
        else read(i - 1, i); // counted twice: no matter for a min or a max
        endRun();
      }
      continue;
    }
    read(i, end);
    i = end;
    if (i === s.edge) endRun();
  }
  if (s.zero) {
    r.at = from;
    return false;
  }
  if (inBlocks) s.bit = s.start + table.at[table.blocks]!;
  else if (s.next < n) read(n, n); // on to the stream's end
  r.at = s.start >>> 3;
  r.skip(Math.ceil((s.bit - s.start) / 8));
  return true;
}

/** Run j is read: its min, max and last to out, then on to the next run. */
function endRun(): void {
  const { j, min, max } = s;
  if (min <= 0 && max >= 0) s.zero = true;
  s.out[3 * j] = min; s.out[3 * j + 1] = max; s.out[3 * j + 2] = s.last;
  s.j = j + 1;
  s.edge = j + 1 < s.runs ? s.cuts[j + 2]! : INT_MAX;
  s.min = INT_MAX;
  s.max = INT_MIN;
}

/** Counts [a, z) (in one block) into the runs: read on from where the stream is, or from the block's start. */
function read(a: number, z: number): void {
  const t = a >>> s.log, first = s.blocks ? t << s.log : 0, at = s.start + table.at[t]!;
  if (s.next > a || s.next < first) {
    s.bit = at;
    s.next = first;
  } else if (s.blocks && s.next === first && s.bit !== at) throw new RangeError('chunk blob has a bad block table');
  scan(a, z);
  s.next = z;
}

/**
 * Reads the integers from s.next to z as readRice reads them when below 2^31, and counts those from a on
 * into their runs (endRun() by hand: runs may be a few integers each).
 */
function scan(a: number, z: number): void {
  const { b, view, base, len, k, mask, width, wmask, cuts, out, runs } = s, center = s.center | 0;
  let bit = s.bit | 0, min = s.min, max = s.max, j = s.j, edge = s.edge, q = s.last;
  for (let i = s.next; i < z; i++) {
    let v: number;
    const p = bit >>> 3;
    if (p + 4 <= len) { // 32 bits in place: from any bit of a byte, 25 are whole, ESCAPE ones and more
      const sh = bit & 7;
      const w = view.getUint32(base + p, true) >>> sh;
      const ones = 31 - Math.clz32((~w | 0x80000000) & -(~w | 0x80000000)); // w's trailing ones
      if (ones < ESCAPE) {
        const used = ones + 1 + k;
        v = ((used <= 32 - sh ? w >>> (ones + 1) : peek32(b, len, bit + ones + 1)) & mask) | (ones << k);
        bit += used;
      } else {
        bit += ESCAPE;
        v = peek32(b, len, bit) & wmask;
        bit += width;
      }
    } else {
      const zeros = ~peek32(b, len, bit);
      const ones = zeros === 0 ? 32 : 31 - Math.clz32(zeros & -zeros);
      if (ones < ESCAPE) {
        bit += ones + 1;
        v = (peek32(b, len, bit) & mask) | (ones << k);
        bit += k;
      } else {
        bit += ESCAPE;
        v = peek32(b, len, bit) & wmask;
        bit += width;
      }
    }
    if (i < a) continue;
    if (i === edge) { // run j ends before i
      if (min <= 0 && max >= 0) s.zero = true;
      out[3 * j] = min; out[3 * j + 1] = max; out[3 * j + 2] = q;
      j++;
      edge = j < runs ? cuts[j + 1]! : INT_MAX;
      min = INT_MAX;
      max = INT_MIN;
    }
    q = (center + ((v >>> 1) ^ -(v & 1))) | 0;
    min = Math.min(min, q);
    max = Math.max(max, q);
  }
  s.bit = bit; s.min = min; s.max = max; s.j = j; s.edge = edge; s.last = q;
}
