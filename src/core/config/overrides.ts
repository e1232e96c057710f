import type { ParamValue } from '../types.ts';

/**
 * Parses what a user types for overrides: `lr=0.1 train.epochs=5 name="two words"`.
 * Values are typed like YAML scalars (number, true/false, else string).
 */
export function parseOverrides(text: string): { [key: string]: ParamValue } {
  const out: { [key: string]: ParamValue } = {};
  const re = /\s*([A-Za-z_][\w.-]*)\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*'|\S+)/y;
  let pos = 0;
  const rest = () => text.slice(pos).trim();
  while (rest()) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new Error(`Overrides are key=value pairs, like lr=0.01 train.epochs=5; could not read "${rest().slice(0, 40)}"`);
    out[m[1]!] = scalar(m[2]!);
    pos = re.lastIndex;
  }
  return out;
}

function scalar(raw: string): ParamValue {
  if (/^".*"$/s.test(raw)) return JSON.parse(raw) as string;
  if (/^'.*'$/s.test(raw)) return raw.slice(1, -1);
  if (raw === 'true' || raw === 'false') return raw === 'true';
  const n = Number(raw);
  return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
}

/**
 * The command-line arguments that carry overrides, in the style the program reads:
 * argparse `--train.lr 0.1` uses the last key part (`--lr 0.1`), Hydra `train.lr=0.1` the full key.
 */
export function overrideArgs(style: 'argparse' | 'hydra', overrides: { [key: string]: ParamValue }): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    const v = String(value);
    if (style === 'hydra') args.push(`${key}=${v}`);
    else args.push(`--${key.split('.').pop()!.replace(/_/g, '-')}`, v);
  }
  return args;
}

/** Applies overrides to flattened params (what the run records). */
export function applyOverrides(params: { [k: string]: ParamValue }, overrides: { [k: string]: ParamValue }): { [k: string]: ParamValue } {
  return { ...params, ...overrides };
}
