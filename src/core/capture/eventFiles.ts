/** Reading TensorBoard event files a slice at a time, from a byte offset. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Columns } from '../store/chunks.ts';
import type { ParamValue } from '../types.ts';
import { FileShrank } from '../ingest/tail.ts';
import { EventDecoder } from './eventColumns.ts';

export const SLICE_BYTES = 8 << 20;

export const isEventFile = (name: string) => name.startsWith('events.out.tfevents.');

/** Folders whose name becomes a key prefix: Keras writes `logs/train` and `logs/validation`. */
const SPLIT_DIRS = new Set(['train', 'training', 'validation', 'valid', 'val', 'eval', 'evaluation', 'test']);

/**
 * The key prefix for the tags of an event file. A file in a folder named train, validation, val,
 * eval, test (and the like) gets `<folder>/`, so `logs/train/…` and `logs/validation/…` give
 * `train/epoch_loss` and `validation/epoch_loss`; any other file keeps its tags as they are.
 * The rule looks at the file alone, so a key never changes when more files appear later.
 */
export function tagPrefix(file: string): string {
  const folder = basename(dirname(file));
  return SPLIT_DIRS.has(folder.toLowerCase()) ? `${folder}/` : '';
}

/** Whether a folder holding event files is a split folder (its events belong to the parent's run). */
export const isSplitDir = (dir: string) => SPLIT_DIRS.has(basename(dir).toLowerCase());

export interface EventSlice {
  /** Points per key (tags with the prefix). */
  batch: [string, Columns][];
  /** The offset after the last whole record read. */
  end: number;
  problems: string[];
  /** The file's size when read. */
  size: number;
  /** A record's length checksum is wrong at `end`: nothing after it can be trusted. */
  broken: boolean;
  /** The wall time range of the points (ms); Infinity / -Infinity when none. */
  timeLo: number;
  timeHi: number;
  /** Hparams read from the hparams plugin's session start info. */
  params?: { [key: string]: ParamValue };
}

/**
 * Reads whole records from `offset`, about `maxBytes` of them (at least one record, however big).
 * A torn last record is left for the next read. Throws FileShrank when the file shrank below `offset`.
 */
export function readEventSlice(file: string, offset: number, decoder: EventDecoder, maxBytes = SLICE_BYTES, buffer?: Buffer): EventSlice {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < offset) throw new FileShrank(file, offset, size, `it shrank from ${offset} to ${size} bytes`);
    let want = Math.min(size - offset, Math.max(64, maxBytes));
    for (;;) {
      const buf = buffer && buffer.length >= want ? buffer.subarray(0, want) : Buffer.allocUnsafe(want);
      const n = readSync(fd, buf, 0, want, offset);
      const bytes = buf.subarray(0, n);
      const r = decoder.decode(bytes);
      const at = r.consumed;
      const rest = bytes.length - at;
      const broken = r.broken;
      if (at === 0 && !broken && rest >= 12 && n < size - offset) {
        // One record bigger than the slice: read exactly that record.
        const v = new DataView(bytes.buffer, bytes.byteOffset, 12);
        want = Math.min(size - offset, v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32 + 16);
        if (want > n) continue;
      }
      const problems = r.problems.map((p) => p.replace(/at byte (\d+)/, (_, b: string) => `at byte ${offset + Number(b)}`));
      return { batch: r.batch, end: offset + at, problems, size, broken, timeLo: r.timeLo, timeHi: r.timeHi, ...(r.params && { params: r.params }) };
    }
  } finally {
    closeSync(fd);
  }
}
