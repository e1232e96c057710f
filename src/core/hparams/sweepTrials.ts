import type { ParamValue } from '../types.ts';
import { type RandomSpace, type SweepSpace, SweepError, gridSweep, randomSweep } from './sweep.ts';
import type { SweepConfig } from './sweepConfig.ts';

/** One trial of a sweep: the params it overrides. */
export type Trial = { [key: string]: ParamValue };

/** The trials of a sweep: every combination for a grid, `count` seeded random points otherwise. */
export function trialsOf(sweep: Pick<SweepConfig, 'method' | 'params' | 'count' | 'seed'>): Trial[] {
  if (sweep.method === 'grid') {
    for (const [key, values] of Object.entries(sweep.params)) {
      if (!Array.isArray(values)) throw new SweepError(`"${key}": a grid needs a list of values, not a range`);
    }
    return gridSweep(sweep.params as SweepSpace);
  }
  return randomSweep(sweep.params as RandomSpace, sweep.count ?? 0, sweep.seed ?? 0);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A sweep's id: its name and the minute it started (`lr-search 2026-11-23 15:20`), unique among the taken ones. */
export function sweepId(name: string, when: Date, taken: (id: string) => boolean): string {
  const base = `${name} ${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ${pad(when.getHours())}:${pad(when.getMinutes())}`;
  let id = base;
  for (let n = 2; taken(id); n++) id = `${base} (${n})`;
  return id;
}

/** A trial's run name, its values: `lr=0.1 hidden=8` (full keys where the last parts would clash). */
export function trialName(trial: Trial): string {
  const keys = Object.keys(trial);
  const last = (k: string) => k.split('.').pop()!;
  const clash = (k: string) => keys.some((o) => o !== k && last(o) === last(k));
  const text = keys.map((k) => `${clash(k) ? k : last(k)}=${String(trial[k])}`).join(' ');
  return (text.length > 80 ? `${text.slice(0, 79)}…` : text) || 'trial';
}

/** Overrides as "Start Run with Overrides" reads them (`train.lr=0.1 model.hidden=8`), strings quoted where needed. */
export function overridesText(trial: Trial): string {
  return Object.entries(trial).map(([k, v]) => `${k}=${typeof v === 'string' && !plainString(v) ? JSON.stringify(v) : String(v)}`).join(' ');
}

/** A string that reads back as itself without quotes: no spaces or quotes, not a number or boolean. */
function plainString(v: string): boolean {
  return v !== '' && !/[\s"']/.test(v) && v !== 'true' && v !== 'false' && !Number.isFinite(Number(v));
}
