/**
 * Live capture of other tools' log files while a run goes: TensorBoard event files, Lightning's
 * metrics.csv (and Keras CSVLogger files named explicitly), DVCLive .tsv plots and params.yaml,
 * and Hugging Face trainer_state.json.
 *
 * Each file is read from where the store says it stopped (source `capture:<path relative to the
 * first root>`); its points and the new position are committed in one transaction, so a reloaded
 * window resumes with nothing lost and nothing read twice. Positions are bytes, except for CSV
 * files, where they are data rows (Lightning rewrites the file whole when a column appears).
 * Files last changed before the run started belong to earlier runs: what they held then is skipped.
 *
 * Metric keys: TensorBoard tags as they are, prefixed with the folder name when the event file sits
 * in a folder named train, validation, val, eval or test (see tagPrefix); CSV column names; DVCLive
 * paths below plots/metrics (or scalars/) without .tsv; trainer_state.json's log_history keys. A key
 * logged by two kinds of file (a logger writing metrics.csv and an event file) is taken from the
 * kind that logged it first (see ownKeys).
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Store } from '../store/store.ts';
import type { Columns } from '../store/chunks.ts';
import type { ParamValue } from '../types.ts';
import { type TsvState, dvcLiveMetricKey, readDvcLiveParams, readDvcLiveTsv } from '../formats/dvclive.ts';
import { readHfTrainerState } from '../formats/hfTrainerState.ts';
import { FileShrank, tailLines } from '../ingest/tail.ts';
import { faultKind } from '../store/faults.ts';
import { type Keep, countPoints, filterBatch, groupPoints } from './columns.ts';
import { type CsvCursor, countCsvRows, readCsvTail } from './csvTail.ts';
import { type FoundLog, type LogKind, discover, firstLine } from './discover.ts';
import { SLICE_BYTES, readEventSlice, tagPrefix } from './eventFiles.ts';
import { EventDecoder } from './eventColumns.ts';

export interface CaptureStats {
  points: number;
  /** The files being followed, as named in their store source (`capture:` left out). */
  files: string[];
  /** What was skipped and why; each message once. */
  problems: string[];
}

export interface CaptureOptions {
  /** Least time between two searches for new files (default 2000 ms; a slow search waits longer; 0: every poll). */
  rescanMs?: number;
  now?: () => number;
  /** Called first inside every write transaction (the run monitor renews its lease there). */
  guard?: () => void;
}

interface Followed {
  path: string;
  kind: LogKind;
  source: string;
  /** Bytes read (data rows for CSV), as read. */
  offset: number;
  /** The position as stored: what the next commit moves from. */
  stored: number;
  prefix: string;
  key: string;
  cursor?: CsvCursor;
  /** A DVCLive .tsv's header, kept for the reads after its first line. */
  tsv?: TsvState;
  decoder?: EventDecoder;
  /** mtime and size when last read (trainer_state.json, params.yaml). */
  stamp?: string;
  /** Read again from the start after it shrank: keep only steps after the stored ones. */
  rewritten?: boolean;
  broken?: boolean;
  /** Bytes after the last whole record (an event file still being written). */
  torn: number;
  badColumns: Set<string>;
  /** Keys another kind of file owns, already said. */
  skipped: Set<string>;
}

/** The ingest_offsets row that marks `kind` as where `key`'s points come from (see ownKeys). */
const claimOf = (key: string, kind: LogKind) => `capture-key:${JSON.stringify([key, kind])}`;
const KIND_NAMES: Record<LogKind, string> = {
  tfevents: 'TensorBoard event files', csv: 'CSV logger files', dvclive: 'DVCLive .tsv files', hf: 'trainer_state.json files', dvcparams: 'DVCLive params',
};
const KINDS = Object.keys(KIND_NAMES) as LogKind[];

/** Files changed this long before the run started still count as the run's (coarse file times). */
const SLACK_MS = 2000;
const MAX_PROBLEMS = 100;

export class FileCapture {
  private readonly store: Store;
  private readonly runId: number;
  private readonly roots: string[];
  private readonly now: () => number;
  private readonly rescanMs: number;
  private readonly txGuard: () => void;
  private readonly files = new Map<string, Followed>();
  private readonly seenProblems = new Set<string>();
  /** The kind of file each key's points come from (see ownKeys). */
  private readonly owners = new Map<string, LogKind>();
  private last: Map<string, { step: number; value: number }> | undefined;
  private nextScan = -Infinity;
  private since: number | undefined;
  readonly stats: CaptureStats = { points: 0, files: [], problems: [] };

  /** `roots`: the run's working folder first, then the folders and files runlens.yaml names. */
  constructor(store: Store, runId: number, roots: string[], options: CaptureOptions = {}) {
    this.store = store;
    this.runId = runId;
    this.roots = roots.map((r) => resolve(r));
    this.now = options.now ?? Date.now;
    this.rescanMs = options.rescanMs ?? 2000;
    this.txGuard = options.guard ?? (() => {});
  }

  /**
   * Reads what is new, up to about `budget` bytes (the rest waits for the next call); searches for
   * new files at most every rescanMs. trainer_state.json is read whenever it changes. Returns the points added.
   */
  poll(budget = Infinity): number {
    const before = this.stats.points;
    if (this.now() >= this.nextScan) this.rescan();
    let left = budget;
    for (const f of this.files.values()) {
      if (left <= 0 && f.kind !== 'hf' && f.kind !== 'dvcparams') continue;
      left -= this.guard(f, () => this.read(f, left, false));
    }
    return this.stats.points - before;
  }

  /** After the run ended: searches once more and reads everything left. Returns the points added. */
  finish(): number {
    const before = this.stats.points;
    this.rescan();
    for (const f of this.files.values()) {
      this.guard(f, () => this.read(f, Infinity, true));
      if (f.torn > 0) this.problem(`${this.name(f)}: the last ${f.torn} bytes are an incomplete record; not read`);
    }
    return this.stats.points - before;
  }

  /** Searches the roots for log files now. */
  rescan(): void {
    const t = Date.now();
    const scan = discover(this.roots);
    if (scan.truncated) this.problem(`stopped searching ${this.roots[0]} for log files after 50,000 entries; name the log folder in runlens.yaml`);
    for (const found of scan.found) {
      if (!this.files.has(found.path)) this.guard(undefined, () => this.follow(found));
    }
    this.nextScan = this.now() + (this.rescanMs && Math.max(this.rescanMs, 20 * (Date.now() - t)));
  }

  private follow(found: FoundLog): void {
    const rel = relative(this.roots[0]!, found.path);
    const name = rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel) ? found.path : rel;
    const source = `capture:${name.split(sep).join('/')}`;
    const stored = this.store.offset(this.runId, source);
    const f: Followed = {
      path: found.path, kind: found.kind, source, offset: stored, stored, torn: 0, badColumns: new Set(), skipped: new Set(),
      prefix: found.kind === 'tfevents' ? tagPrefix(found.path) : '',
      key: found.kind === 'dvclive' ? dvcLiveMetricKey(found.path) ?? name : '',
    };
    const st = statSync(found.path);
    if (f.offset === 0 && st.mtimeMs < this.runStart() - SLACK_MS) {
      // Left by an earlier run (never read for this one): skip what it holds now, read what this run adds.
      if (f.kind === 'hf' || f.kind === 'dvcparams') f.stamp = `${st.mtimeMs}:${st.size}`;
      else {
        const baseline = f.kind === 'csv' ? countCsvRows(f.path) : st.size;
        if (baseline > 0) this.commit(f, [], baseline);
      }
    }
    this.files.set(found.path, f);
    this.stats.files.push(name.split(sep).join('/'));
  }

  /** Reads one file; returns the bytes it read. */
  private read(f: Followed, budget: number, all: boolean): number {
    if (f.broken) return 0;
    switch (f.kind) {
      case 'tfevents': return this.readEvents(f, budget);
      case 'csv': return this.readCsv(f);
      case 'dvclive': return this.readTsv(f, budget);
      case 'hf': return this.readTrainerState(f, all);
      case 'dvcparams': return this.readParams(f);
    }
  }

  private readEvents(f: Followed, budget: number): number {
    let used = 0;
    while (used < budget) {
      let slice;
      try {
        slice = readEventSlice(f.path, f.offset, f.decoder ??= new EventDecoder(f.prefix), Math.min(SLICE_BYTES, budget - used));
      } catch (err) {
        if (!(err instanceof FileShrank)) throw err;
        this.problem(`${this.name(f)} ${err.message}; read again from the start, keeping only steps after the stored ones`);
        this.restart(f);
        f.decoder = undefined;
        continue;
      }
      for (const p of slice.problems) this.problem(`${this.name(f)}: ${p}`);
      if (slice.broken) {
        this.problem(`${this.name(f)}: bad length checksum at byte ${slice.end}; the rest of the file is not read`);
        f.broken = true;
      }
      f.torn = slice.broken ? 0 : slice.size - slice.end;
      if (slice.end === f.offset) break;
      used += slice.end - f.offset;
      this.commit(f, f.rewritten ? filterBatch(slice.batch, this.afterStored()) : slice.batch, slice.end, slice.params && this.missing(slice.params));
      if (slice.broken || slice.end >= slice.size) break;
    }
    return used;
  }

  private readCsv(f: Followed): number {
    const t = readCsvTail(f.path, f.cursor, f.offset, this.now(), f.badColumns);
    for (const p of t.problems) this.problem(`${this.name(f)}: ${p}`);
    f.cursor = t.cursor;
    const rows = Math.max(f.offset, t.cursor?.rows ?? 0);
    if (rows !== f.offset || t.points.length) this.commit(f, groupPoints(t.points, undefined, this.notRepeated()), rows);
    return t.bytesRead;
  }

  private readTsv(f: Followed, budget: number): number {
    let used = 0;
    if (!f.tsv) {
      f.tsv = {};
      if (f.offset > 0) readDvcLiveTsv(f.key, `${firstLine(f.path)}\n`, f.tsv); // resumed past the header: read it
    }
    const tail = (from: number) => tailLines(f.path, from, (text, end) => {
      const r = readDvcLiveTsv(f.key, text, f.tsv, this.now());
      for (const p of r.problems) this.problem(`${this.name(f)}: ${p}`);
      used += end - f.offset;
      this.commit(f, groupPoints(r.points, undefined, f.rewritten ? this.afterStored() : undefined), end);
    }, budget);
    try {
      tail(f.offset);
    } catch (err) {
      if (!(err instanceof FileShrank)) throw err;
      this.problem(`${this.name(f)} shrank; read again from the start, keeping only steps after the stored ones`);
      this.restart(f);
      tail(0);
    }
    return used;
  }

  /** trainer_state.json is rewritten whole: read when it changed, keeping steps after the stored ones. */
  private readTrainerState(f: Followed, all: boolean): number {
    const st = statSync(f.path);
    const stamp = `${st.mtimeMs}:${st.size}`;
    if (stamp === f.stamp && !all) return 0;
    f.stamp = stamp;
    const text = readFileSync(f.path, 'utf8');
    const r = readHfTrainerState(text, st.mtimeMs);
    if (r.consumed === 0) {
      if (all) for (const p of r.problems) this.problem(`${this.name(f)}: ${p}`);
      else f.stamp = undefined; // perhaps half-written: try again next time
      return text.length;
    }
    for (const p of r.problems) this.problem(`${this.name(f)}: ${p}`);
    this.commit(f, groupPoints(r.points, undefined, this.afterStored()), st.size, this.missing(r.params ?? {}));
    return text.length;
  }

  private readParams(f: Followed): number {
    const st = statSync(f.path);
    const stamp = `${st.mtimeMs}:${st.size}`;
    if (stamp === f.stamp) return 0;
    f.stamp = stamp;
    const r = readDvcLiveParams(readFileSync(f.path, 'utf8'));
    for (const p of r.problems) this.problem(`${this.name(f)}: ${p}`);
    this.commit(f, [], st.size, this.missing(r.params));
    return st.size;
  }

  /**
   * A file that shrank is read again from the start. The stored position stays until something is
   * read, so a reload in between sees the shrink again (and filters again).
   */
  private restart(f: Followed): void {
    f.offset = 0;
    f.rewritten = true;
  }

  /** Points (of the keys this file owns), params and the new position, in one transaction. */
  private commit(f: Followed, all: [string, Columns][], offset: number, params?: { [k: string]: ParamValue }): void {
    const hasParams = params !== undefined && Object.keys(params).length > 0;
    let batch = all, claimed: string[] = [];
    this.store.transaction(() => {
      this.txGuard();
      this.store.moveOffset(this.runId, f.source, f.stored, offset);
      if (all.length) ({ batch, claimed } = this.ownKeys(f, all));
      if (batch.length) this.store.metrics.appendMany(this.runId, batch);
      if (hasParams) this.store.runs.setParams(this.runId, params);
    });
    for (const key of claimed) this.owners.set(key, f.kind);
    f.offset = f.stored = offset;
    const last = this.lastPoints();
    for (const [key, c] of batch) {
      const n = c.values.length;
      if (n) last.set(key, { step: c.steps[n - 1]!, value: c.values[n - 1]! });
    }
    this.stats.points += countPoints(batch);
  }

  /**
   * One format per key per run: a key's points come from the first kind of file that logged it (a
   * logger writing one key to metrics.csv and to an event file would double every point). Files of
   * the same kind go on as before (a restart's new event file, a checkpoint's trainer_state.json).
   * The claim is stored with the points, so it holds after a reload. Returns the batch without the
   * keys another kind owns.
   */
  private ownKeys(f: Followed, batch: [string, Columns][]): { batch: [string, Columns][]; claimed: string[] } {
    const claimed: string[] = [], skipped = new Map<LogKind, string[]>(); // owner -> keys said now
    const kept = batch.filter(([key]) => {
      let owner = this.owners.get(key);
      if (owner === undefined) {
        owner = KINDS.find((k) => this.store.offset(this.runId, claimOf(key, k)) > 0);
        if (owner === undefined) {
          this.store.setOffset(this.runId, claimOf(key, f.kind), 1);
          claimed.push(key);
          return true;
        }
        this.owners.set(key, owner);
      }
      if (owner === f.kind) return true;
      if (!f.skipped.has(key)) {
        f.skipped.add(key);
        skipped.set(owner, [...skipped.get(owner) ?? [], key]);
      }
      return false;
    });
    for (const [owner, keys] of skipped) {
      const one = keys.length === 1;
      this.problem(`${this.name(f)}: ${keys.join(', ')} ${one ? 'is' : 'are'} taken from the ${KIND_NAMES[owner]}, which logged ${one ? 'it' : 'them'} first; skipped here (one source per key)`);
    }
    return { batch: kept, claimed };
  }

  /** Keeps points whose step is after the key's last stored step. */
  private afterStored(): Keep {
    const last = this.lastPoints();
    return (key, step) => {
      const l = last.get(key);
      return l === undefined || step > l.step;
    };
  }

  /** Drops a value repeated at the same step (Lightning repeats `epoch` in every row). */
  private notRepeated(): Keep {
    const seen = new Map(this.lastPoints());
    return (key, step, value) => {
      const l = seen.get(key);
      if (l && l.step === step && Object.is(l.value, value)) return false;
      seen.set(key, { step, value });
      return true;
    };
  }

  /** Params the run does not have yet (what the run was launched with wins). */
  private missing(params: { [k: string]: ParamValue }): { [k: string]: ParamValue } {
    const have = this.store.runs.params(this.runId);
    return Object.fromEntries(Object.entries(params).filter(([k]) => !(k in have)));
  }

  private lastPoints(): Map<string, { step: number; value: number }> {
    this.last ??= new Map(this.store.metrics.summaries(this.runId).map((s) => [s.key, { step: s.lastStep, value: s.last }]));
    return this.last;
  }

  private runStart(): number {
    if (this.since === undefined) {
      const run = this.store.runs.get(this.runId);
      this.since = run?.startedAt ?? run?.createdAt ?? 0;
    }
    return this.since;
  }

  /** Runs fn, turning an error into a problem; returns fn's result or 0. */
  private guard(f: Followed | undefined, fn: () => number | void): number {
    try {
      return fn() ?? 0;
    } catch (err) {
      if (faultKind(err)) throw err; // the store's condition, not the file's: the monitor rolls back and waits
      if (f && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.files.delete(f.path); // deleted: found again if it comes back
        this.stats.files = this.stats.files.filter((s) => `capture:${s}` !== f.source);
        return 0;
      }
      this.problem(`${f ? this.name(f) : 'searching for log files'}: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
  }

  private name(f: Followed): string {
    return f.source.slice('capture:'.length);
  }

  private problem(message: string): void {
    if (this.seenProblems.has(message) || this.stats.problems.length >= MAX_PROBLEMS) return;
    this.seenProblems.add(message);
    this.stats.problems.push(message);
  }
}
