/**
 * Pure layout for the parallel-coordinates labels and note (no DOM, no chart.js).
 * Labels at the ends of an axis (p = 0 or 1) sit outside the plot, in space reserved for them;
 * labels inside (categories, log decades) are drawn over the lines on a background box.
 */

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PcLabel {
  text: string;
  /** The text's box; its anchor point is (box.x, box.y + box.h / 2), left-aligned. */
  box: Box;
  /** Inside the plot: draw a background box under it. */
  boxed: boolean;
}

export interface PcPlot {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Pixels between the plot and an end label, and around a boxed label's text. */
export const LABEL_GAP = 6;
export const BOX_PAD = 2;

/** Room to reserve above and below the plot for the end labels. */
export function labelReserve(lineHeight: number): number {
  return lineHeight + LABEL_GAP * 2;
}

/**
 * The label boxes for one axis at x. `first`/`last`: the leftmost/rightmost axis, whose end labels
 * are aligned to stay inside the canvas. Interior labels are thinned so they do not overlap.
 */
export function axisLabels(
  ticks: [string, number][], x: number, plot: PcPlot, measure: (s: string) => number,
  lineHeight: number, first: boolean, last: boolean,
): PcLabel[] {
  const out: PcLabel[] = [];
  const span = plot.bottom - plot.top;
  const yAt = (p: number) => plot.bottom - p * span;
  const inner = ticks.filter((t) => t[1] > 0 && t[1] < 1).length;
  const every = Math.max(1, Math.ceil((inner * (lineHeight + BOX_PAD * 2)) / Math.max(1, span)));
  let k = 0;
  for (const [text, p] of ticks) {
    const end = p <= 0 || p >= 1;
    if (!end && k++ % every) continue;
    const w = measure(text);
    if (end) {
      const lx = first && !last ? x - 2 : last && !first ? x + 2 - w : x - w / 2;
      const y = p >= 1 ? plot.top - LABEL_GAP - lineHeight : plot.bottom + LABEL_GAP;
      out.push({ text, box: { x: lx, y, w, h: lineHeight }, boxed: false });
    } else {
      const lx = last && !first ? x - 5 - w : x + 5;
      out.push({ text, box: { x: lx, y: yAt(p) - lineHeight / 2, w, h: lineHeight }, boxed: true });
    }
  }
  return out;
}

export function intersects(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** The note above the chart: "1 param that differs", "2 params that differ". */
export function parallelNote(params: number, metricLabel: string | null): string {
  const what = params === 1 ? '1 param that differs' : `${params} params that differ`;
  return `${what}${metricLabel ? `, then ${metricLabel}` : ''}. Numeric axes run from min (bottom) to max (top). Hover a line to pick out its run.`;
}
