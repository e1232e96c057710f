import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs: string[] = [];
process.on('exit', () => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'runlens-bench-'));
  dirs.push(d);
  return d;
}

export function timeIt(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export type Report = (
  name: string, value: number, unit: string, baselines: [string, number][],
  options: { higherIsBetter: boolean; target?: string },
) => void;

const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en') : v.toPrecision(3));

/** Prints a figure with its same-run baselines as ratios. */
export const printReport: Report = (name, value, unit, baselines, options) => {
  console.log(`\n${name}: ${fmt(value)} ${unit}${options.target ? `   (target ${options.target})` : ''}`);
  for (const [label, base] of baselines) {
    const ratio = options.higherIsBetter ? value / base : base / value;
    console.log(`  vs ${label}: ${fmt(base)} ${unit}  ->  ${ratio.toFixed(2)}x ${ratio >= 1 ? 'better' : 'worse'}`);
  }
};
