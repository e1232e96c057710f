// Data profiles: hashDataset on a large CSV with its profile taken from the same slices (HashOptions.profiles),
// against hashDataset alone on the same file, in turn in the same run. The profile counts rows over every
// byte and parses cells on an even sample (drift/profile.ts); the full parse rate is printed too, for what
// the sample saves. BENCH_SCALE=1: a 1 GB file; 0.2: about 200 MB.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { type ProfileSink, hashDataset } from '../../src/core/provenance/datasetHash.ts';
import { type TableProfile, profileFile } from '../../src/core/drift/profile.ts';
import type { Report } from './util.ts';
import { tempDir } from './util.ts';

const scale = Number(process.env.BENCH_SCALE ?? 1);
const FILE_MB = Math.max(8, Math.round(1024 * scale));
const FULL_MB = Math.min(FILE_MB, 64);

/** A training table: ids, floats, small ints, two text columns, some cells missing (about 60 bytes a row). */
async function writeCsv(file: string, mb: number): Promise<number> {
  const out = createWriteStream(file);
  out.write('id,age,income,score,ratio,clicks,city,device,label\n');
  const cities = ['paris', 'lyon', 'nice', 'lille', 'nantes', 'brest', 'metz', 'dijon'];
  const devices = ['ios', 'android', 'web'];
  let seed = 12345, bytes = 0, id = 0;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  while (bytes < mb << 20) {
    let s = '';
    for (let k = 0; k < 2000; k++, id++) {
      s += `${id},${18 + ((rnd() * 60) | 0)},${(rnd() * 1e5).toFixed(2)},${rnd() < 0.03 ? '' : (rnd() * 2 - 1).toFixed(5)},`
        + `${rnd().toFixed(4)},${(rnd() * 40) | 0},${cities[(rnd() * 8) | 0]},${devices[(rnd() * 3) | 0]},${rnd() < 0.2 ? 1 : 0}\n`;
    }
    bytes += s.length;
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
  return bytes + 51;
}

/** Hashes with a profile every time (a sink that keeps none, so none is ever found). */
async function hashAndProfile(file: string): Promise<void> {
  let profile: TableProfile | undefined;
  const sink: ProfileSink = { wanted: () => true, put: (_sha, p) => { profile = p; }, skipped: (_path, why) => { throw new Error(why); } };
  await hashDataset(file, { profiles: sink });
  if (!profile || profile.rows < 1) throw new Error('no profile');
}

async function bestAsync(times: number, fn: () => Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < times; i++) {
    const t = process.hrtime.bigint();
    await fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return min;
}

export async function benchProfile(report: Report): Promise<void> {
  const dir = tempDir();
  const file = join(dir, 'table.csv');
  const size = await writeCsv(file, FILE_MB);
  await hashDataset(file); // warm the page cache: both contenders measure work, not the disk
  const mb = size / 2 ** 20;

  let hashMs = Infinity, bothMs = Infinity;
  for (let round = 0; round < 3; round++) { // in turn, best of each: the machine may be shared
    hashMs = Math.min(hashMs, await bestAsync(1, () => hashDataset(file)));
    bothMs = Math.min(bothMs, await bestAsync(1, () => hashAndProfile(file)));
  }
  const profileMs = await bestAsync(2, () => profileFile(file));
  report(`hashDataset with profiles, a ${Math.round(mb)} MB CSV in one read`, bothMs / 1000, 's', [
    ['hashDataset alone (sha256)', hashMs / 1000],
  ], { higherIsBetter: false, target: '<= 2x hashing' });
  console.log(`  hash + profile / hash alone: ${(bothMs / hashMs).toFixed(2)}x`);
  console.log(`  profile alone (profileFile): ${(profileMs / 1000).toPrecision(3)} s, ${Math.round(mb / (profileMs / 1000))} MB/s`);

  // Every cell parsed (no sample), on at most 64 MB: what the sample saves.
  const head = join(dir, 'head.csv');
  const headSize = await writeCsv(head, FULL_MB);
  const fullMs = await bestAsync(2, () => profileFile(head, { sampleBytes: Infinity }));
  const headHashMs = await bestAsync(2, () => hashDataset(head));
  report(`profile every cell of a ${Math.round(headSize / 2 ** 20)} MB CSV (no sample)`, headSize / 2 ** 20 / (fullMs / 1000), 'MB/s',
    [['hashDataset on the same file', headSize / 2 ** 20 / (headHashMs / 1000)]], { higherIsBetter: true, target: 'reported' });
}
