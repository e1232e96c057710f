/**
 * Floats as integers, for the chunk codec: the scale that maps a column to integers (binary, 2^-k, or
 * decimal, 10^-d), the mapping itself with its exceptions, and the plan for coding the integers.
 */
import { type IntPlan, planInts } from './codecInts.ts';

export const POW10 = Array.from({ length: 23 }, (_, d) => 10 ** d);

/** The last mapping: its integers, and the indexes of the values that did not map (kept raw). */
export const mapped = { ints: new Float64Array(256), exceptions: [] as number[] };

/**
 * Maps the column to integers times 2^-scale (binary) or 10^-scale into `mapped.ints`, the values that do
 * not map exactly into `mapped.exceptions` (their slots repeat the integer before), and plans their
 * coding (at `order` if given). Undefined when most do not map.
 */
export function planMapped(col: Float64Array, n: number, binary: boolean, scale: number, order?: number): IntPlan | undefined {
  if (mapped.ints.length < n) mapped.ints = new Float64Array(n);
  const ints = mapped.ints, exceptions: number[] = (mapped.exceptions = []);
  const toInt = binary ? 2 ** scale : POW10[scale]!, fromInt = 2 ** -scale;
  let last = NaN;
  for (let i = 0; i < n; i++) {
    const v = col[i]!;
    const x = binary ? v * toInt : Math.round(v * toInt);
    const back = binary ? x * fromInt : x / toInt; // exactly what decoding computes
    if (x === Math.floor(x) && Math.abs(x) <= 2 ** 53 && back === v && (v !== 0 || 1 / v > 0)) {
      ints[i] = x;
      if (last !== last) for (let j = 0; j < i; j++) ints[j] = x; // leading exceptions repeat the first integer
      last = x;
    } else {
      exceptions.push(i);
      ints[i] = last === last ? last : 0;
    }
  }
  if (exceptions.length > n / 2) return undefined;
  const plan = planInts(ints, n, order);
  plan.bits += exceptions.length * 80;
  return plan;
}

const ctz = (x: number) => 31 - Math.clz32(x & -x);

/**
 * The scale k that makes every finite, nonzero value an integer times 2^-k below 2^53, from its exponent
 * and trailing zero bits; when one k cannot do all, the one that leaves fewer out.
 */
export function binaryScale(u32: Uint32Array, n: number): number {
  let need = -Infinity, fit = Infinity;
  for (let i = 0; i < n; i++) {
    const hi = u32[2 * i + 1]!, field = (hi >>> 20) & 0x7ff;
    if (field === 0 || field === 0x7ff) continue; // zero, denormal, NaN, Inf
    const lo = u32[2 * i]!, frac = hi & 0xfffff, e = field - 1023;
    const t = lo !== 0 ? ctz(lo) : frac !== 0 ? 32 + ctz(frac) : 52;
    if (52 - e - t > need) need = 52 - e - t;
    if (52 - e < fit) fit = 52 - e;
  }
  if (need === -Infinity) return 0;
  if (need <= fit) return need;
  let outNeed = 0, outFit = 0; // values left out at k = need, and at k = fit
  for (let i = 0; i < n; i++) {
    const hi = u32[2 * i + 1]!, field = (hi >>> 20) & 0x7ff;
    if (field === 0 || field === 0x7ff) continue;
    const lo = u32[2 * i]!, frac = hi & 0xfffff, e = field - 1023;
    const t = lo !== 0 ? ctz(lo) : frac !== 0 ? 32 + ctz(frac) : 52;
    if (52 - e < need) outNeed++;
    if (52 - e - t > fit) outFit++;
  }
  return outNeed <= outFit ? need : fit;
}

/** The number of decimals d (0..17) that gives back sampled values as integer / 10^d; undefined when none does. */
export function decimalScale(col: Float64Array, n: number): number | undefined {
  let d = 0;
  const samples = Math.min(n, 8);
  for (let s = 0; s < samples; s++) {
    const v = col[Math.floor((s * n) / samples)]!;
    if (!Number.isFinite(v) || v === 0) continue;
    let found = -1;
    for (let e = d; e <= 17; e++) {
      const x = Math.round(v * POW10[e]!);
      if (Math.abs(x) <= 2 ** 53 && x / POW10[e]! === v) { found = e; break; }
    }
    if (found < 0) return undefined;
    d = found;
  }
  return d;
}
