/**
 * What the metric charts' plugin (band) and interaction mode need to know about a chart, looked
 * up by chart instance. The chart card fills it; they only read it.
 */
import type { Chart } from 'chart.js';
import type { CompareRun, XAxis } from '../../src/core/compare/protocol.ts';
import type { RunTrace } from './series.ts';

export interface TraceRef {
  run: CompareRun;
  trace: RunTrace;
  /** Dataset indexes of the raw and the smoothed line. */
  rawIndex: number;
  smoothIndex: number;
  visible: boolean;
  /** The band's fill and edge colours (run colour, low alpha), precomputed so drawing allocates nothing. */
  bandFill: string;
  bandEdge: string;
}

export interface LineHost {
  traces: TraceRef[];
  smoothing: number;
  logY: boolean;
  axis: XAxis;
}

export const lineHosts = new WeakMap<Chart, LineHost>();
