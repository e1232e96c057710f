/**
 * TensorBoard's debiased exponential moving average. Pure: no DOM, so it runs under node:test.
 *
 *   acc = acc * w + (1 - w) * v
 *   smoothed = acc / (1 - w^n)        n = finite values seen so far
 *
 * Missing values (null, NaN, ±Infinity) are skipped: they stay gaps and do not move the average.
 * The state makes it incremental: appending points continues exactly where a full pass would be.
 */

export interface EmaState {
  acc: number;
  /** Finite values folded in so far. */
  n: number;
}

export function emaStart(): EmaState {
  return { acc: 0, n: 0 };
}

/** The weight the slider may set: 0 (off) up to 0.999. */
export function clampWeight(w: number): number {
  if (!Number.isFinite(w) || w <= 0) return 0;
  return Math.min(w, 0.999);
}

/**
 * Folds values[from..] into state and writes the smoothed values into out at the same indices
 * (out may be shorter: it is extended). Returns out.
 */
export function emaAppend(
  values: ArrayLike<number | null>,
  weight: number,
  state: EmaState,
  out: (number | null)[] = [],
  from = 0,
): (number | null)[] {
  const w = clampWeight(weight);
  for (let i = from; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    if (w === 0) {
      out[i] = v;
      continue;
    }
    state.acc = state.acc * w + (1 - w) * v;
    state.n++;
    out[i] = state.acc / (1 - Math.pow(w, state.n));
  }
  return out;
}

/** The smoothed copy of values (w = 0 returns the finite values unchanged). */
export function ema(values: ArrayLike<number | null>, weight: number): (number | null)[] {
  return emaAppend(values, weight, emaStart(), new Array<number | null>(values.length));
}
