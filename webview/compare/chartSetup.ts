/**
 * chart.js, tree-shaken: only the pieces the panel draws with, plus the zoom plugin and ours.
 * Imported once by index.ts before any chart is created.
 */
import {
  CategoryScale, Chart, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip,
} from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';
import { bandPlugin } from './band.ts';
import './hover.ts';
import type { Theme } from './theme.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, Tooltip, zoomPlugin);
// Ours is not registered globally: each metric chart lists it, the Across charts do not.
export const linePlugins = [bandPlugin];

/** Options every line chart here shares: pre-parsed, sorted data, no animation, sized by its card. */
export const FAST_LINE_OPTIONS = {
  animation: false,
  parsing: false,
  normalized: true,
  spanGaps: false,
  responsive: true,
  maintainAspectRatio: false,
} as const;

/** Global defaults that follow the theme (every chart's own colours are set by its owner). */
export function applyChartDefaults(t: Theme): void {
  Chart.defaults.color = t.muted;
  Chart.defaults.borderColor = t.grid;
  Chart.defaults.font.family = t.fontFamily;
  Chart.defaults.font.size = Math.max(10, Math.round(t.fontSize * 0.85));
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
}

/** Colours of the built-in canvas tooltip (used by the Across charts). */
export function canvasTooltip(t: Theme) {
  return {
    backgroundColor: t.hoverBackground,
    borderColor: t.hoverBorder,
    borderWidth: 1,
    titleColor: t.foreground,
    bodyColor: t.foreground,
    footerColor: t.muted,
    padding: 8,
    boxPadding: 4,
    cornerRadius: 3,
    usePointStyle: false,
    titleFont: { weight: 'bold' as const },
  };
}
