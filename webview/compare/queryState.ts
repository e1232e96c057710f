/**
 * A metric chart's query state, without DOM or chart.js: the query in flight, the x range asked
 * for, the data's extent, and when a zoom, a resize, an answer or a live append needs a new query.
 */
import { MAX_BUCKETS, type XAxis } from '../../src/core/compare/protocol.ts';

export type Range = [number, number];

/** 'stale': not the query in flight, dropped; 'other-axis': ends the query, not shown. */
export type AnswerVerdict = 'stale' | 'other-axis' | 'apply';
/** 'later': off screen, re-query when back in view. */
export type AppendVerdict = 'ignore' | 'later' | 'apply';

/** Buckets for a plot `width` CSS pixels wide: one per device pixel, 16 to MAX_BUCKETS. */
export function bucketsFor(width: number, dpr: number): number {
  return Math.max(16, Math.min(MAX_BUCKETS, Math.round(width * (dpr || 1))));
}

export class QueryState {
  /** Needs a fresh query when next visible. */
  dirty = true;
  /** The x range the data was asked for; null = everything (live appends apply). */
  range: Range | null = null;
  /** The requestId of the query in flight (answers with another id are stale). */
  pendingId: number | null = null;
  /** What the last query asked for. */
  buckets = 0;
  /** An answer arrived since the last reset. */
  hasData = false;
  /** The full x extent of the key (zoom limits). */
  domain: Range | null = null;
  /** The last query's error, until an answer arrives. */
  error: string | null = null;

  /** Starts a query; `post` sends it and returns its requestId. */
  send(buckets: number, post: (range: Range | null, buckets: number) => number): void {
    this.dirty = false;
    this.buckets = buckets;
    this.pendingId = post(this.range, buckets);
  }

  /** Forget the data (new x axis): the next query asks for everything. */
  reset(): void {
    this.range = null;
    this.domain = null;
    this.hasData = false;
    this.pendingId = null;
    this.dirty = true;
  }

  answer(requestId: number, sameAxis: boolean, domain: Range | null): AnswerVerdict {
    if (requestId !== this.pendingId) return 'stale';
    this.pendingId = null;
    this.error = null;
    if (!sameAxis) return 'other-axis';
    this.domain = domain;
    this.hasData = true;
    return 'apply';
  }

  failed(message: string): void {
    this.pendingId = null;
    this.error = message;
  }

  /** Live points apply only to unzoomed data with no query in flight. */
  appendVerdict(sameAxis: boolean, visible: boolean): AppendVerdict {
    if (!this.hasData || this.range !== null || this.pendingId !== null || !sameAxis) return 'ignore';
    if (!visible) {
      this.dirty = true;
      return 'later';
    }
    return 'apply';
  }

  /** After one run's append: re-query when its first points came, or it outgrew the buckets. */
  appendNeedsQuery(lengthBefore: number, incoming: number, lengthAfter: number): boolean {
    return (lengthBefore === 0 && incoming > 0) || lengthAfter > 2 * this.buckets;
  }

  /** Widens the domain to the appended points' last x. */
  extend(series: readonly { x: readonly number[] }[]): void {
    if (this.domain) this.domain = [this.domain[0], Math.max(this.domain[1], ...series.map((s) => s.x[s.x.length - 1] ?? -Infinity))];
  }

  /** Zoom/pan limits on x: the domain (null: chart.js's 'original'). */
  limits(axis: XAxis): { min: number; max: number; minRange: number } | null {
    return this.domain ? { min: this.domain[0], max: this.domain[1], minRange: axis === 'step' ? 2 : 50 } : null;
  }

  /** The plot resized to want `buckets`: true (and dirty) when that is much more than it has. */
  resized(buckets: number, visible: boolean): boolean {
    if (!this.hasData || !visible || !(buckets > this.buckets * 1.5)) return false;
    this.dirty = true;
    return true;
  }

  /** Zoom/pan settled on `view` (null: not zoomed). True when the range changed: query it. */
  settled(view: Range | null): boolean {
    let range: Range | null = view ? [view[0], view[1]] : null;
    const d = this.domain;
    if (range && d && range[0] <= d[0] && range[1] >= d[1]) range = null;
    const r = this.range;
    const same = range === null ? r === null
      : r !== null && Math.abs(range[0] - r[0]) < 1e-9 && Math.abs(range[1] - r[1]) < 1e-9;
    if (same) return false;
    this.range = range;
    return true;
  }
}
