/** What the readers of other tools' log formats return. They parse only; storing comes later. */
import type { ParamValue } from '../types.ts';

export interface ScalarPoint {
  key: string;
  step: number;
  /** Milliseconds since the Unix epoch. */
  time: number;
  /** NaN and ±Infinity are kept. */
  value: number;
}

export interface ReadResult {
  points: ScalarPoint[];
  params?: { [key: string]: ParamValue };
  /** Bytes read for good, counted from where this read started; a torn tail is not counted. */
  consumed: number;
  /** What was skipped, and why. */
  problems: string[];
}

export type MlflowStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface MlflowRun {
  id: string;
  experimentId: string;
  name: string;
  status: MlflowStatus | null;
  startTime: number | null;
  endTime: number | null;
  artifactUri: string | null;
  params: { [key: string]: string };
  tags: { [key: string]: string };
  metrics: ScalarPoint[];
  gitCommit: string | null;
  /** Dataset inputs (MLflow 2.4+ `inputs`/`datasets`); the file store reader leaves this out. */
  datasets?: MlflowDatasetInput[];
  /** MLflow marks it deleted (or its experiment); read only because a registered model version names it. */
  deleted?: boolean;
}

export interface MlflowDatasetInput {
  name: string;
  /** MLflow's digest (a short hash of a sample), '' when unknown. */
  digest: string;
  /** Where it came from (a path, URI or table), '' when unknown. */
  source: string;
  sourceType: string;
}

export interface MlflowModel {
  name: string;
  description: string;
  createdAt: number | null;
}

export interface MlflowModelVersion {
  model: string;
  version: number;
  /** The MLflow run that made it, when known. */
  runId: string | null;
  /** Where MLflow has the model (`runs:/...`, `file:///...`, `models:/...`). */
  source: string;
  stage: string | null;
  status: string | null;
  description: string;
  createdAt: number | null;
}

export interface MlflowAlias {
  model: string;
  alias: string;
  version: number;
}

export interface MlflowExport {
  /** Live experiments, and deleted ones that runs below come from (flagged). */
  experiments: { id: string; name: string; deleted?: boolean }[];
  runs: MlflowRun[];
  /** Runs MLflow marks deleted that no model version names: left out, counted. */
  deletedRuns?: number;
  /** The model registry, when the source has one. */
  models?: MlflowModel[];
  versions?: MlflowModelVersion[];
  aliases?: MlflowAlias[];
  problems: string[];
}
