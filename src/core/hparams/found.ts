import type { ParamValue } from '../types.ts';

/** Offsets into a document's text, end exclusive. */
export interface Span {
  start: number;
  end: number;
}

/** A hyperparameter found in code or in a config file. */
export interface FoundParam {
  /** As written: 'LR', 'lr', 'model.dropout'. */
  name: string;
  /** The key to match against recorded params: the argparse dest, the dotted path, else the name. */
  key: string;
  /** Offsets of the name (for a dict or config key: the key text without quotes). */
  range: Span;
  valueRange?: Span;
  /** The literal value here, when it is a literal. */
  value?: ParamValue;
  valueText?: string;
  kind: 'constant' | 'argparse' | 'dict' | 'dataclass' | 'kwarg' | 'config';
  /** 0-based line of the name. */
  line: number;
}

/** Offsets where each line starts. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The 0-based line holding `offset`. */
export function lineAt(starts: readonly number[], offset: number): number {
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
