// Curve shapes of real training runs, for the store density benchmarks: deterministic for a seed.
// Times are what the Python helper sends: time.time() (a float64 of seconds from a nanosecond clock,
// as CPython computes it) times 1000 on ingest, so epoch ms with a fractional part.
import { prng } from '../../src/core/hparams/sweep.ts';
import type { Columns } from '../../src/core/store/chunks.ts';

export type Shape = 'smooth' | 'noisy' | 'counter' | 'sparse' | 'wallclock';
export const SHAPES: Shape[] = ['smooth', 'noisy', 'counter', 'sparse', 'wallclock'];

export const SHAPE_LABELS: Record<Shape, string> = {
  smooth: 'smooth float64 (cosine learning-rate schedule, every step)',
  noisy: 'noisy float32 loss (every step)',
  counter: 'integer counter (tokens seen, every step)',
  sparse: 'sparse eval metric (float32 accuracy every 500 steps)',
  wallclock: 'wall-clock metric (GPU utilization % by a 1 s timer, jittered)',
};

/** CPython's time.time() for an integer nanosecond clock, then the ingest's * 1000. */
const epochMs = (ns: number) => (ns / 1e9) * 1000;

function gauss(rnd: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

/** n points of one shape. Steps take ~50 ms (σ 1 ms), with a 2 s pause every 1,000 steps. */
export function shape(kind: Shape, n: number, seed = 1): Columns {
  const rnd = prng(seed), g = gauss(rnd);
  const steps = new Float64Array(n), times = new Float64Array(n), values = new Float64Array(n);
  let ns = 1_700_000_000e9 + Math.floor(rnd() * 1e9);
  const stepNs = () => 50e6 * (1 + 0.02 * g());
  if (kind === 'smooth' || kind === 'noisy' || kind === 'counter') {
    let tokens = 0;
    for (let i = 0; i < n; i++) {
      ns += Math.round(stepNs() + (i % 1000 === 999 ? 2e9 : 0));
      steps[i] = i;
      times[i] = epochMs(ns);
      if (kind === 'smooth') values[i] = 3e-4 * 0.5 * (1 + Math.cos((Math.PI * i) / n));
      else if (kind === 'noisy') values[i] = Math.fround((2 * Math.exp(-i / (n / 5)) + 0.35) * (1 + 0.04 * g()));
      else values[i] = tokens += 4096 - Math.floor(rnd() * 512); // packed sequences: a few pad tokens a batch
    }
  } else if (kind === 'sparse') {
    for (let j = 0; j < n; j++) {
      ns += Math.round(500 * stepNs() + 3e9 * (1 + 0.1 * g())); // 500 steps, then an eval of ~3 s
      steps[j] = 500 * j;
      times[j] = epochMs(ns);
      values[j] = Math.fround(0.9 - 0.5 * Math.exp(-j / 300) + 0.005 * g());
    }
  } else {
    let step = 0;
    for (let j = 0; j < n; j++) {
      ns += Math.round(1e9 + 5e6 * g()); // a timer thread: 1 s, σ 5 ms
      step += Math.round(20 * (1 + 0.02 * g())); // ~20 steps a second
      steps[j] = step;
      times[j] = epochMs(ns);
      values[j] = Math.max(0, Math.min(100, Math.round(92 + 4 * g())));
    }
  }
  return { steps, times, values };
}
