import type { Store } from '../store/store.ts';
import type { Columns } from '../store/chunks.ts';
import type { ParamValue } from '../types.ts';
import { LineError, type MetricSink, type Record, decodeInto, decodeObject } from './jsonl.ts';
import { LineTail, MAX_LINE_BYTES } from './tail.ts';
import { faultKind } from '../store/faults.ts';

export interface IngestStats {
  lines: number;
  points: number;
  /** Lines skipped because they are not valid records; the reasons of the first few are kept. */
  malformed: number;
  /** Metric values skipped because they are not numbers. */
  skippedValues: number;
  problems: string[];
}

/** Growing float64 columns for one metric key, plus its automatic step counter. Starts small: memory follows the points. */
class SeriesBuffer {
  private steps = new Float64Array(8);
  private times = new Float64Array(8);
  private values = new Float64Array(8);
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

export interface IngestOptions {
  /** The name of the file's read position in the store (default metrics.jsonl). */
  source?: string;
  /** Called first inside every write transaction (the run monitor renews its lease there). */
  guard?: () => void;
}

/**
 * Reads a run's metrics file from where the store says it stopped, up to the last complete line.
 * Points, params, tags, artifact requests, the step counters and the new offset commit together or
 * not at all: the offset is compared and set in the same transaction (another reader that got there
 * first rolls it back), and a failed commit puts the in-memory counters back as they were, so the
 * same lines are read again later at the same steps. A partial last line waits for its newline.
 */
export class JsonlIngestor {
  private readonly store: Store;
  private readonly runId: number;
  private readonly source: string;
  private readonly guard: () => void;
  private readonly tail: LineTail;
  private readonly series = new Map<string, SeriesBuffer>();
  private lastSteps: Map<string, number> | undefined;
  /** Where this reader left the file (undefined before its first read). */
  private at: number | undefined;
  readonly stats: IngestStats = { lines: 0, points: 0, malformed: 0, skippedValues: 0, problems: [] };
  /** Called with artifact and model records after they were queued for collection (store.artifacts). */
  onRecord: ((record: Record) => void) | undefined;

  /** Bytes searched for line ends so far: a partial line is searched once, not on every poll. */
  get bytesScanned(): number {
    return this.tail.bytesScanned;
  }

  constructor(store: Store, runId: number, file: string, options: IngestOptions = {}) {
    this.store = store;
    this.runId = runId;
    this.source = options.source ?? 'metrics.jsonl';
    this.guard = options.guard ?? (() => {});
    this.tail = new LineTail(file);
  }

  /**
   * Ingests complete lines appended since the last call, up to about `budget` bytes (the rest waits
   * for the next call). Returns the points added. A store fault (busy, full, read-only, another
   * reader) is thrown after the rollback; a problem with the file itself is kept in stats.problems.
   */
  poll(budget = Infinity): number {
    const before = this.stats.points;
    let at = this.store.offset(this.runId, this.source);
    if (this.at !== undefined && at !== this.at) this.forget(); // another reader moved on: its steps are in the store
    try {
      this.tail.read(at, {
        lines: (text, end) => { this.commit(text, at, end); this.at = at = end; },
        skip: (from, end) => { this.skipLine(from, end); this.at = at = end; },
      }, budget);
      this.at = at;
    } catch (err) {
      if (faultKind(err)) throw err;
      this.problem(err instanceof Error ? err.message : String(err));
    }
    return this.stats.points - before;
  }

  private skipLine(from: number, end: number): void {
    this.store.transaction(() => {
      this.guard();
      this.store.moveOffset(this.runId, this.source, from, end);
    });
    this.stats.lines++;
    this.stats.malformed++;
    this.problem(`line ${this.stats.lines}: ${end - from} bytes, longer than ${MAX_LINE_BYTES} bytes; skipped`);
  }

  private commit(text: string, from: number, offset: number): void {
    const params: { [k: string]: ParamValue } = {};
    const tags: { [k: string]: string } = {};
    const others: Record[] = [];
    let hasParams = false, hasTags = false;
    const series = this.series;
    const saved = this.save();
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
      try {
        for (const obj of all) { this.stats.lines++; handle(decodeObject(obj, sink)); }
      } catch {
        // A valid JSON value that is not a valid record: undo, and redo the slice line by line.
        this.restore(saved);
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
    try {
      this.store.transaction(() => {
        this.guard();
        this.store.moveOffset(this.runId, this.source, from, offset);
        if (batch.length) this.store.metrics.appendMany(this.runId, batch);
        if (hasParams) this.store.runs.setParams(this.runId, params);
        if (hasTags) this.store.runs.setTags(this.runId, tags);
        for (const r of others) {
          if (r.kind === 'artifact') this.store.artifacts.request(this.runId, { kind: 'artifact', path: r.path, sha256: r.sha256 });
          if (r.kind === 'model') this.store.artifacts.request(this.runId, { kind: 'model', path: r.path, model: r.name, metadata: r.metadata, sha256: r.sha256 });
        }
      });
    } catch (err) {
      // Nothing was stored: the same lines come again, and the steps are read again from the store
      // (another reader may have stored these lines meanwhile).
      this.restore(saved);
      this.forget();
      throw err;
    }
    for (const [, c] of batch) this.stats.points += c.values.length;
    for (const r of others) this.onRecord?.(r);
  }

  /** The in-memory state a commit changes: counters, line counts, and which keys have buffers. */
  private save() {
    return {
      stats: { lines: this.stats.lines, malformed: this.stats.malformed, skippedValues: this.stats.skippedValues },
      counters: new Map([...this.series].map(([k, s]) => [k, s.nextStep])),
    };
  }

  private restore(saved: ReturnType<JsonlIngestor['save']>): void {
    Object.assign(this.stats, saved.stats);
    for (const [k, s] of [...this.series]) {
      const c = saved.counters.get(k);
      if (c === undefined) this.series.delete(k);
      else { s.length = 0; s.nextStep = c; }
    }
  }

  /** Drops the step counters: they are read again from the store. */
  private forget(): void {
    this.series.clear();
    this.lastSteps = undefined;
  }

  /** Per-key step counters survive a reload: they continue from the stored last step. */
  private nextStepFromStore(key: string): number {
    if (!this.lastSteps) this.lastSteps = new Map(this.store.metrics.summaries(this.runId).map((s) => [s.key, s.lastStep]));
    const last = this.lastSteps.get(key);
    return last === undefined ? 0 : last + 1;
  }

  private problem(message: string): void {
    this.stats.problems.push(message);
  }
}
