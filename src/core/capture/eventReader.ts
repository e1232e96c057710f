/**
 * Event file slices read and decoded one step ahead in a worker thread, so an import stores one slice
 * while the next is read (both cores busy). The worker is the task worker's script started with
 * workerData { role: 'events' }. Without a script, or when the worker cannot start or stops, the
 * slices are read on this thread from where the last one ended: the same slices either way.
 */
import { fileURLToPath } from 'node:url';
import { type MessagePort, Worker } from 'node:worker_threads';
import type { Columns } from '../store/chunks.ts';
import { FileShrank } from '../ingest/tail.ts';
import { EventDecoder } from './eventColumns.ts';
import { type EventSlice, SLICE_BYTES, readEventSlice } from './eventFiles.ts';

/** Slices the worker reads before this side has taken them. */
const AHEAD = 2;

type ToReader =
  | { type: 'read'; id: number; file: string; offset: number; prefix: string }
  | { type: 'more'; id: number }
  | { type: 'stop'; id: number };

type FromReader =
  | { type: 'slice'; id: number; slice: EventSlice }
  | { type: 'error'; id: number; message: string; shrank?: { offset: number; size: number } };

/** Whether a reading loop is over after this slice: no progress, or a broken length checksum. */
const last = (s: EventSlice, offset: number) => s.end === offset || s.broken;

export class EventReader {
  private readonly script: string | undefined;
  private worker: Worker | undefined;
  private broken = false;
  private next = 1;
  private readonly listeners = new Map<number, (m: FromReader | Error) => void>();
  /** Slices that came from the worker. */
  inWorker = 0;

  /** `script`: the task worker's script (taskScript); undefined reads on this thread. */
  constructor(script: string | URL | undefined) {
    this.script = script instanceof URL ? fileURLToPath(script) : script;
  }

  /**
   * The slices of `file` from `offset` (see readEventSlice), up to and with the one that ends the file
   * (no progress, or broken). `buffer` is lent to slices read on this thread: take each before the next.
   */
  async *slices(file: string, offset: number, prefix: string, size: number, buffer: Buffer): AsyncGenerator<EventSlice> {
    // a file of one slice gains nothing from the worker
    let worker = size - offset > SLICE_BYTES ? this.start() : undefined;
    const decoder = new EventDecoder(prefix, { lend: true });
    if (worker) { // the first slice here, while the worker starts
      const s = readEventSlice(file, offset, decoder, SLICE_BYTES, buffer);
      yield s;
      if (last(s, offset)) return;
      offset = s.end;
      worker = this.worker;
    }
    if (worker) {
      const id = this.next++;
      const queue: (FromReader | Error)[] = [];
      let wake: (() => void) | undefined;
      this.listeners.set(id, (m) => { queue.push(m); wake?.(); });
      worker.postMessage({ type: 'read', id, file, offset, prefix } satisfies ToReader);
      try {
        for (;;) {
          while (!queue.length) await new Promise<void>((resolve) => { wake = resolve; });
          wake = undefined;
          const m = queue.shift()!;
          if (m instanceof Error) break; // the worker stopped: on from `offset` on this thread
          if (m.type === 'error') throw m.shrank ? new FileShrank(file, m.shrank.offset, m.shrank.size, m.message) : new Error(m.message);
          this.inWorker++;
          yield m.slice;
          if (last(m.slice, offset)) return;
          offset = m.slice.end;
          worker.postMessage({ type: 'more', id } satisfies ToReader);
        }
      } finally {
        this.listeners.delete(id);
        if (!this.broken) worker.postMessage({ type: 'stop', id } satisfies ToReader);
      }
    }
    for (;;) {
      const s = readEventSlice(file, offset, decoder, SLICE_BYTES, buffer);
      yield s;
      if (last(s, offset)) return;
      offset = s.end;
    }
  }

  /** Ends the worker, if one started. */
  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private start(): Worker | undefined {
    if (this.worker || this.broken || !this.script) return this.worker;
    try {
      const w = new Worker(this.script, { name: 'runlens-events', workerData: { role: 'events' } });
      w.on('message', (m: FromReader) => this.listeners.get(m.id)?.(m));
      const stopped = (why: string) => {
        this.broken = true;
        this.worker = undefined;
        for (const tell of this.listeners.values()) tell(new Error(why));
      };
      w.on('error', (err) => stopped(err.message));
      w.on('exit', (code) => stopped(`exit ${code}`));
      this.worker = w;
    } catch {
      this.broken = true;
    }
    return this.worker;
  }
}

/** The worker's side: reads the slices of one file at a time, at most AHEAD before they are taken. */
export function serveEventReader(port: MessagePort): void {
  const buffer = Buffer.allocUnsafe(SLICE_BYTES);
  let job: { id: number; file: string; offset: number; decoder: EventDecoder; credit: number } | undefined;
  const post = (m: FromReader, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  port.on('message', (m: ToReader) => {
    if (m.type === 'read') job = { id: m.id, file: m.file, offset: m.offset, decoder: new EventDecoder(m.prefix), credit: AHEAD };
    else if (m.type === 'more' && job?.id === m.id) job.credit++;
    else if (m.type === 'stop' && job?.id === m.id) job = undefined;
    // read after this turn, so a 'stop' already queued is seen first
    setImmediate(pump);
  });
  function pump(): void {
    const j = job;
    if (!j || j.credit <= 0) return;
    try {
      const s = readEventSlice(j.file, j.offset, j.decoder, SLICE_BYTES, buffer);
      j.credit--;
      post({ type: 'slice', id: j.id, slice: s }, buffers(s.batch));
      if (last(s, j.offset)) job = undefined;
      else j.offset = s.end;
    } catch (err) {
      job = undefined;
      const shrank = err instanceof FileShrank ? { offset: err.offset, size: err.size } : undefined;
      post({ type: 'error', id: j.id, message: err instanceof Error ? err.message : String(err), ...(shrank && { shrank }) });
    }
    setImmediate(pump);
  }
}

/** The buffers of a batch's columns, each once (the decoder gives every column a buffer of its own). */
function buffers(batch: [string, Columns][]): ArrayBuffer[] {
  const set = new Set<ArrayBuffer>();
  for (const [, c] of batch) for (const a of [c.steps, c.times, c.values]) set.add(a.buffer as ArrayBuffer);
  return [...set];
}
