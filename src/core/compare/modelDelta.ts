/**
 * Applies a live `modelDelta` to the model the webview holds. Shared by the webview and the tests;
 * it uses neither `vscode` nor the DOM. A delta that does not fit the model is refused whole.
 */
import type { ParamValue } from '../types.ts';
import { type CompareModel, type MetricRow, type ModelDelta, type ParamRow, ProtocolError } from './protocol.ts';
import { checkPackagesTable } from './packageRows.ts';

/** The model with the delta applied (a new object; the old one is left as it was). */
export function applyModelDelta(model: CompareModel, delta: ModelDelta): CompareModel {
  if (!delta || !Array.isArray(delta.runs)) throw new ProtocolError('a model delta must list runs');
  const index = new Map(model.runs.map((r, i) => [r.id, i]));
  const keys = delta.keys ?? model.keys;
  const paramKeys = delta.paramKeys ?? model.params.map((p) => p.key);
  if (!stringList(keys) || !stringList(paramKeys)) throw new ProtocolError('keys must be lists of names');
  const packages = delta.packages === undefined ? model.packages : checkPackagesTable(delta.packages, model.runs.length);
  const keySet = new Set(keys);
  const paramSet = new Set(paramKeys);
  for (const d of delta.runs) {
    if (typeof d !== 'object' || d === null || !index.has(d.id)) throw new ProtocolError(`the delta names run ${String(d?.id)}, which is not in the model`);
    if (d.run && d.run.id !== d.id) throw new ProtocolError(`the delta for run ${d.id} carries run ${d.run.id}`);
    for (const c of d.metrics ?? []) if (!keySet.has(c.key)) throw new ProtocolError(`the delta has metric ${c.key}, which is not a key`);
    for (const k of Object.keys(d.params ?? {})) if (!paramSet.has(k)) throw new ProtocolError(`the delta has param ${k}, which is not a param key`);
  }

  const n = model.runs.length;
  const runs = [...model.runs];
  const bestStep = [...model.bestStep];
  const provenance = [...model.provenance];
  const oldMetrics = new Map(model.metrics.map((r) => [r.key, r]));
  const metrics: MetricRow[] = keys.map((key) => {
    const r = oldMetrics.get(key);
    return r ? { key, last: [...r.last], min: [...r.min], max: [...r.max], atBest: [...r.atBest], count: [...r.count] }
      : { key, last: nulls(n), min: nulls(n), max: nulls(n), atBest: nulls(n), count: new Array<number>(n).fill(0) };
  });
  const metricByKey = new Map(metrics.map((r) => [r.key, r]));
  const oldParams = new Map(model.params.map((r) => [r.key, r]));
  const params: ParamRow[] = paramKeys.map((key) => ({ key, values: oldParams.get(key)?.values.slice() ?? nulls<ParamValue>(n) }));

  for (const d of delta.runs) {
    const i = index.get(d.id)!;
    if (d.run) runs[i] = d.run;
    if (d.bestStep !== undefined) bestStep[i] = d.bestStep;
    if (d.provenance) provenance[i] = d.provenance;
    for (const c of d.metrics ?? []) {
      const row = metricByKey.get(c.key)!;
      row.last[i] = c.last;
      row.min[i] = c.min;
      row.max[i] = c.max;
      row.atBest[i] = c.atBest;
      row.count[i] = c.count;
    }
    if (d.params) for (const row of params) row.values[i] = Object.hasOwn(d.params, row.key) ? d.params[row.key]! : null;
  }
  return { ...model, runs, keys: [...keys], bestStep, params, metrics, provenance, packages };
}

function nulls<T>(n: number): (T | null)[] {
  return new Array<T | null>(n).fill(null);
}

function stringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((k) => typeof k === 'string');
}
