/**
 * The Compare model, kept per run so a live update reads again only the runs it is told to look at,
 * and answers with what changed in them (a ModelDelta) instead of the whole model.
 */
import { changedDataFiles, dataFileName, datasetDiff } from '../models/lineage.ts';
import { driftLevel, memoProfiles } from '../drift/fileDrift.ts';
import type { Packages } from '../provenance/packages.ts';
import type { Store } from '../store/store.ts';
import type { MetricSummary, ParamValue, Run } from '../types.ts';
import { compareRun, primaryMetric } from './compareData.ts';
import { packagesTable } from './packagesTable.ts';
import { NO_PACKAGES } from './packageRows.ts';
import {
  type CompareModel, type CompareRun, type DataFileDrift, type Goal, type MetricCell, type ModelDelta, type PackagesTable, type PrimaryMetric,
  type ProvenanceRow, type RunDelta, finiteOrNull,
} from './protocol.ts';

interface RunPart {
  run: Run;
  compare: CompareRun;
  /** What of the run row the model shows, to tell whether it changed. */
  rowSig: string;
  summaries: Map<string, MetricSummary>;
  params: Record<string, ParamValue>;
  paramsSig: string;
  bestStep: number | null;
  atBest: Map<string, number | null>;
  /** bestStep and atBest are still to be read (fillBest). */
  bestPending: boolean;
  provenance: ProvenanceRow;
  /** The hash of the run's package set; null: none recorded. */
  packages: string | null;
}

/** What a refresh looks at. */
export interface Look {
  /** Read these runs' rows again (status, name, times, git), and their params and provenance when the row changed. */
  rows: readonly number[];
  /** Read these runs' metric summaries, params and provenance again (the live ones). */
  live: readonly number[];
  /** Read these runs' metric summaries again. */
  metrics: readonly number[];
}

/** The runs, params, metric summaries and provenance the panel's tables show. */
export function buildModel(store: Store, runs: Run[], configured?: { name: string; goal: Goal }): CompareModel {
  const cache = new ModelCache();
  cache.build(store, runs, configured);
  cache.fillBest(store);
  return cache.model();
}

const sorted = (keys: Iterable<string>) => [...keys].sort((a, b) => a.localeCompare(b));
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((k, i) => k === b[i]);

export class ModelCache {
  private parts: RunPart[] = [];
  private byId = new Map<number, RunPart>();
  private keys: string[] = [];
  private paramKeys: string[] = [];
  private primary: PrimaryMetric | null = null;
  private configured: { name: string; goal: Goal } | undefined;
  /** The package sets of the runs, by hash, each read once. */
  private sets = new Map<string, Packages>();
  private packages: PackagesTable = NO_PACKAGES;

  /**
   * Reads every run and returns the whole model, without the values at the best step: they take a
   * chunk read per run and key, so fillBest reads them afterwards, a slice at a time.
   */
  build(store: Store, runs: Run[], configured?: { name: string; goal: Goal }): CompareModel {
    this.configured = configured;
    this.parts = runs.map((run) => ({
      run, compare: compareRun(run), rowSig: rowSig(run), summaries: summariesOf(store, run.id),
      params: {}, paramsSig: '', bestStep: null, atBest: new Map(), bestPending: true, provenance: provenanceOf(store, run),
      packages: store.packages.hash(run.id) ?? null,
    }));
    this.byId = new Map(this.parts.map((p) => [p.run.id, p]));
    for (const p of this.parts) {
      p.params = store.runs.params(p.run.id);
      p.paramsSig = JSON.stringify(p.params);
    }
    this.keys = sorted(new Set(this.parts.flatMap((p) => [...p.summaries.keys()])));
    this.paramKeys = sorted(new Set(this.parts.flatMap((p) => Object.keys(p.params))));
    this.primary = primaryMetric(this.keys, configured);
    markChangedDataFiles(store, this.parts);
    this.packages = this.packagesTable(store);
    return this.model();
  }

  /** The runs' package sets for the wire; a set not read yet is read from the first run that has it. */
  private packagesTable(store: Store): PackagesTable {
    const sets = new Map<string, Packages>();
    for (const p of this.parts) {
      if (p.packages === null || sets.has(p.packages)) continue;
      const set = this.sets.get(p.packages) ?? store.packages.get(p.run.id);
      if (set) sets.set(p.packages, set);
      else p.packages = null; // gone since the hash was read
    }
    this.sets = sets;
    return packagesTable(this.parts.map((p) => p.packages), sets);
  }

  /** True while some runs' best step and values there are still to be read. */
  get bestPending(): boolean {
    return this.parts.some((p) => p.bestPending);
  }

  /** Reads the best step and the values there for runs still without them, until `budgetMs` is spent. */
  fillBest(store: Store, budgetMs = Infinity): ModelDelta | null {
    const end = performance.now() + budgetMs;
    const runs: RunDelta[] = [];
    for (const p of this.parts) {
      if (!p.bestPending) continue;
      p.bestPending = false;
      p.bestStep = bestStepOf(store, p, this.primary);
      const metrics = [...p.summaries.keys()].map((key) => {
        const value = atBestOf(store, p, key);
        p.atBest.set(key, value);
        return metricCell(key, p.summaries.get(key), value);
      });
      if (p.bestStep !== null) runs.push({ id: p.run.id, bestStep: p.bestStep, metrics });
      if (performance.now() > end) break;
    }
    return runs.length ? { runs } : null;
  }

  /** The runs going now (their points and summaries change). */
  liveRuns(): number[] {
    return this.parts.filter((p) => p.run.status === 'running').map((p) => p.run.id);
  }

  /** The model as it stands. */
  model(): CompareModel {
    const parts = this.parts;
    const cell = <T>(key: string, f: (s: MetricSummary) => T, none: T) => parts.map((p) => {
      const s = p.summaries.get(key);
      return s ? f(s) : none;
    });
    return {
      runs: parts.map((p) => p.compare),
      keys: [...this.keys],
      primary: this.primary,
      bestStep: parts.map((p) => p.bestStep),
      params: this.paramKeys.map((key) => ({ key, values: parts.map((p) => (Object.hasOwn(p.params, key) ? p.params[key]! : null)) })),
      metrics: this.keys.map((key) => ({
        key,
        last: cell(key, (s) => finiteOrNull(s.last), null),
        min: cell(key, (s) => finiteOrNull(s.min), null),
        max: cell(key, (s) => finiteOrNull(s.max), null),
        atBest: parts.map((p) => p.atBest.get(key) ?? null),
        count: cell(key, (s) => s.count, 0),
      })),
      provenance: parts.map((p) => p.provenance),
      packages: this.packages,
    };
  }

  /**
   * Reads again what `look` names and returns what changed (null: nothing), or 'rebuild' when the
   * model must be sent whole: a run is gone, or the primary metric changed.
   */
  refresh(store: Store, look: Look, configured?: { name: string; goal: Goal }): ModelDelta | 'rebuild' | null {
    if (JSON.stringify(configured) !== JSON.stringify(this.configured)) return 'rebuild';
    const deltas = new Map<number, RunDelta>();
    const delta = (p: RunPart) => {
      let d = deltas.get(p.run.id);
      if (!d) deltas.set(p.run.id, (d = { id: p.run.id }));
      return d;
    };
    const reread = new Set<RunPart>();

    for (const id of look.rows) {
      const p = this.byId.get(id);
      if (!p) continue;
      const run = store.runs.get(id);
      if (!run) return 'rebuild';
      const sig = rowSig(run);
      if (sig === p.rowSig) continue;
      p.run = run;
      p.rowSig = sig;
      p.compare = compareRun(run);
      delta(p).run = p.compare;
      reread.add(p);
    }
    for (const id of look.live) {
      const p = this.byId.get(id);
      if (p) reread.add(p);
    }
    // params of the runs whose row changed, and of the live ones
    for (const p of reread) {
      const params = store.runs.params(p.run.id);
      const paramsSig = JSON.stringify(params);
      if (paramsSig === p.paramsSig) continue;
      p.params = params;
      p.paramsSig = paramsSig;
      delta(p).params = params;
    }

    const changedKeys = new Map<RunPart, string[]>();
    for (const id of new Set([...look.metrics, ...look.live, ...[...reread].map((p) => p.run.id)])) {
      const p = this.byId.get(id);
      if (!p) continue;
      const now = summariesOf(store, id);
      const changed = [...new Set([...now.keys(), ...p.summaries.keys()])].filter((k) => !sameSummary(now.get(k), p.summaries.get(k)));
      if (!changed.length) continue;
      p.summaries = now;
      changedKeys.set(p, changed);
    }

    const keys = sorted(new Set(this.parts.flatMap((p) => [...p.summaries.keys()])));
    const keysChanged = !sameList(keys, this.keys);
    if (keysChanged) {
      const primary = primaryMetric(keys, configured);
      if (JSON.stringify(primary) !== JSON.stringify(this.primary)) return 'rebuild';
      this.keys = keys;
    }
    for (const [p, changed] of changedKeys) {
      const d = delta(p);
      let refill = changed;
      if (this.primary && !p.bestPending && changed.includes(this.primary.key)) {
        const step = bestStepOf(store, p, this.primary);
        if (step !== p.bestStep) {
          p.bestStep = step;
          d.bestStep = step;
          refill = [...new Set([...p.summaries.keys(), ...changed])];
        }
      }
      d.metrics = refill.map((key) => {
        const value = atBestOf(store, p, key);
        if (p.summaries.has(key)) p.atBest.set(key, value);
        else p.atBest.delete(key);
        return metricCell(key, p.summaries.get(key), value);
      });
    }
    // provenance of the same runs; a running run's duration grows with the clock, and is sent along with its other changes
    let datasetsChanged = false;
    for (const p of reread) {
      const prov = provenanceOf(store, p.run);
      const digests = (x: ProvenanceRow) => JSON.stringify(x.datasets.map((d) => [d.path, d.digest]));
      if (digests(prov) !== digests(p.provenance)) datasetsChanged = true;
      else prov.datasets = p.provenance.datasets; // keeps the files marked changed
      if (deltas.has(p.run.id) || JSON.stringify({ ...prov, durationMs: 0 }) !== JSON.stringify({ ...p.provenance, durationMs: 0 })) {
        p.provenance = prov;
        delta(p).provenance = prov;
      }
    }
    if (datasetsChanged) {
      // the first run with a dataset is what the others are compared with: mark every run again
      const before = new Map(this.parts.map((p) => [p, JSON.stringify(p.provenance.datasets)]));
      for (const p of this.parts) {
        if (!reread.has(p)) p.provenance = { ...p.provenance, datasets: p.provenance.datasets.map((d) => ({ path: d.path, digest: d.digest })) };
      }
      markChangedDataFiles(store, this.parts);
      for (const p of this.parts) if (before.get(p) !== JSON.stringify(p.provenance.datasets)) delta(p).provenance = p.provenance;
    }
    const paramKeys = sorted(new Set(this.parts.flatMap((p) => Object.keys(p.params))));
    const paramKeysChanged = !sameList(paramKeys, this.paramKeys);
    this.paramKeys = paramKeys;
    // packages are recorded when a launched run ends, in a write of their own
    let packagesChanged = false;
    for (const id of new Set([...look.rows, ...look.live])) {
      const p = this.byId.get(id);
      const hash = p && (store.packages.hash(id) ?? null);
      if (!p || hash === p.packages) continue;
      p.packages = hash!;
      packagesChanged = true;
    }
    if (packagesChanged) this.packages = this.packagesTable(store);

    if (!deltas.size && !keysChanged && !paramKeysChanged && !packagesChanged) return null;
    const out: ModelDelta = { runs: [...deltas.values()] };
    if (keysChanged) out.keys = [...keys];
    if (paramKeysChanged) out.paramKeys = [...paramKeys];
    if (packagesChanged) out.packages = this.packages;
    return out;
  }
}

function rowSig(run: Run): string {
  return JSON.stringify([compareRun(run), run.git]);
}

function summariesOf(store: Store, runId: number): Map<string, MetricSummary> {
  return new Map(store.metrics.summaries(runId).map((s) => [s.key, s]));
}

function sameSummary(a: MetricSummary | undefined, b: MetricSummary | undefined): boolean {
  if (!a || !b) return a === b;
  return a.count === b.count && Object.is(a.last, b.last) && a.min === b.min && a.max === b.max
    && a.lastStep === b.lastStep && a.lastTime === b.lastTime;
}

function bestStepOf(store: Store, p: RunPart, primary: PrimaryMetric | null): number | null {
  return primary ? store.metrics.best(p.run.id, primary.key, primary.goal)?.step ?? null : null;
}

/** The key's value at the step where the run's primary metric is best. */
function atBestOf(store: Store, p: RunPart, key: string): number | null {
  const step = p.bestStep;
  return step === null || !p.summaries.has(key) ? null : finiteOrNull(store.metrics.valueAt(p.run.id, key, step));
}

function metricCell(key: string, s: MetricSummary | undefined, atBest: number | null): MetricCell {
  return { key, last: finiteOrNull(s?.last), min: finiteOrNull(s?.min), max: finiteOrNull(s?.max), atBest, count: s?.count ?? 0 };
}

function provenanceOf(store: Store, r: Run): ProvenanceRow {
  const p = store.provenance.get(r.id);
  return {
    commit: r.git?.commit ?? null, branch: r.git?.branch ?? null, dirty: r.git?.dirty ?? false,
    hasPatch: Boolean(p?.patchSha256), interpreter: p?.interpreterVersion ?? p?.interpreter ?? null,
    durationMs: r.startedAt === null ? null : (r.endedAt ?? Date.now()) - r.startedAt,
    datasets: store.provenance.datasets(r.id, { files: false }).map((d) => ({ path: d.path, digest: d.digest })),
    ...alertsOf(store, r.id),
  };
}

/** Alerts shown per run in the provenance table. */
const SHOWN_ALERTS = 5;

function alertsOf(store: Store, runId: number): Pick<ProvenanceRow, 'alerts' | 'alertCount'> {
  const all = store.alerts.list(runId);
  return { alerts: all.slice(-SHOWN_ALERTS).map((a) => ({ rule: a.rule, key: a.key, step: a.step, message: a.message })), alertCount: all.length };
}

/** Columns shown per changed data file. */
const DRIFT_COLUMNS = 3;

/**
 * For datasets whose digest differs from the first run's, which files changed (per-file hashes, loaded only
 * then), and the drift of those with profiles.
 */
function markChangedDataFiles(store: Store, parts: RunPart[]): void {
  const profiles = memoProfiles(store.profiles);
  const reference = new Map<string, number>(); // dataset path -> index of the first run with it
  parts.forEach((p, i) => { for (const d of p.provenance.datasets) if (!reference.has(d.path)) reference.set(d.path, i); });
  const files = new Map<number, ReturnType<Store['provenance']['datasets']>>();
  const filesOf = (i: number) => {
    if (!files.has(i)) files.set(i, store.provenance.datasets(parts[i]!.run.id));
    return files.get(i)!;
  };
  parts.forEach((p, i) => {
    for (const d of p.provenance.datasets) {
      const ref = reference.get(d.path)!;
      const base = parts[ref]!.provenance.datasets.find((x) => x.path === d.path)!;
      if (ref === i || base.digest === d.digest) continue;
      const diff = datasetDiff(filesOf(ref).filter((x) => x.path === d.path), filesOf(i).filter((x) => x.path === d.path), profiles);
      d.changed = changedDataFiles(diff);
      const drift = diff.flatMap((x) => (x.drift ?? []).flatMap((f): DataFileDrift[] => (f.columns ? [{
        file: dataFileName(x, f.file),
        columns: f.columns.slice(0, DRIFT_COLUMNS).map((c) => ({
          column: c.column, psi: c.psi, ks: c.ks, level: driftLevel(c), ...(c.note ? { note: c.note } : {}),
        })),
      }] : [])));
      if (drift.length) d.drift = drift;
    }
  });
}
