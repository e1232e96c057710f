/**
 * Models over time: an evaluation is a run linked to a model version (runlens.log_eval). When one is
 * adopted, its values are compared with the version's value at registration (the last value of the
 * version's run) and with the best earlier evaluation; a drop beyond the tolerance raises ONE
 * degradation alert per (version, metric), stored on the evaluation run that shows it.
 *
 * Which metrics: the runlens.yaml `gates:` of the version's model (their directions and tolerances),
 * else the primary metric (runlens.yaml's, else guessed from the version's metric names) with
 * DEFAULT_TOLERANCE. Only the evaluations' stored values are read, never the metric series.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Store } from '../store/store.ts';
import type { ModelVersion } from '../store/modelRepository.ts';
import type { Alert } from '../health/evaluate.ts';
import type { MetricSummary, Run } from '../types.ts';
import type { GateConfig, GateMetric } from '../gate/gatesConfig.ts';
import { DEGRADATION_RULE, type EvaluationRow } from '../store/evaluationRepository.ts';
import type { StoredAlert } from '../store/alertRepository.ts';
import { parseRunConfig } from '../config/runConfig.ts';
import { primaryMetric } from '../compare/compareData.ts';
import { metricValue } from '../format.ts';
import { type ProfileLookup, contentDrift } from '../drift/fileDrift.ts';
import type { ColumnDrift } from '../drift/scores.ts';
import { tabularDelimiter } from '../drift/profile.ts';
import { dataFileName } from './lineage.ts';

/** Evaluation runs carry `<model>@<ref>` in this tag; one that names no known version also gets EVAL_UNLINKED_TAG (why). */
export const EVAL_TAG = 'runlens.eval';
export const EVAL_UNLINKED_TAG = 'runlens.eval.unlinked';
/** The tolerance of a metric no gate names: 5% of the baseline. */
export const DEFAULT_TOLERANCE = { tolerance: 0.05, relative: true } as const;

/** What decides which metrics are watched: runlens.yaml's gates and primary metric. */
export interface DegradationSettings {
  gates: GateConfig[];
  primaryMetric?: { name: string; goal: 'max' | 'min' };
}

/** The settings from `<folder>/runlens.yaml` when the store is `<folder>/.runlens`; none when there is no such file. */
export function settingsBeside(storeDir: string): DegradationSettings {
  const file = join(dirname(storeDir), 'runlens.yaml');
  if (basename(storeDir) !== '.runlens' || !existsSync(file)) return { gates: [] };
  const { config } = parseRunConfig(readFileSync(file, 'utf8'));
  return { gates: config.gates, primaryMetric: config.primaryMetric };
}

/** A version number (3, "3", "v3"), "latest", or an alias: the version it names now, or why there is none. */
export function resolveRef(store: Store, model: string, ref: number | string): { version: ModelVersion } | { reason: string } {
  const m = store.models.model(model);
  if (!m) return { reason: `no model named "${model}" is registered` };
  const text = String(ref).trim();
  const number = typeof ref === 'number' ? ref : /^v?\d+$/i.test(text) ? Number(text.replace(/^v/i, '')) : undefined;
  if (text.toLowerCase() === 'latest') {
    const v = m.latestVersion === null ? undefined : store.models.find(model, m.latestVersion);
    return v ? { version: v } : { reason: `${model} has no versions` };
  }
  const v = store.models.find(model, number ?? text);
  if (v) return { version: v };
  return { reason: number === undefined ? `${model} has no alias @${text}` : `${model} has no version ${number}` };
}

/** The metrics watched on a version, with direction and tolerance. */
export function watchedMetrics(v: ModelVersion, settings: DegradationSettings): GateMetric[] {
  const out = new Map<string, GateMetric>();
  for (const g of settings.gates) if (g.model === v.model) for (const m of g.metrics) if (!out.has(m.key)) out.set(m.key, m);
  if (out.size) return [...out.values()];
  const p = primaryMetric(v.metrics.map((m) => m.key), settings.primaryMetric);
  return p ? [{ key: p.key, direction: p.goal, ...DEFAULT_TOLERANCE }] : [];
}

/** A drop of one metric beyond its tolerance. */
export interface Drop {
  key: string;
  direction: 'max' | 'min';
  /** The version's value at registration, when its run had the metric. */
  registration: number | null;
  /** The best of the registration value and the earlier evaluations: what `now` dropped from. */
  best: number;
  now: number;
  tolerance: string;
}

/**
 * The watched metrics of `current` that dropped beyond tolerance from the best of the registration
 * value and the `earlier` evaluations' values (direction max: a lower value is a drop).
 */
export function degradation(registration: readonly MetricSummary[], earlier: readonly EvaluationRow['metrics'][],
  current: EvaluationRow['metrics'], metrics: readonly GateMetric[]): Drop[] {
  const out: Drop[] = [];
  for (const m of metrics) {
    const now = current[m.key];
    if (now === undefined || !Number.isFinite(now)) continue;
    const reg = registration.find((s) => s.key === m.key)?.last;
    const seen = [reg, ...earlier.map((e) => e[m.key])].filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    if (!seen.length) continue;
    const best = m.direction === 'max' ? Math.max(...seen) : Math.min(...seen);
    const drop = m.direction === 'max' ? best - now : now - best;
    const allowed = m.relative ? m.tolerance * Math.abs(best) : m.tolerance;
    if (drop > allowed) {
      out.push({ key: m.key, direction: m.direction, registration: reg ?? null, best, now,
        tolerance: m.relative ? `${metricValue(m.tolerance * 100)}%` : metricValue(m.tolerance) });
    }
  }
  return out;
}

/** The alert's text: version, metric, registration value → now. */
export function dropMessage(v: Pick<ModelVersion, 'model' | 'version'>, d: Drop): string {
  const from = d.registration === null ? `${metricValue(d.best)} at its best evaluation` : `${metricValue(d.registration)} at registration`;
  const best = d.registration !== null && d.best !== d.registration ? ` (best evaluation ${metricValue(d.best)})` : '';
  return `${v.model} v${v.version} degraded: ${d.key} ${from} → ${metricValue(d.now)}${best}, beyond the tolerance of ${d.tolerance}`;
}

/**
 * Links an adopted evaluation run to the version `ref` names now and raises its degradation alerts.
 * Call inside the adoption's transaction. An unknown model or version: the run is kept, tagged with why.
 */
export function recordEvaluation(store: Store, run: Pick<Run, 'id'>, e: { model: string; ref: number | string; metrics: EvaluationRow['metrics'] },
  at: number, settings: DegradationSettings): { version?: ModelVersion; reason?: string; alerts: StoredAlert[] } {
  const found = resolveRef(store, e.model, e.ref);
  if ('reason' in found) {
    store.runs.setTags(run.id, { [EVAL_UNLINKED_TAG]: found.reason });
    return { reason: found.reason, alerts: [] };
  }
  const v = found.version;
  const earlier = store.evaluations.ofVersion(v.id).filter((x) => x.at <= at).map((x) => x.metrics);
  store.evaluations.link({ runId: run.id, versionId: v.id, ref: String(e.ref), at, metrics: e.metrics });
  const drops = degradation(v.metrics, earlier, e.metrics, watchedMetrics(v, settings))
    .filter((d) => !store.evaluations.degraded(v.id, d.key));
  const alerts: Alert[] = drops.map((d) => ({
    rule: DEGRADATION_RULE, key: d.key, step: 0, value: d.now, time: at, severity: 'warning', message: dropMessage(v, d),
  }));
  return { version: v, alerts: store.alerts.add(run.id, alerts) };
}

/** One evaluation of a version, for the lineage page. */
export interface Evaluation extends EvaluationRow {
  run: Run;
  datasets: { path: string; digest: string }[];
}

/** A version's evaluations over time, its watched metrics, and its degradation alerts. */
export interface EvaluationHistory {
  evaluations: Evaluation[];
  metrics: GateMetric[];
  alerts: StoredAlert[];
  /** The latest evaluation's data against the version's training data, when both are profiled. */
  drift?: EvaluationDrift;
}

/** Per column, from a training data file of the version's run to a data file of an evaluation, the most drifted first. */
export interface EvaluationDrift {
  run: Run;
  /** Data file names as the lineage page shows them ("data/train.csv"), and their contents. */
  training: { file: string; sha256: string };
  evaluated: { file: string; sha256: string };
  columns: ColumnDrift[];
}

/** The profiled CSV and TSV files of a run's datasets. */
function tabularFiles(store: Store, runId: number, profiles: ProfileLookup) {
  return store.provenance.datasets(runId).flatMap((d) => d.files.map((f) => ({ file: dataFileName(d, f.path), sha256: f.sha256 })))
    .flatMap((f) => {
      const profile = tabularDelimiter(f.file) ? profiles.get(f.sha256) : undefined;
      return profile ? [{ ...f, names: profile.columns.map((c) => c.name).sort().join('\u0000') }] : [];
    });
}

/**
 * The drift of the evaluation's first profiled tabular file from the training run's file with the same
 * columns (one named train* first, e.g. train.csv over val.csv); undefined when there is no such pair.
 */
export function evaluationDrift(store: Store, v: Pick<ModelVersion, 'runId'>, run: Run, profiles: ProfileLookup = store.profiles): EvaluationDrift | undefined {
  const training = tabularFiles(store, v.runId, profiles);
  for (const e of tabularFiles(store, run.id, profiles)) {
    const same = training.filter((t) => t.names === e.names);
    const t = same.find((x) => /^train/i.test(basename(x.file))) ?? same[0];
    const columns = t && contentDrift(profiles, t.sha256, e.sha256);
    if (t && columns) return { run, training: { file: t.file, sha256: t.sha256 }, evaluated: { file: e.file, sha256: e.sha256 }, columns };
  }
  return undefined;
}

export function evaluationHistory(store: Store, v: ModelVersion, settings: DegradationSettings): EvaluationHistory {
  const evaluations = store.evaluations.ofVersion(v.id).flatMap((e) => {
    const run = store.runs.get(e.runId);
    return run ? [{ ...e, run, datasets: store.provenance.datasets(run.id).map((d) => ({ path: d.path, digest: d.digest })) }] : [];
  });
  const latest = evaluations.at(-1); // ofVersion: by time
  return { evaluations, metrics: watchedMetrics(v, settings), alerts: store.evaluations.degradations([v.id]).get(v.id) ?? [],
    drift: latest && evaluationDrift(store, v, latest.run) };
}

/**
 * Every evaluation beyond tolerance from the registration value or the best earlier evaluation, as
 * `<runId>\0<metric>` (the alert is raised once, by the first; the chart marks them all).
 */
export function droppedEvaluations(v: Pick<ModelVersion, 'metrics'>, h: Pick<EvaluationHistory, 'evaluations' | 'metrics'>): Set<string> {
  const out = new Set<string>();
  h.evaluations.forEach((e, i) => {
    const earlier = h.evaluations.slice(0, i).map((x) => x.metrics);
    for (const d of degradation(v.metrics, earlier, e.metrics, h.metrics)) out.add(`${e.runId}\u0000${d.key}`);
  });
  return out;
}

/** For the Models view: "val_acc 0.95 at registration → 0.70 (3 evaluations)" per degraded version. */
export function degradationSummaries(store: Store, versions: readonly ModelVersion[]): Map<number, string> {
  const ids = versions.map((v) => v.id);
  const alerts = store.evaluations.degradations(ids);
  const counts = store.evaluations.counts(ids);
  const out = new Map<number, string>();
  for (const v of versions) {
    const a = alerts.get(v.id)?.[0];
    if (!a || a.key === null) continue;
    const latest = store.evaluations.ofVersion(v.id).map((e) => e.metrics[a.key!]).filter((x) => x !== undefined).at(-1) ?? a.value;
    const reg = v.metrics.find((m) => m.key === a.key)?.last;
    const n = counts.get(v.id) ?? 0;
    out.set(v.id, `${a.key} ${reg === undefined ? '' : `${metricValue(reg)} at registration `}→ ${metricValue(latest)} (${n} evaluation${n === 1 ? '' : 's'})`);
  }
  return out;
}
