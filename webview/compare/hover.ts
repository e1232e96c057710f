/**
 * The metric charts' interaction mode: for every visible run, its point nearest to the hovered x
 * (binary search: x is sorted). Runs whose data does not reach the hovered x (ended earlier,
 * started later) are left out. Registered with chart.js as 'runsAtX'; the hover layer asks for it
 * through chart.getElementsAtEventForMode.
 */
import { Interaction, type Chart, type ChartEvent, type InteractionItem, type InteractionModeFunction } from 'chart.js';
import { lineHosts } from './lineHost.ts';

declare module 'chart.js' {
  interface InteractionModeMap {
    runsAtX: InteractionModeFunction;
  }
}

/** How far (px) outside a run's first/last point the pointer may be and still pick it. */
const EDGE_PX = 8;

export const runsAtX: InteractionModeFunction = (chart: Chart, e: ChartEvent): InteractionItem[] => {
  const host = lineHosts.get(chart);
  const xs = chart.scales.x;
  if (!host || !xs || e.x === null || e.y === null) return [];
  const area = chart.chartArea;
  if (e.x < area.left || e.x > area.right || e.y < area.top || e.y > area.bottom) return [];
  const xv = xs.getValueForPixel(e.x);
  if (xv === undefined || !Number.isFinite(xv)) return [];
  const tol = Math.abs((xs.getValueForPixel(e.x + EDGE_PX) ?? xv) - xv);
  const smooth = host.smoothing > 0;
  const items: InteractionItem[] = [];
  for (const ref of host.traces) {
    if (!ref.visible) continue;
    const t = ref.trace;
    const n = t.length;
    if (!n || xv < t.x[0]! - tol || xv > t.x[n - 1]! + tol) continue;
    const idx = t.nearest(xv);
    const datasetIndex = smooth ? ref.smoothIndex : ref.rawIndex;
    const element = chart.getDatasetMeta(datasetIndex).data[idx];
    const point = (smooth ? t.smooth : t.raw)[idx];
    if (!element || !point || point.y === null) continue;
    items.push({ element, datasetIndex, index: idx });
  }
  return items;
};

Interaction.modes.runsAtX = runsAtX;
