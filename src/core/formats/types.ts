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
}

export interface MlflowExport {
  experiments: { id: string; name: string }[];
  runs: MlflowRun[];
  problems: string[];
}
