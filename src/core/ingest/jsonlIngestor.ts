import type { Store } from '../store/store.ts';
import type { Columns } from '../store/chunks.ts';
import type { ParamValue } from '../types.ts';
import { LineError, type MetricSink, type Record, decodeInto, decodeObject } from './jsonl.ts';
import { tailLines } from './tail.ts';

export interface IngestStats {
  lines: number;
  points: number;
  /** Lines skipped because they are not valid records; the reasons of the first few are kept. */
  malformed: number;
  /** Metric values skipped because they are not numbers. */
  skippedValues: number;
  problems: string[];
}

/** Growing float64 columns for one metric key, plus its automatic step counter. */
class SeriesBuffer {
  private steps = new Float64Array(1024);
  private times = new Float64Array(1024);
  private values = new Float64Array(1024);
  length = 0;
  nextStep: number;
  constructor(nextStep: number) {
    this.nextStep = nextStep;
  }
  pushColumn(steps: Float64Array, times: Float64Array, values: Float64Array): void {
    while (this.length + values.length > this.values.length) this.grow();
    this.steps.set(steps, this.length);
    this.times.set(times, this.length);
    this.values.set(values, this.length);
    this.length += values.length;
    if (steps.length) this.nextStep = steps[steps.length - 1]! + 1;
  }
  push(step: number | undefined, time: number, value: number): void {
    if (this.length === this.values.length) this.grow();
    const s = step ?? this.nextStep;
    this.nextStep = s + 1;
    this.steps[this.length] = s;
    this.times[this.length] = time;
    this.values[this.length++] = value;
  }
  take(): Columns {
    const n = this.length;
    this.length = 0;
    return { steps: this.steps.slice(0, n), times: this.times.slice(0, n), values: this.values.slice(0, n) };
  }
  private grow(): void {
    const bigger = (a: Float64Array) => { const b = new Float64Array(a.length * 2); b.set(a); return b; };
    this.steps = bigger(this.steps);
    this.times = bigger(this.times);
    this.values = bigger(this.values);
  }
}

/**
 * Reads a run's metrics file from where the store says it stopped, up to the last complete line.
 * Points, params, tags and artifact requests are committed together with the new offset, so a
 * reload resumes with nothing lost and nothing duplicated. A partial last line waits for its newline.
 */
export class JsonlIngestor {
  private readonly store: Store;
  private readonly runId: number;
  private readonly file: string;
  private readonly source: string;
  private series: Map<string, SeriesBuffer> | undefined;
  readonly stats: IngestStats = { lines: 0, points: 0, malformed: 0, skippedValues: 0, problems: [] };
  /** Called with artifact and model records after they were queued for collection (store.artifacts). */
  onRecord: ((record: Record) => void) | undefined;

  constructor(store: Store, runId: number, file: string, source = 'metrics.jsonl') {
    this.store = store;
    this.runId = runId;
    this.file = file;
    this.source = source;
  }

  /**
   * Ingests complete lines appended since the last call, up to about `budget` bytes (the rest waits
   * for the next call). Returns the points added.
   */
  poll(budget = Infinity): number {
    const before = this.stats.points;
    try {
      tailLines(this.file, this.store.offset(this.runId, this.source), (text, end) => this.commit(text, end), budget);
    } catch (err) {
      this.problem(err instanceof Error ? err.message : String(err));
    }
    return this.stats.points - before;
  }

  private commit(text: string, offset: number): void {
    const params: { [k: string]: ParamValue } = {};
    const tags: { [k: string]: string } = {};
    const others: Record[] = [];
    let hasParams = false, hasTags = false;
    const series = this.seriesState();
    const bufferFor = (key: string) => {
      let s = series.get(key);
      if (!s) series.set(key, (s = new SeriesBuffer(this.nextStepFromStore(key))));
      return s;
    };
    const sink: MetricSink = {
      point: (key, step, time, value) => bufferFor(key).push(step, time, value),
      column: (key, steps, times, values) => bufferFor(key).pushColumn(steps, times, values),
      skip: () => { this.stats.skippedValues++; },
    };
    const handle = (record: Record | undefined) => {
      if (!record) return; // metrics went straight to the sink
      switch (record.kind) {
        case 'metrics': break;
        case 'params': Object.assign(params, record.params); hasParams = true; break;
        case 'tags': Object.assign(tags, record.tags); hasTags = true; break;
        default: others.push(record);
      }
    };
    // Fast path: the whole slice as one JSON array (one parser call instead of one per line).
    // Any bad line sends the slice down the line-by-line path, which reports it.
    let all: unknown[] | undefined;
    try {
      all = JSON.parse(`[${text.slice(0, -1).replaceAll('\n', ',')}]`) as unknown[];
    } catch {
      all = undefined;
    }
    if (all) {
      const stats = { ...this.stats };
      const counters = new Map([...series].map(([k, s]) => [k, s.nextStep]));
      try {
        for (const obj of all) { this.stats.lines++; handle(decodeObject(obj, sink)); }
      } catch {
        // A valid JSON value that is not a valid record: undo, and redo the slice line by line.
        Object.assign(this.stats, stats);
        for (const [k, s] of [...series]) {
          const c = counters.get(k);
          if (c === undefined) series.delete(k);
          else { s.length = 0; s.nextStep = c; }
        }
        for (const k of Object.keys(params)) delete params[k];
        for (const k of Object.keys(tags)) delete tags[k];
        hasParams = hasTags = false;
        others.length = 0;
        all = undefined;
      }
    }
    let start = all ? text.length : 0;
    while (start < text.length) {
      const nl = text.indexOf('\n', start);
      const line = text.slice(start, nl).trim();
      start = nl + 1;
      if (!line) continue;
      this.stats.lines++;
      let record: Record | undefined;
      try {
        record = decodeInto(line, sink);
      } catch (err) {
        this.stats.malformed++;
        if (this.stats.problems.length < 20) {
          this.problem(`line ${this.stats.lines}: ${err instanceof LineError ? err.message : String(err)}: ${line.slice(0, 120)}`);
        }
        continue;
      }
      handle(record);
    }
    const batch: [string, Columns][] = [];
    for (const [key, s] of series) if (s.length) batch.push([key, s.take()]);
    this.store.transaction(() => {
      if (batch.length) this.store.metrics.appendMany(this.runId, batch);
      if (hasParams) this.store.runs.setParams(this.runId, params);
      if (hasTags) this.store.runs.setTags(this.runId, tags);
      for (const r of others) {
        if (r.kind === 'artifact') this.store.artifacts.request(this.runId, { kind: 'artifact', path: r.path });
        if (r.kind === 'model') this.store.artifacts.request(this.runId, { kind: 'model', path: r.path, model: r.name, metadata: r.metadata });
      }
      this.store.setOffset(this.runId, this.source, offset);
    });
    for (const [, c] of batch) this.stats.points += c.values.length;
    for (const r of others) this.onRecord?.(r);
  }

  /** Per-key step counters survive a reload: they continue from the stored last step. */
  private seriesState(): Map<string, SeriesBuffer> {
    if (!this.series) this.series = new Map();
    return this.series;
  }

  private lastSteps: Map<string, number> | undefined;

  private nextStepFromStore(key: string): number {
    if (!this.lastSteps) this.lastSteps = new Map(this.store.metrics.summaries(this.runId).map((s) => [s.key, s.lastStep]));
    const last = this.lastSteps.get(key);
    return last === undefined ? 0 : last + 1;
  }

  private problem(message: string): void {
    this.stats.problems.push(message);
  }
}
