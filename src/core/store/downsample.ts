/**
 * Per-bucket min / max / last of one series over [lo, hi], from its chunk summaries (chunkIndex.ts). Every
 * point in range counts exactly once, so a one-step spike always shows in its bucket's max. A chunk narrower
 * than a bucket is answered from its summary and goes whole to the bucket where it starts (the bucket's
 * reported x range says where its points really are); wider chunks, and chunks at the range ends, are decoded.
 */
import type { ChunkIndex } from './chunkIndex.ts';
import { type RunsAsk, decodeChunk, stepProgression, valueRuns } from './codec.ts';

export type Axis = 'step' | 'time';

export interface DownsampleRequest {
  axis: Axis;
  /** Inclusive x range. */
  lo: number;
  hi: number;
  /** Usually the chart's width in pixels. */
  buckets: number;
  /** Leave out points at exactly lo (live updates ask for what came after the last point sent). */
  afterLo?: boolean;
}

/**
 * Non-empty buckets only, in x order. Each bucket reports the real x range of the points it holds
 * (xFirst..x), the x and value of its last point, and the min and max of all its points.
 */
export interface Downsampled {
  xFirst: Float64Array;
  x: Float64Array;
  last: Float64Array;
  min: Float64Array;
  max: Float64Array;
  count: Uint32Array;
}

/** The blobs of the chunks with these sequence numbers, in the same order. */
export type ReadBlobs = (seqs: number[]) => Uint8Array[];

/** A chunk read is not the one its summary describes: another connection wrote in between. Read again in a transaction. */
export class StaleRead extends Error {}

// Scratch, reused (queries are synchronous): chunks in range, whether each is decoded, decoded columns.
let inRange = new Int32Array(1024);
let decoded = new Uint8Array(1024);
let columns = new Float64Array(2 * 1024);
/** A chunk of regular steps: its runs of points by bucket (Buckets.runsOf, run j in bucket ks[j]), as valueRuns reads them. */
interface Regular extends RunsAsk {
  ks: Int32Array;
  first: number;
  d: number;
}
const NO_BLOB = new Uint8Array(0);
const regular: Regular = { blob: NO_BLOB, cuts: new Int32Array(1025), ks: new Int32Array(1024), runs: 0, out: new Float64Array(3 * 1024), n: 0, first: 0, d: 0 };

export function downsampleSeries(index: ChunkIndex | undefined, req: DownsampleRequest, read: ReadBlobs): Downsampled {
  const { lo, hi } = req;
  const buckets = Math.max(1, Math.floor(req.buckets));
  const out = Buckets.reset(buckets);
  if (!index || !(hi >= lo)) return out.compact();
  const width = hi > lo ? (hi - lo) / buckets : 1;
  const after = req.afterLo === true, byStep = req.axis === 'step';
  // times are non-decreasing in practice, so the newest time stands for the last point's
  const xLo = byStep ? index.stepLo : index.timeLo, xHi = byStep ? index.stepHi : index.timeHi;
  const xLast = byStep ? index.stepLast : index.timeHi;
  if (inRange.length < index.length) {
    inRange = new Int32Array(index.length);
    decoded = new Uint8Array(index.length);
  }
  const seqs: number[] = [];
  let m = 0;
  for (let c = 0; c < index.length; c++) {
    const a = xLo[c]!, z = xHi[c]!;
    if (!(z >= lo && a <= hi) || (after && !(z > lo))) continue;
    const whole = (after ? a > lo : a >= lo) && z <= hi && z - a <= width;
    inRange[m] = c;
    decoded[m++] = whole ? 0 : 1;
    if (!whole) seqs.push(index.seq[c]!);
  }
  const blobs = seqs.length ? read(seqs) : [];
  for (let j = 0, d = 0; j < m; j++) {
    const c = inRange[j]!;
    if (!decoded[j]) {
      out.add(Math.min(buckets - 1, Math.floor((xLo[c]! - lo) / width)), xLo[c]!, xLast[c]!, index.vMin[c]!, index.vMax[c]!, index.vLast[c]!, index.n[c]!);
      continue;
    }
    const blob = blobs[d++]!;
    const n = index.n[c]!;
    const steps = byStep ? stepProgression(blob) : undefined;
    // regular steps, first + i * d exactly (integers below 2^53): computed, not decoded
    if (steps !== undefined && steps[1] > 0 && Math.abs(steps[0]) + n * steps[1] <= 2 ** 53) {
      const g = regular;
      [g.blob, g.first, g.d] = [blob, steps[0], steps[1]];
      out.runsOf(g, n, lo, hi, after, width);
      valueRuns(g);
      g.blob = NO_BLOB; // not kept past the query
      if (g.n >= 0) {
        if (g.n !== n) throw new StaleRead(`chunk ${index.seq[c]} holds ${g.n} points, its summary ${n}`);
        out.addRegular(g, g.out);
        continue;
      }
      if (columns.length < n) columns = new Float64Array(n);
      const points = decodeChunk(blob, 'x', columns);
      if (points.values.length !== n) throw new StaleRead(`chunk ${index.seq[c]} holds ${points.values.length} points, its summary ${n}`);
      out.addRegular(g, undefined, points.values);
      continue;
    }
    if (columns.length < 2 * n) columns = new Float64Array(2 * n);
    const points = decodeChunk(blob, byStep ? 'times' : 'steps', columns);
    if (points.values.length !== n) throw new StaleRead(`chunk ${index.seq[c]} holds ${points.values.length} points, its summary ${n}`);
    out.addPoints(byStep ? points.steps : points.times, points.values, lo, hi, after, width);
  }
  return out.compact();
}

// Answers are views into shared slabs, as Node's Buffer pool does: an ArrayBuffer each costs more than
// filling it when a chart asks for a thousand runs. `take` counts in 4-byte words, kept 8-byte aligned.
let slab = new ArrayBuffer(0);
let slabAt = 0;
function take(words: number): number {
  const n = (words + 1) >> 1; // in 8-byte units
  if (slabAt + n > slab.byteLength / 8) {
    slab = Buffer.allocUnsafeSlow(8 * Math.max(1 << 15, n)).buffer as ArrayBuffer; // not zeroed: compact() writes every word it hands out
    slabAt = 0;
  }
  slabAt += n;
  return slabAt - n;
}

/** Accumulates min / max / last per bucket. NaN never wins min or max; an empty bucket stays NaN. */
class Buckets {
  private static scratch = new Buckets(0);
  n = 0;
  xFirst: Float64Array;
  x: Float64Array;
  last: Float64Array;
  min: Float64Array;
  max: Float64Array;
  count: Float64Array;

  private constructor(n: number) {
    [this.xFirst, this.x, this.last, this.min, this.max, this.count] = [0, 1, 2, 3, 4, 5].map(() => new Float64Array(n));
  }

  /** The shared accumulator, emptied, for n buckets. */
  static reset(n: number): Buckets {
    let b = Buckets.scratch;
    if (b.xFirst.length < n) b = Buckets.scratch = new Buckets(n);
    b.n = n;
    for (const a of [b.xFirst, b.x, b.last, b.min, b.max]) a.fill(NaN, 0, n);
    b.count.fill(0, 0, n);
    return b;
  }

  add(b: number, xFirst: number, xLast: number, vMin: number, vMax: number, vLast: number, n: number): void {
    if (vMin === vMin && !(vMin >= this.min[b]!)) this.min[b] = vMin;
    if (vMax === vMax && !(vMax <= this.max[b]!)) this.max[b] = vMax;
    if (!(xFirst >= this.xFirst[b]!)) this.xFirst[b] = xFirst;
    this.last[b] = vLast;
    this.x[b] = xLast;
    this.count[b]! += n;
  }

  /**
   * Adds the points with x in range one by one, as add() would, but folds each run of points that fall in
   * the same bucket first (the same comparisons in the same order: the same answer, bit for bit).
   */
  addPoints(xs: Float64Array, vs: Float64Array, lo: number, hi: number, after: boolean, width: number): void {
    const top = this.n - 1;
    let b = -1, first = NaN, x = NaN, last = NaN, min = NaN, max = NaN, count = 0;
    for (let i = 0; i < vs.length; i++) {
      const xi = xs[i]!;
      if (!((after ? xi > lo : xi >= lo) && xi <= hi)) continue;
      const k = Math.min(top, Math.floor((xi - lo) / width));
      if (k !== b) {
        if (count > 0) this.add(b, first, x, min, max, last, count);
        b = k; first = xi; min = NaN; max = NaN; count = 0;
      }
      const v = vs[i]!;
      if (v === v) {
        if (!(v >= min)) min = v;
        if (!(v <= max)) max = v;
      }
      if (!(xi >= first)) first = xi;
      x = xi;
      last = v;
      count++;
    }
    if (count > 0) this.add(b, first, x, min, max, last, count);
  }

  /**
   * addPoints() for points at x = first + i * d (d > 0, every x exact): x goes up, so the points in range,
   * and those of each bucket, are runs of i (see runsOf). `stats` holds each run's min, max and last when
   * read already (valueRuns); else they are found in vs.
   */
  addRegular(g: Regular, stats?: Float64Array, vs?: Float64Array): void {
    const { min: mins, max: maxs, xFirst: firsts, x: xs, last: lasts, count } = this;
    const { first, d, cuts, ks } = g;
    for (let j = 0; j < g.runs; j++) {
      const s = cuts[j]!, e = cuts[j + 1]!, k = ks[j]!;
      let min = NaN, max = NaN, last = NaN;
      if (stats) {
        min = stats[3 * j]!;
        max = stats[3 * j + 1]!;
        last = stats[3 * j + 2]!;
      } else {
        last = vs![e - 1]!;
        let odd = 1;
        if (e - s >= 32) { // long runs without branches; they find the same values when no NaN or zero (±0 ties) is among them
          let lo = Infinity, hi = -Infinity;
          odd = 0;
          for (let i = s; i < e; i++) {
            const v = vs![i]!;
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
            odd |= +(v !== v) | +(v === 0);
          }
          if (!odd) [min, max] = [lo, hi];
        }
        for (let i = s; odd && i < e; i++) {
          const v = vs![i]!;
          if (v === v) {
            if (!(v >= min)) min = v;
            if (!(v <= max)) max = v;
          }
        }
      }
      // add(k, ...) by hand
      if (min === min && !(min >= mins[k]!)) mins[k] = min;
      if (max === max && !(max <= maxs[k]!)) maxs[k] = max;
      const x0 = first + s * d;
      if (!(x0 >= firsts[k]!)) firsts[k] = x0;
      lasts[k] = last;
      xs[k] = first + (e - 1) * d;
      count[k]! += e - s;
    }
  }

  /**
   * The runs of i in [0, n) whose x = first + i * d falls in range, one per bucket, into cuts (run j is
   * [cuts[j], cuts[j + 1])) and ks (its bucket); their number. A run's end is found from where x crosses
   * the bucket's edge, checked with the bucket formula itself.
   */
  runsOf(g: Regular, n: number, lo: number, hi: number, after: boolean, width: number): void {
    const top = this.n - 1, { first, d } = g;
    g.runs = 0;
    const bucket = (i: number) => Math.min(top, Math.floor((first + i * d - lo) / width));
    let s = 0, end = n;
    while (s < end && !(after ? first + s * d > lo : first + s * d >= lo)) s++;
    while (end > s && !(first + (end - 1) * d <= hi)) end--;
    if (s >= end) return;
    if (g.cuts.length <= n) [g.cuts, g.ks, g.out] = [new Int32Array(n + 1), new Int32Array(n), new Float64Array(3 * n)];
    const { cuts, ks } = g;
    let k = bucket(s), next = k, runs = 0;
    cuts[0] = s;
    while (s < end) {
      let e = end;
      if (k < top) {
        e = Math.ceil((lo + (k + 1) * width - first) / d);
        if (!(e > s)) e = s + 1;
        else if (e > end) e = end;
        while (e > s + 1 && bucket(e - 1) !== k) e--;
        while (e < end && (next = bucket(e)) === k) e++;
      }
      ks[runs] = k;
      cuts[++runs] = e;
      s = e;
      // the bucket of the point at e, found above; mostly the next one, taken as a branch so the next run
      // need not wait for the division that found it
      if (next === k + 1) k++;
      else k = next;
    }
    g.runs = runs;
  }

  /** The non-empty buckets, in arrays of their own (one buffer). */
  compact(): Downsampled {
    let k = 0;
    for (let i = 0; i < this.n; i++) if (this.count[i]! > 0) k++;
    const at = take(11 * k); // 5 float64 columns, then the uint32 counts
    const [xFirst, x, last, min, max] = [0, 1, 2, 3, 4].map((j) => new Float64Array(slab, 8 * (at + k * j), k));
    const count = new Uint32Array(slab, 8 * at + 40 * k, k);
    // a long stretch of non-empty buckets is copied at once (a dense chart's is all of them), a short one a bucket at a time
    for (let i = 0, j = 0; i < this.n;) {
      let e = i;
      while (e < this.n && this.count[e]! > 0) e++;
      if (e - i >= 16) {
        xFirst!.set(this.xFirst.subarray(i, e), j); x!.set(this.x.subarray(i, e), j); last!.set(this.last.subarray(i, e), j);
        min!.set(this.min.subarray(i, e), j); max!.set(this.max.subarray(i, e), j); count.set(this.count.subarray(i, e), j);
        j += e - i;
      } else {
        for (let b = i; b < e; b++, j++) {
          xFirst![j] = this.xFirst[b]!; x![j] = this.x[b]!; last![j] = this.last[b]!; min![j] = this.min[b]!; max![j] = this.max[b]!;
          count[j] = this.count[b]!;
        }
      }
      i = e + 1; // bucket e is empty (or the end)
    }
    return { xFirst: xFirst!, x: x!, last: last!, min: min!, max: max!, count };
  }
}
