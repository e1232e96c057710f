/**
 * Where a chart's PNG export puts things, without the DOM: the title above the chart, the shown
 * runs' legend under it wrapped to the chart's width (40 entries at most), all scaled by the
 * device pixel ratio. Text widths come from `measure`; the card draws the result.
 */

export interface PngInput {
  title: string;
  /** The chart canvas, in device pixels. */
  chartWidth: number;
  chartHeight: number;
  dpr: number;
  fontSize: number;
  fontFamily: string;
  runs: readonly { name: string; color: string }[];
  /** A text's width in `font` (a CSS font string), in device pixels. */
  measure(text: string, font: string): number;
}

export interface PngText {
  text: string;
  x: number;
  /** The text's middle (textBaseline 'middle'). */
  y: number;
}

export interface PngEntry extends PngText {
  /** The run's colour bar left of the name; null for the "… and N more" line. */
  swatch: { color: string; x: number; y: number; w: number; h: number } | null;
}

export interface PngLayout {
  width: number;
  height: number;
  title: PngText & { font: string };
  chart: { x: number; y: number };
  legendFont: string;
  legend: PngEntry[];
}

/** Legend entries beyond this are summed up in one line. */
export const LEGEND_CAP = 40;

export function pngLayout(p: PngInput): PngLayout {
  const dpr = p.dpr || 1;
  const pad = Math.round(12 * dpr);
  const fs = Math.round(p.fontSize * dpr);
  const font = (px: number, weight = '') => `${weight} ${px}px ${p.fontFamily}`.trim();
  const legendFont = font(Math.round(fs * 0.85));
  const lineH = Math.round(fs * 1.5);
  const titleH = Math.round(fs * 2);

  // Wrapped rows, relative to the legend's top left.
  const items: { text: string; color: string; x: number; y: number }[] = [];
  let x = 0;
  let y = 0;
  for (const r of p.runs.slice(0, LEGEND_CAP)) {
    const w = Math.ceil(p.measure(r.name, legendFont)) + fs + Math.round(fs * 1.4);
    if (x > 0 && x + w > p.chartWidth) {
      x = 0;
      y += lineH;
    }
    items.push({ text: r.name, color: r.color, x, y });
    x += w;
  }
  if (p.runs.length > LEGEND_CAP) items.push({ text: `… and ${p.runs.length - LEGEND_CAP} more`, color: '', x: 0, y: y + lineH });
  const legendH = items.length ? items[items.length - 1]!.y + lineH : 0;

  const ly = pad + titleH + p.chartHeight + pad / 2;
  const legend = items.map((it): PngEntry => {
    const tx = pad + it.x;
    const mid = ly + it.y + lineH / 2;
    if (!it.color) return { text: it.text, x: tx, y: mid, swatch: null };
    const swatch = { color: it.color, x: tx, y: mid - fs * 0.15, w: fs * 0.9, h: Math.max(2, fs * 0.3) };
    return { text: it.text, x: tx + fs * 1.2, y: mid, swatch };
  });
  return {
    width: p.chartWidth + 2 * pad,
    height: pad + titleH + p.chartHeight + (legendH ? pad / 2 + legendH : 0) + pad,
    title: { text: p.title, x: pad, y: pad + titleH / 2, font: font(Math.round(fs * 1.1), '600') },
    chart: { x: pad, y: pad + titleH },
    legendFont,
    legend,
  };
}
