import type { Store } from '../store/store.ts';
import type { Columns } from '../store/chunks.ts';
import { LineTail } from './tail.ts';

/** What turns one output line into metrics (the stdout parser, or a user's own). */
export type LineParser = (line: string) => { values: { [key: string]: number }; step?: number } | undefined;

/**
 * Reads metrics from a run's output log, for scripts that only print them. Like the JSONL reader it
 * resumes from the offset stored with the points, compared and set in the same transaction, and a
 * failed commit puts its step counters back, so nothing is read twice or at the wrong step.
 */
export class StdoutIngestor {
  private readonly store: Store;
  private readonly runId: number;
  private readonly parse: LineParser;
  private readonly guard: () => void;
  private readonly tail: LineTail;
  private nextSteps: Map<string, number> | undefined;
  /** Where this reader left the file (undefined before its first read). */
  private at: number | undefined;
  /** Lines the parser threw on (its own bug, or a user regex); they are skipped. */
  failures = 0;
  /** Lines longer than MAX_LINE_BYTES; skipped. */
  skippedLines = 0;
  enabled = true;

  constructor(store: Store, runId: number, file: string, parse: LineParser, options: { guard?: () => void } = {}) {
    this.store = store;
    this.runId = runId;
    this.parse = parse;
    this.guard = options.guard ?? (() => {});
    this.tail = new LineTail(file);
  }

  /** Reads new complete lines. When disabled, it only moves the offset. Returns points added. */
  poll(now = Date.now(), budget = Infinity): number {
    let added = 0;
    let at = this.store.offset(this.runId, SOURCE);
    if (this.at !== undefined && at !== this.at) this.nextSteps = undefined; // another reader moved on
    this.tail.read(at, {
      lines: (text, end) => { added += this.commit(text, at, end, now); this.at = at = end; },
      skip: (from, end) => {
        this.write(from, end, []);
        this.skippedLines++;
        this.at = at = end;
      },
    }, budget);
    this.at = at;
    return added;
  }

  private commit(text: string, from: number, end: number, now: number): number {
    const counters = this.counters();
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
    try {
      this.write(from, end, batch);
    } catch (err) {
      this.nextSteps = undefined; // nothing was stored: the same lines come again, with steps read from the store
      throw err;
    }
    let added = 0;
    for (const [, c] of batch) added += c.values.length;
    return added;
  }

  private write(from: number, end: number, batch: [string, Columns][]): void {
    this.store.transaction(() => {
      this.guard();
      this.store.moveOffset(this.runId, SOURCE, from, end);
      if (batch.length) this.store.metrics.appendMany(this.runId, batch);
    });
  }

  /** Next automatic step per key; continues from the stored last step after a reload. */
  private counters(): Map<string, number> {
    if (!this.nextSteps) this.nextSteps = new Map(this.store.metrics.summaries(this.runId).map((s) => [s.key, s.lastStep + 1]));
    return this.nextSteps;
  }
}

const SOURCE = 'output.log';
