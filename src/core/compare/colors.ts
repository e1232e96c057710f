/**
 * A run's colour depends only on its id, so it is the same in every chart, table and session.
 * Consecutive runs get clearly different hues; every 12 runs the lightness shifts.
 */
const HUES = [210, 28, 140, 355, 270, 50, 185, 320, 95, 0, 235, 160];
const LIGHTNESS = [55, 68, 42];

export function runColor(runId: number): string {
  const i = Math.max(0, Math.floor(runId) - 1);
  const hue = HUES[i % HUES.length]!;
  const light = LIGHTNESS[Math.floor(i / HUES.length) % LIGHTNESS.length]!;
  return `hsl(${hue}, 70%, ${light}%)`;
}
