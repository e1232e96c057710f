/**
 * Text people read, the same in the views, the model card and the Compare webview: numbers,
 * durations, times, hashes and sizes. No DOM, no Node: the webview bundles this file too.
 */

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** 1.50 → 1.5, 2.000 → 2; leaves exponents alone. */
export function trimZeros(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}

/**
 * A metric value: `digits` significant digits, integers in full, an exponent (1.5e-5, 2e6) below
 * 1e-4 or from 1e6; `missing` for none.
 */
export function metricValue(v: number | null | undefined, { digits = 4, missing = '' } = {}): string {
  if (v === null || v === undefined) return missing;
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) {
    const [m, e] = v.toExponential(digits - 1).split('e');
    return `${trimZeros(m!)}e${e!.replace('+', '')}`;
  }
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(digits)));
}

const p2 = (n: number) => String(n).padStart(2, '0');

/** 850ms, 5.25s, 12.5s, 1m 04s, 2h 05m, 3d 04h; negative with a leading minus; '' for none. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 0) return `−${duration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${trimZeros(s.toFixed(s < 10 ? 2 : 1))}s`;
  const total = Math.round(s);
  const d = Math.floor(total / 86400), h = Math.floor((total % 86400) / 3600), m = Math.floor((total % 3600) / 60);
  if (d > 0) return `${d}d ${p2(h)}h`;
  if (h > 0) return `${h}h ${p2(m)}m`;
  return `${m}m ${p2(total % 60)}s`;
}

let relative: Intl.RelativeTimeFormat | undefined;
let day: Intl.DateTimeFormat | undefined;
let dayTime: Intl.DateTimeFormat | undefined;

/** How long ago, in the user's language: "now", "5 min. ago", "3 hr. ago", "4 days ago"; a date after 30 days. */
export function ago(time: number, now = Date.now()): string {
  const s = Math.round((now - time) / 1000);
  if (s >= 86400 * 30) return (day ??= new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' })).format(time);
  relative ??= new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
  if (s < 45) return relative.format(0, 'second');
  if (s < 3600) return relative.format(-Math.round(s / 60), 'minute');
  if (s < 86400) return relative.format(-Math.round(s / 3600), 'hour');
  return relative.format(-Math.round(s / 86400), 'day');
}

/** A date and time in the user's language and time zone, with the zone: "Nov 14, 2023, 10:13:20 PM UTC". */
export function dateTime(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  return (dayTime ??= new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' })).format(ms);
}

/** A commit or content hash, short: its first 12 hex digits, without an `algo:` prefix. */
export function shortSha(hash: string): string {
  const i = hash.indexOf(':');
  return (i >= 0 && i < 12 ? hash.slice(i + 1) : hash).slice(0, 12);
}

/** An interpreter version as people read it: "Python 3.11.2", whether or not it was stored with the prefix. */
export function interpreterText(version: string): string {
  return /^python\b/i.test(version.trim()) ? version.trim() : `Python ${version.trim()}`;
}

/**
 * A long name cut in the middle ("train-lr0.1-…-seed7"), keeping both ends, which is where run names
 * differ; at most `max` characters (counted as code points).
 */
export function middleEllipsis(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const keep = Math.max(2, max - 1);
  const head = Math.ceil(keep / 2);
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (keep - head)).join('')}`;
}
