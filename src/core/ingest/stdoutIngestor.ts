import type { Store } from '../store/store.ts';
import type { Columns } from '../store/chunks.ts';
import { tailLines } from './tail.ts';

/** What turns one output line into metrics (the stdout parser, or a user's own). */
export type LineParser = (line: string) => { values: { [key: string]: number }; step?: number } | undefined;

/**
 * Reads metrics from a run's output log, for scripts that only print them. Like the JSONL reader it
 * resumes from the offset stored with the points, so nothing is read twice.
 */
export class StdoutIngestor {
  private readonly store: Store;
  private readonly runId: number;
  private readonly file: string;
  private readonly parse: LineParser;
  private nextSteps: Map<string, number> | undefined;
  /** Lines the parser threw on (its own bug, or a user regex); they are skipped. */
  failures = 0;
  enabled = true;

  constructor(store: Store, runId: number, file: string, parse: LineParser) {
    this.store = store;
    this.runId = runId;
    this.file = file;
    this.parse = parse;
  }

  /** Reads new complete lines. When disabled, it only moves the offset. Returns points added. */
  poll(now = Date.now(), budget = Infinity): number {
    let added = 0;
    tailLines(this.file, this.store.offset(this.runId, 'output.log'), (text, end) => {
      const series = new Map<string, { steps: number[]; values: number[] }>();
      if (this.enabled) {
        for (const line of text.split('\n')) {
          if (!line) continue;
          let parsed;
          try {
            parsed = this.parse(line.replace(/\r$/, '').replace(/^.*\r/, '')); // keep the last redraw of a progress bar
          } catch {
            this.failures++;
            continue;
          }
          if (!parsed) continue;
          for (const [key, value] of Object.entries(parsed.values)) {
            const counters = this.counters();
            const step = parsed.step ?? counters.get(key) ?? 0;
            counters.set(key, step + 1);
            const s = series.get(key) ?? { steps: [], values: [] };
            s.steps.push(step);
            s.values.push(value);
            series.set(key, s);
          }
        }
      }
      const batch: [string, Columns][] = [...series].map(([key, s]) => [key, {
        steps: Float64Array.from(s.steps), times: new Float64Array(s.steps.length).fill(now), values: Float64Array.from(s.values),
      }]);
      this.store.transaction(() => {
        if (batch.length) this.store.metrics.appendMany(this.runId, batch);
        this.store.setOffset(this.runId, 'output.log', end);
      });
      for (const [, c] of batch) added += c.values.length;
    }, budget);
    return added;
  }

  /** Next automatic step per key; continues from the stored last step after a reload. */
  private counters(): Map<string, number> {
    if (!this.nextSteps) this.nextSteps = new Map(this.store.metrics.summaries(this.runId).map((s) => [s.key, s.lastStep + 1]));
    return this.nextSteps;
  }
}
