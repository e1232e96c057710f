/**
 * The CI gate: a candidate (a run, or a version of the model) against the version an alias points at.
 * Per metric, the candidate may be worse by at most its tolerance; optionally, no column of a changed data
 * file may drift beyond the limits. Also gathered for the report: the param diff and the changed data files.
 */
import type { Store } from '../store/store.ts';
import type { ModelVersion } from '../store/modelRepository.ts';
import type { MetricSummary, ParamValue, Run } from '../types.ts';
import { type RunRef, resolveRuns } from '../runs/runRefs.ts';
import { changedDataFiles, dataFileName, datasetDiff } from '../models/lineage.ts';
import type { ColumnDrift } from '../drift/scores.ts';
import type { DriftLimits, GateMetric } from './gatesConfig.ts';
import { metricValue } from '../format.ts';
import { nameResolver } from '../query/resolveName.ts';

/** A mistake in what the gate was asked (exit code 2), as opposed to a regression (exit code 1). */
export class GateError extends Error {}

export interface CheckOptions {
  store: Store;
  model: string;
  /** A run (id, uid), a version of the model (`v3`), or `latest` (its newest version). */
  candidate: RunRef | 'latest';
  /** The alias of the baseline version, e.g. production. */
  against: string;
  metrics: readonly GateMetric[];
  driftLimits?: DriftLimits;
}

export interface MetricRow extends GateMetric {
  baseline: number | null;
  candidate: number | null;
  /** candidate − baseline. */
  delta: number | null;
  /** The worst value that still passes. */
  limit: number | null;
  pass: boolean;
  reason?: string;
}

export interface FileDrift {
  /** "<dataset>/<file>" (a file dataset: its path). */
  file: string;
  baseline: string;
  candidate: string;
  /** null when either content has no stored profile. */
  columns: ColumnDrift[] | null;
  /** Columns beyond the limits. */
  over: string[];
}

export interface Side {
  run: Run;
  version: ModelVersion | null;
  metrics: MetricSummary[];
  params: { [key: string]: ParamValue };
}

export interface GateResult {
  pass: boolean;
  model: string;
  alias: string;
  baseline: Side & { version: ModelVersion };
  candidate: Side;
  metrics: MetricRow[];
  params: { key: string; baseline: ParamValue | null; candidate: ParamValue | null }[];
  dataFiles: string[];
  drift: FileDrift[];
  driftLimits: DriftLimits | null;
  /** One line per reason the gate failed. */
  failures: string[];
}

export function check(options: CheckOptions): GateResult {
  const { store, model, against } = options;
  if (!options.metrics.length) throw new GateError('No metrics to check: give --metric KEY:max|min[:TOLERANCE], or a gate in runlens.yaml');
  const m = store.models.model(model);
  if (!m) throw new GateError(`No model named "${model}"${hint(store.models.models().map((x) => x.name))}`);
  const base = store.models.find(model, against);
  if (!base) {
    const aliases = [...new Set(store.models.versions(m.id).flatMap((v) => v.aliases))];
    throw new GateError(`${model} has no alias "${against}"${hint(aliases)}`);
  }
  const baseline = { ...side(store, base.runId, base), version: base };
  const candidate = resolveCandidate(store, model, m.id, options.candidate);

  const metrics = options.metrics.map((g) => metricRow(g, baseline.metrics, candidate.metrics));
  const keys = [...new Set([...Object.keys(baseline.params), ...Object.keys(candidate.params)])].sort();
  const params = keys.filter((k) => baseline.params[k] !== candidate.params[k])
    .map((k) => ({ key: k, baseline: baseline.params[k] ?? null, candidate: candidate.params[k] ?? null }));
  const dsA = store.provenance.datasets(baseline.run.id), dsB = store.provenance.datasets(candidate.run.id);
  const diff = datasetDiff(dsA, dsB, store.profiles);
  const limits = options.driftLimits ?? null;
  const drift = diff.flatMap((d) => (d.drift ?? []).map((f) => ({
    file: dataFileName(d, f.file), baseline: f.a, candidate: f.b, columns: f.columns, over: overLimits(f.columns, limits),
  })));

  const failures: string[] = [];
  for (const r of metrics) if (!r.pass) failures.push(r.reason!);
  for (const f of drift) if (f.over.length) failures.push(`${f.file}: ${f.over.join(', ')} drifted beyond the limits`);
  if (limits) for (const f of drift) if (!f.columns) failures.push(`${f.file} changed and has no data profile to check drift with`);
  return {
    pass: failures.length === 0, model, alias: against, baseline, candidate, metrics, params,
    dataFiles: changedDataFiles(diff), drift, driftLimits: limits, failures,
  };
}

function side(store: Store, runId: number, version: ModelVersion | null): Side {
  const run = store.runs.get(runId);
  if (!run) throw new GateError(`Run ${runId} is missing from the store`);
  return {
    run, version,
    metrics: version ? version.metrics : store.metrics.summaries(runId),
    params: version ? version.params : store.runs.params(runId),
  };
}

function resolveCandidate(store: Store, model: string, modelId: number, ref: RunRef | 'latest'): Side {
  if (ref === 'latest') {
    const newest = store.models.versions(modelId)[0];
    if (!newest) throw new GateError(`${model} has no versions`);
    return side(store, newest.runId, newest);
  }
  const version = typeof ref === 'string' ? /^v(\d+)$/i.exec(ref) : null;
  if (version) {
    const v = store.models.find(model, Number(version[1]));
    if (!v) throw new GateError(`${model} has no version ${version[1]}`);
    return side(store, v.runId, v);
  }
  let runs: Run[];
  try {
    runs = resolveRuns(store, ref);
  } catch (err) {
    throw new GateError((err as Error).message);
  }
  if (runs.length !== 1) throw new GateError('Name one candidate run (an id or uid), a version (v3), or latest');
  // A run that registered a version of this model: its snapshot is what was registered.
  const own = store.models.versionsOfRun(runs[0]!.id).filter((v) => v.model === model).at(-1) ?? null;
  return side(store, runs[0]!.id, own);
}

function metricRow(gate: GateMetric, base: MetricSummary[], cand: MetricSummary[]): MetricRow {
  // The key the gate names, by the one name rule (Val-Acc: val_acc; lr: train.lr), among both sides' keys.
  const match = nameResolver([...base, ...cand].map((s) => s.key))(gate.key);
  const g = match.kind === 'found' ? { ...gate, key: match.key } : gate;
  const b = base.find((s) => s.key === g.key)?.last ?? null;
  const c = cand.find((s) => s.key === g.key)?.last ?? null;
  const row: MetricRow = { ...g, baseline: b, candidate: c, delta: b !== null && c !== null ? c - b : null, limit: null, pass: false };
  if (match.kind === 'ambiguous') { row.reason = `${gate.key} could mean ${match.candidates.join(', ')}: name one`; return row; }
  if (b === null || !Number.isFinite(b)) { row.reason = `${g.key}: the baseline has no ${b === null ? 'value' : 'finite value'}`; return row; }
  if (c === null || !Number.isFinite(c)) { row.reason = `${g.key}: the candidate has no ${c === null ? 'value' : 'finite value'}`; return row; }
  const slack = g.relative ? g.tolerance * Math.abs(b) : g.tolerance;
  row.limit = g.direction === 'max' ? b - slack : b + slack;
  row.pass = g.direction === 'max' ? c >= row.limit : c <= row.limit;
  if (!row.pass) row.reason = `${g.key}: ${metricValue(c)} is worse than ${metricValue(b)}${!g.tolerance ? ' (no tolerance)' : ` by more than ${g.relative ? `${metricValue(g.tolerance * 100)}%` : metricValue(g.tolerance)}`}`;
  return row;
}

/** The columns beyond the limits. */
function overLimits(columns: ColumnDrift[] | null, limits: DriftLimits | null): string[] {
  return (columns ?? []).filter((c) => (limits?.psi !== undefined && c.psi !== null && c.psi > limits.psi)
    || (limits?.ks !== undefined && c.ks !== null && c.ks > limits.ks)).map((c) => c.column);
}

function hint(names: string[]): string {
  return names.length ? ` (there ${names.length === 1 ? 'is' : 'are'} ${names.map((n) => `"${n}"`).join(', ')})` : '';
}
