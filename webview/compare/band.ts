/**
 * The min–max band: downsampling keeps each bucket's min and max, and this plugin fills the
 * area between them for every bucket that holds more than one point (as a polygon, or when the
 * buckets are pixel-dense as one vertical stroke per bucket, which is much cheaper to raster),
 * and strokes its upper and lower edges. So a one-step spike among a million points still shows
 * as the band's peak even though the line goes through `last`.
 * No allocation per frame: it walks the run's arrays in place.
 */
import type { Chart, Plugin } from 'chart.js';
import { lineHosts } from './lineHost.ts';
import type { RunTrace } from './series.ts';

function inBand(t: RunTrace, i: number, logY: boolean): boolean {
  if (t.count[i]! <= 1) return false;
  const lo = t.min[i];
  const hi = t.max[i];
  if (lo === null || hi === null || lo === undefined || hi === undefined) return false;
  return !logY || hi > 0;
}

export const bandPlugin: Plugin<'line'> = {
  id: 'runBand',
  beforeDatasetsDraw(chart: Chart) {
    const host = lineHosts.get(chart);
    if (!host) return;
    const xs = chart.scales.x;
    const ys = chart.scales.y;
    if (!xs || !ys) return;
    const { ctx, chartArea } = chart;
    const logY = host.logY;
    const floor = ys.min;
    const dpr = chart.currentDevicePixelRatio || 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(chartArea.left, chartArea.top, chartArea.right - chartArea.left, chartArea.bottom - chartArea.top);
    ctx.clip();
    for (const ref of host.traces) {
      if (!ref.visible) continue;
      const t = ref.trace;
      const n = t.length;
      if (n < 1) continue;
      const i0 = Math.max(0, t.lowerBound(xs.min) - 1);
      const i1 = Math.min(n, t.lowerBound(xs.max) + 1);
      if (i1 <= i0) continue;
      // Dense buckets (a few device pixels apart or less, the usual case): one vertical stroke per
      // bucket, as wide as the gap to the next, tiles into a band and costs a fraction of a
      // polygon fill. Sparse buckets (zoomed far in): polygons.
      const spacing = i1 - i0 > 1 ? (xs.getPixelForValue(t.x[i1 - 1]!) - xs.getPixelForValue(t.x[i0]!)) / (i1 - i0 - 1) : Infinity;
      const dense = spacing * dpr <= 3;
      ctx.fillStyle = ref.bandFill;
      ctx.strokeStyle = ref.bandFill;
      if (dense) {
        ctx.lineWidth = Math.max(1 / dpr, spacing);
        ctx.beginPath();
        for (let i = i0; i < i1; i++) {
          if (!inBand(t, i, logY)) continue;
          const px = xs.getPixelForValue(t.x[i]!);
          ctx.moveTo(px, ys.getPixelForValue(t.max[i]!));
          ctx.lineTo(px, ys.getPixelForValue(lowValue(t.min[i]!, logY, floor)));
        }
        ctx.stroke();
      } else {
        ctx.lineWidth = 1;
        let i = i0;
        while (i < i1) {
          if (!inBand(t, i, logY)) {
            i++;
            continue;
          }
          let j = i;
          while (j + 1 < i1 && inBand(t, j + 1, logY)) j++;
          ctx.beginPath();
          if (j === i) {
            const px = xs.getPixelForValue(t.x[i]!);
            ctx.moveTo(px, ys.getPixelForValue(t.max[i]!));
            ctx.lineTo(px, ys.getPixelForValue(lowValue(t.min[i]!, logY, floor)));
            ctx.stroke();
          } else {
            ctx.moveTo(xs.getPixelForValue(t.x[i]!), ys.getPixelForValue(t.max[i]!));
            for (let k = i + 1; k <= j; k++) ctx.lineTo(xs.getPixelForValue(t.x[k]!), ys.getPixelForValue(t.max[k]!));
            for (let k = j; k >= i; k--) ctx.lineTo(xs.getPixelForValue(t.x[k]!), ys.getPixelForValue(lowValue(t.min[k]!, logY, floor)));
            ctx.closePath();
            ctx.fill();
          }
          i = j + 1;
        }
      }
      // The band's edges, a little stronger than its fill: a one-bucket spike is thinner than a
      // pixel and would otherwise antialias to almost nothing.
      ctx.strokeStyle = ref.bandEdge;
      ctx.lineWidth = 1 / dpr; // a hairline: crisp, and by far the cheapest stroke to raster
      ctx.beginPath();
      for (let pass = 0; pass < 2; pass++) {
        let open = false;
        for (let i = i0; i < i1; i++) {
          if (!inBand(t, i, logY)) {
            open = false;
            continue;
          }
          const px = xs.getPixelForValue(t.x[i]!);
          const py = ys.getPixelForValue(pass === 0 ? t.max[i]! : lowValue(t.min[i]!, logY, floor));
          if (open) ctx.lineTo(px, py);
          else ctx.moveTo(px, py);
          open = true;
        }
      }
      ctx.stroke();
    }
    ctx.restore();
  },
};

function lowValue(v: number, logY: boolean, floor: number): number {
  return logY && v <= 0 ? floor : v;
}
