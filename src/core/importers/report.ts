/** What an import did, and the options every importer takes. */
import type { ParamValue } from '../types.ts';

export interface ImportOptions {
  /** Checked between runs (and between slices of big files): an aborted import stops there. */
  signal?: AbortSignal;
  /** Called after each run with how many are done. */
  onProgress?(done: number, total: number): void;
  /** The task worker's script (taskScript): a TensorBoard import reads big event files in a worker of it. */
  script?: string | URL;
}

export interface ImportReport {
  /** Runs created. */
  runs: number;
  /** Runs already imported and brought up to date (a re-import of an unchanged source only counts these). */
  unchanged: number;
  /** Runs imported before that got new points or a new status. */
  updated: number;
  points: number;
  /** Model versions registered. */
  models: number;
  /** What was left out, and why; everything else was imported. */
  skipped: { what: string; why: string }[];
  /** True when options.signal stopped the import before the end. */
  cancelled: boolean;
}

export const emptyReport = (): ImportReport => ({ runs: 0, unchanged: 0, updated: 0, points: 0, models: 0, skipped: [], cancelled: false });

/** A reader's problem ("<path>: <why>") as a skipped entry. */
export function skippedFrom(problem: string): { what: string; why: string } {
  const at = problem.indexOf(': ');
  return at > 0 ? { what: problem.slice(0, at), why: problem.slice(at + 2) } : { what: 'source', why: problem };
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** An MLflow param (always text) as RunLens keeps it: numbers and Python booleans become typed. */
export function paramValue(text: string): ParamValue {
  const s = text.trim();
  if (NUMBER.test(s) && !/^[+-]?0\d/.test(s)) { // "007" is a name, not 7
    const n = Number(s);
    if (Number.isFinite(n)) return n;
  }
  if (s === 'True' || s === 'true') return true;
  if (s === 'False' || s === 'false') return false;
  return text;
}

/** Lets the editor breathe between pieces of a long import. */
export const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));
