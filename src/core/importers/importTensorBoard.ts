/**
 * A TensorBoard log folder into the store: one run per folder holding event files, named by its
 * path below the log folder, in experiment "tensorboard". A train/validation/eval/test folder is
 * part of its parent's run, its tags prefixed with the folder name (see tagPrefix). Params come from
 * a Lightning hparams.yaml and the hparams plugin's records; a folder with neither scalars nor
 * hparams (graphs, histograms, images only) is left out and reported.
 * Files are read a slice at a time; each slice's points are committed with the file's new position,
 * so importing again reads only what the files gained since (nothing, when they are unchanged).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Store } from '../store/store.ts';
import type { Columns } from '../store/chunks.ts';
import type { ParamValue, Run } from '../types.ts';
import { readDvcLiveParams } from '../formats/dvclive.ts';
import { countPoints } from '../capture/columns.ts';
import { EventReader } from '../capture/eventReader.ts';
import { discover } from '../capture/discover.ts';
import { SLICE_BYTES, isSplitDir, tagPrefix } from '../capture/eventFiles.ts';
import { FileShrank } from '../ingest/tail.ts';
import { ORIGIN_TAG } from './importMlflow.ts';
import { type ImportOptions, type ImportReport, breathe, emptyReport } from './report.ts';

export const TENSORBOARD_EXPERIMENT = 'tensorboard';

/** The run folders under `dir` and their event files, in name order. */
export function tensorBoardRuns(dir: string): { runs: Map<string, string[]>; truncated: boolean } {
  const root = resolve(dir);
  const scan = discover([root]);
  const runs = new Map<string, string[]>();
  for (const f of scan.found) {
    if (f.kind !== 'tfevents') continue;
    const folder = dirname(f.path);
    const runDir = folder !== root && isSplitDir(folder) ? dirname(folder) : folder;
    let files = runs.get(runDir);
    if (!files) runs.set(runDir, (files = []));
    files.push(f.path);
  }
  return { runs: new Map([...runs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), truncated: scan.truncated };
}

export async function importTensorBoard(store: Store, dir: string, options: ImportOptions = {}): Promise<ImportReport> {
  const reader = new EventReader(options.script);
  try {
    return await importFrom(store, dir, reader, options);
  } finally {
    reader.close();
  }
}

async function importFrom(store: Store, dir: string, reader: EventReader, options: ImportOptions): Promise<ImportReport> {
  const report = emptyReport();
  const root = resolve(dir);
  const { runs, truncated } = tensorBoardRuns(root);
  if (truncated) report.skipped.push({ what: root, why: 'it holds too many entries; the search stopped after 50,000 (import a smaller folder)' });
  if (!runs.size) report.skipped.push({ what: root, why: 'no TensorBoard event files (events.out.tfevents.*) in it' });
  const buffer = Buffer.allocUnsafe(SLICE_BYTES);
  let done = 0;
  for (const [runDir, files] of runs) {
    if (options.signal?.aborted) { report.cancelled = true; return report; }
    const origin = `tensorboard:${runDir}`;
    let run = store.runs.getByOrigin(origin);
    const isNew = !run;
    const yaml = isNew ? hparams(runDir, report) : {};
    /** Positions read so far that have no run to be stored with yet. */
    const pending = new Map<string, number>();
    /** A new run is created with its first points or hparams: a folder of images or histograms alone is no run. */
    const save = (batch: [string, Columns][], params: { [k: string]: ParamValue } | undefined, source: string, end: number) => {
      pending.set(source, end);
      if (!run && !batch.length && !params) return;
      store.transaction(() => {
        if (!run) report.runs++;
        run ??= store.runs.create({
          name: relative(root, runDir).split(sep).join('/') || basename(root), experiment: TENSORBOARD_EXPERIMENT,
          status: 'finished', origin, tags: { [ORIGIN_TAG]: origin }, params: { ...yaml, ...params },
        });
        if (params) store.runs.setParams(run.id, { ...params, ...store.runs.params(run.id) }); // the params stored first win
        store.metrics.appendMany(run.id, batch);
        for (const [src, at] of pending) store.setOffset(run.id, src, at);
      });
      pending.clear();
    };
    let lo = run?.startedAt ?? Infinity, hi = run?.endedAt ?? -Infinity, added = 0;
    for (const file of files) {
      const source = `import:${relative(runDir, file).split(sep).join('/')}`;
      let offset = run ? store.offset(run.id, source) : 0;
      // each slice is stored before the next is taken (those read on this thread lend `buffer`)
      const slices = reader.slices(file, offset, tagPrefix(file), fileSize(file), buffer);
      for (;;) {
        let slice;
        try {
          const next = await slices.next();
          if (next.done) break;
          slice = next.value;
        } catch (err) {
          const why = (err as Error).message;
          report.skipped.push({ what: file, why: err instanceof FileShrank ? `${why} since it was imported; not read again` : why });
          break;
        }
        for (const p of slice.problems) report.skipped.push({ what: file, why: p });
        if (slice.broken) report.skipped.push({ what: file, why: `bad length checksum at byte ${slice.end}; the rest of the file is not read` });
        if (slice.end === offset) {
          if (!slice.broken && slice.size > slice.end) report.skipped.push({ what: file, why: `the last ${slice.size - slice.end} bytes are an incomplete record` });
          break;
        }
        save(slice.batch, slice.params, source, slice.end);
        lo = Math.min(lo, slice.timeLo);
        hi = Math.max(hi, slice.timeHi);
        added += countPoints(slice.batch);
        offset = slice.end;
        if (slice.broken) break;
        await breathe();
        if (options.signal?.aborted) { report.cancelled = true; report.points += added; await slices.return(undefined); return report; }
      }
      await slices.return(undefined);
    }
    options.onProgress?.(++done, runs.size);
    const got = run as Run | undefined;
    if (got) {
      if (pending.size) store.transaction(() => { for (const [src, at] of pending) store.setOffset(got.id, src, at); });
      if (added > 0 && lo <= hi) store.runs.update(got.id, { startedAt: lo, endedAt: hi });
      report.points += added;
      if (!isNew) report[added > 0 ? 'updated' : 'unchanged']++;
    } else {
      report.skipped.push({ what: runDir, why: 'its event files hold no scalars and no hparams (only graphs, histograms, images or other plugins); not imported' });
    }
    await breathe();
  }
  return report;
}

/** Lightning's hparams.yaml next to the event files, as params (nested keys joined with dots). */
function hparams(runDir: string, report: ImportReport): { [k: string]: ParamValue } {
  const file = join(runDir, 'hparams.yaml');
  if (!existsSync(file)) return {};
  const r = readDvcLiveParams(readFileSync(file, 'utf8'));
  for (const p of r.problems) report.skipped.push({ what: file, why: p });
  return r.params;
}

/** The size of a file, or 0 when it cannot be read now (reading it then says why). */
function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
