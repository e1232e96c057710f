import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { Columns } from '../../src/core/store/chunks.ts';

/** A fresh temp folder, removed after the test file finishes. */
export function tempDir(prefix = 'runlens-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Columns for points at steps from..from+n-1, value f(step), one second apart. */
export function series(from: number, n: number, f: (step: number) => number, t0 = 1_700_000_000_000): Columns {
  const steps = new Float64Array(n), times = new Float64Array(n), values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    steps[i] = from + i;
    times[i] = t0 + (from + i) * 1000;
    values[i] = f(from + i);
  }
  return { steps, times, values };
}
