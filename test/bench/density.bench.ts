// Store density: bytes per point on disk for real curve shapes, compressed chunks against the layout
// before them (raw float64 chunks of 256 points) written in the same run. Then the choices behind the
// format: the codecs, per shape, and the chunk size.
import Database from 'better-sqlite3';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { join } from 'node:path';
import { Store } from '../../src/core/store/store.ts';
import { type ChunkLayout, type Columns, RAW_LAYOUT, compressedLayout, pack, slice, unpack } from '../../src/core/store/chunks.ts';
import { Writer } from '../../src/core/store/codecBits.ts';
import { writeXor } from '../../src/core/store/codecXor.ts';
import { SHAPES, SHAPE_LABELS, shape } from './shapes.ts';
import { type Report, tempDir } from './util.ts';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const POINTS = Math.round(1_000_000 * scale);
const APPEND = 2000; // points an append: what the Python helper writes a line
const PAGE = 8192; // new stores' page size (database.ts)

interface Size { metric: number; file: number; points: number }

/** Writes the series into a new store in `layout`; bytes per point after VACUUM: of the metric tables' pages, and of runs.db. */
export function storeBytes(series: [string, Columns][], layout?: ChunkLayout): Size {
  const dir = tempDir();
  const store = Store.open(dir);
  if (layout) store.metrics.layout = layout;
  const run = store.runs.create({ name: 'density' });
  let points = 0;
  for (const [key, c] of series) {
    for (let i = 0; i < c.values.length; i += APPEND) store.metrics.append(run.id, key, slice(c, i, Math.min(c.values.length, i + APPEND)));
    points += c.values.length;
  }
  store.close();
  const db = new Database(join(dir, 'runs.db'));
  db.exec('VACUUM');
  const metric = db.prepare("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'metric%'").pluck().get() as number;
  const file = (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  db.close();
  return { metric: metric / points, file: file / points, points };
}

/** One realistic run: loss, learning rate and tokens every step, an eval metric every 500 steps, GPU use every second (~20 steps). */
function mixedRun(steps: number): [string, Columns][] {
  return [
    ['train/loss', shape('noisy', steps, 11)], ['lr', shape('smooth', steps, 12)], ['tokens', shape('counter', steps, 13)],
    ['val/acc', shape('sparse', Math.round(steps / 500), 14)], ['gpu/util', shape('wallclock', Math.round(steps / 20), 15)],
  ];
}

const fmt = (v: number) => v.toFixed(2).padStart(6);

export function benchDensity(report: Report): void {
  const data = Object.fromEntries(SHAPES.map((s, i) => [s, shape(s, POINTS, i + 1)]));
  for (const s of SHAPES) {
    const ours = storeBytes([[s, data[s]!]]);
    const before = storeBytes([[s, data[s]!]], RAW_LAYOUT);
    report(`bytes per point on disk, ${SHAPE_LABELS[s]}, ${POINTS.toLocaleString('en')} points`, ours.metric, 'bytes', [
      ['the layout before (raw float64 chunks), same points', before.metric],
      ['raw float64 step + time + value', 24],
    ], { higherIsBetter: false, target: s === 'noisy' ? '<= 6' : undefined });
    console.log(`  whole runs.db after VACUUM: ${ours.file.toFixed(2)} bytes a point (before: ${before.file.toFixed(2)}), with an empty store's ${(ours.file - ours.metric).toFixed(2)}`);
  }
  const mix = mixedRun(POINTS);
  const ours = storeBytes(mix);
  const before = storeBytes(mix, RAW_LAYOUT);
  report(`bytes per point on disk, the mix: one run of ${POINTS.toLocaleString('en')} steps (loss, lr, tokens a step, eval every 500, GPU use a second; ${ours.points.toLocaleString('en')} points)`,
    ours.metric, 'bytes', [['the layout before, same points', before.metric], ['raw float64 step + time + value', 24]],
    { higherIsBetter: false, target: '<= 4' });
  console.log(`  whole runs.db after VACUUM: ${ours.file.toFixed(2)} bytes a point (before: ${before.file.toFixed(2)})`);

  codecTable(data);
  chunkTable(data);
}

/** The codecs per shape, on chunk blobs alone: ours against Gorilla XOR on every column and byte-shuffle + deflate. */
function codecTable(data: Record<string, Columns>): void {
  const n = Math.min(POINTS, 300_000), size = 512;
  console.log(`\nCodecs, bytes a point in chunk blobs of ${size} points (${n.toLocaleString('en')} points a shape; encode / decode in M points/s of CPU time, best of 3):`);
  console.log(`  ${'shape'.padEnd(10)} ${'ours'.padStart(6)} ${'XOR'.padStart(6)} ${'deflate'.padStart(7)}   ours enc/dec   deflate enc/dec`);
  for (const s of SHAPES) {
    const c = data[s]!;
    const chunks: Columns[] = [];
    for (let i = 0; i < n; i += size) chunks.push(slice(c, i, Math.min(n, i + size)));
    let ours = 0, xor = 0, deflate = 0;
    let blobs: Buffer[] = [], zipped: Buffer[] = [];
    const oursEnc = cpuBest(() => { blobs = chunks.map((ch) => pack(ch)); });
    const oursDec = cpuBest(() => { for (const b of blobs) unpack(b); });
    const zipEnc = cpuBest(() => { zipped = chunks.map((ch) => deflateRawSync(shuffle(ch))); });
    const zipDec = cpuBest(() => { for (const z of zipped) inflateRawSync(z); });
    for (const b of blobs) ours += b.length;
    for (const z of zipped) deflate += z.length;
    for (const ch of chunks) {
      const w = new Writer();
      for (const col of [ch.steps, ch.times, ch.values]) {
        writeXor(w, new Uint32Array(col.buffer, col.byteOffset, 2 * col.length), col.length);
        w.endBits();
      }
      xor += w.at;
    }
    const rate = (ms: number) => (n / ms / 1000).toFixed(1).padStart(5);
    console.log(`  ${s.padEnd(10)} ${fmt(ours / n)} ${fmt(xor / n)} ${fmt(deflate / n).padStart(7)}   ${rate(oursEnc)} / ${rate(oursDec)}   ${rate(zipEnc)} / ${rate(zipDec)}`);
  }
}

/** The least CPU time of three rounds, in ms: steadier than the wall clock on a shared machine. */
function cpuBest(fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = process.cpuUsage();
    fn();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

/** Each float64 of the chunk as 8 byte planes (all first bytes, then all second bytes...): what compresses best with deflate. */
function shuffle(c: Columns): Buffer {
  const n = c.values.length, out = Buffer.alloc(24 * n);
  let at = 0;
  for (const col of [c.steps, c.times, c.values]) {
    const bytes = new Uint8Array(col.buffer, col.byteOffset, 8 * n);
    for (let b = 0; b < 8; b++) for (let i = 0; i < n; i++) out[at++] = bytes[8 * i + b]!;
  }
  return out;
}

/** Chunk sizes: bytes a point in the store (metric pages after VACUUM) for the most points a chunk, with and without the cap on its bytes. */
function chunkTable(data: Record<string, Columns>): void {
  const n = Math.min(POINTS, 300_000);
  const capped = compressedLayout(PAGE).maxBytes;
  const layouts: [string, ChunkLayout][] = [
    ['256, no byte cap', { pack, maxPoints: 256, maxBytes: Infinity }],
    ...[256, 512, 768, 1024].map((m): [string, ChunkLayout] => [`${m}, <= ${capped} bytes`, { pack, maxPoints: m, maxBytes: capped }]),
  ];
  console.log(`\nChunk sizes, bytes a point in the store (${n.toLocaleString('en')} points a shape):`);
  console.log(`  ${'most points a chunk'.padEnd(22)} ${SHAPES.map((s) => s.padStart(9)).join(' ')}      mean`);
  for (const [label, layout] of layouts) {
    const sizes = SHAPES.map((s) => storeBytes([[s, slice(data[s]!, 0, n)]], layout).metric);
    console.log(`  ${label.padEnd(22)} ${sizes.map((v) => fmt(v).padStart(9)).join(' ')}   ${fmt(sizes.reduce((a, b) => a + b, 0) / sizes.length)}`);
  }
}
