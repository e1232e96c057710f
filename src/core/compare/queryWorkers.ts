/**
 * Compare's chart answers for many ended runs, off the editor's thread: the runs are split between a few
 * workers (the task worker's script in a 'query' role), each with its own connection to the store, and
 * their buckets come back packed in one transferred buffer. When a worker cannot start, cannot open the
 * store or stops, downsample() answers undefined and the caller asks the store itself.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type MessagePort, Worker } from 'node:worker_threads';
import { Store } from '../store/store.ts';
import type { DownsampleRequest, Downsampled } from '../store/metricRepository.ts';

type Ask = [runId: number, req: DownsampleRequest];

type ToQuery = { id: number; dir: string; key: string; asks: Ask[] };
type FromQuery =
  | { id: number; ok: true; lengths: Uint32Array; columns: Float64Array; counts: Uint32Array }
  | { id: number; ok: false; message: string };

/** Workers are ended after this long without a query (each holds a connection and its page cache). */
const IDLE_MS = 60_000;

export class QueryWorkers {
  private readonly script: string | undefined;
  private readonly size: number;
  private workers: Worker[] = [];
  private broken = false;
  private next = 1;
  private readonly waiting = new Map<number, (m: FromQuery | Error) => void>();
  private idle: NodeJS.Timeout | undefined;
  /** Why the workers are not used, once they failed. */
  failure: string | undefined;

  private readonly idleMs: number;

  /** `script`: the task worker's script (taskScript); undefined: never used. */
  constructor(script: string | URL | undefined, size = Math.min(2, availableParallelism()), idleMs = IDLE_MS) {
    this.script = script instanceof URL ? fileURLToPath(script) : script;
    this.size = Math.max(1, size);
    this.idleMs = idleMs;
  }

  /** store.metrics.downsampleMany(key, asks), split between the workers; undefined when they cannot answer. */
  async downsample(store: Store, key: string, asks: Ask[]): Promise<Downsampled[] | undefined> {
    const workers = this.start();
    if (!workers.length || !asks.length) return undefined;
    clearTimeout(this.idle);
    const per = Math.ceil(asks.length / workers.length);
    const parts = workers.map((w, i) => this.ask(w, { id: this.next++, dir: store.dir, key, asks: asks.slice(i * per, (i + 1) * per) }));
    let answers: Downsampled[][];
    try {
      answers = await Promise.all(parts);
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
      return undefined;
    } finally {
      this.armIdle();
    }
    return answers.flat();
  }

  /** Ends the workers; a query still waiting gets undefined (and the store answers it). */
  dispose(): void {
    clearTimeout(this.idle);
    for (const w of this.workers) void w.terminate();
    this.workers = [];
    for (const tell of [...this.waiting.values()]) tell(new Error('the query workers were ended'));
  }

  /** The workers end idleMs after the last answer, never while a query waits. */
  private armIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => (this.waiting.size ? this.armIdle() : this.dispose()), this.idleMs);
    this.idle.unref();
  }

  private ask(w: Worker, m: ToQuery): Promise<Downsampled[]> {
    if (!m.asks.length) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiting.set(m.id, (a) => {
        this.waiting.delete(m.id);
        if (a instanceof Error) reject(a);
        else if (!a.ok) reject(new Error(a.message));
        else resolve(unpack(a));
      });
      w.postMessage(m);
    });
  }

  private start(): Worker[] {
    if (this.broken || !this.script || this.workers.length) return this.workers;
    try {
      for (let i = 0; i < this.size; i++) {
        const w = new Worker(this.script, { name: 'runlens-query', workerData: { role: 'query' } });
        w.on('message', (m: FromQuery) => this.waiting.get(m.id)?.(m));
        w.on('error', (err) => this.fail(err.message));
        w.on('exit', (code) => { if (this.workers.includes(w)) this.fail(`a query worker exited with code ${code}`); });
        this.workers.push(w);
      }
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
    }
    return this.workers;
  }

  private fail(why: string): void {
    this.broken = true;
    this.failure ??= why;
    for (const tell of [...this.waiting.values()]) tell(new Error(why));
    this.dispose();
  }
}

/** The worker's side: answers each query from its own connection to the store the query names. */
export function serveQueries(port: MessagePort): void {
  let store: Store | undefined;
  port.on('message', (m: ToQuery) => {
    try {
      if (store?.dir !== m.dir) {
        store?.close();
        store = undefined;
        store = Store.open(m.dir, { alreadyOpen: true });
      }
      const packed = pack(store.metrics.downsampleMany(m.key, m.asks));
      port.postMessage({ id: m.id, ok: true, ...packed } satisfies FromQuery, [packed.lengths.buffer, packed.columns.buffer, packed.counts.buffer]);
    } catch (err) {
      port.postMessage({ id: m.id, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies FromQuery);
    }
  });
}

/** The answers in three fresh arrays: their bucket counts, the five float columns of each in turn, the counts. */
function pack(answers: Downsampled[]) {
  const lengths = Uint32Array.from(answers, (d) => d.x.length);
  let total = 0;
  for (const n of lengths) total += n;
  // not zeroed: every word is written below
  const columns = new Float64Array(Buffer.allocUnsafeSlow(40 * total).buffer, 0, 5 * total);
  const counts = new Uint32Array(Buffer.allocUnsafeSlow(4 * total).buffer, 0, total);
  let at = 0, c = 0;
  for (const d of answers) {
    for (const col of [d.xFirst, d.x, d.last, d.min, d.max]) { columns.set(col, at); at += col.length; }
    counts.set(d.count, c);
    c += d.count.length;
  }
  return { lengths, columns, counts };
}

function unpack(m: { lengths: Uint32Array; columns: Float64Array; counts: Uint32Array }): Downsampled[] {
  const out: Downsampled[] = [];
  let at = 0, c = 0;
  for (const n of m.lengths) {
    const col = () => { const a = m.columns.subarray(at, at + n); at += n; return a; };
    out.push({ xFirst: col(), x: col(), last: col(), min: col(), max: col(), count: m.counts.subarray(c, c + n) });
    c += n;
  }
  return out;
}
