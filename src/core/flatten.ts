import type { ParamValue } from './types.ts';

/**
 * Nested params as one flat map with dotted keys (`model.depth`). Numbers, strings and booleans
 * stay as they are, bigints become numbers, anything else (lists, dates) becomes JSON text; null
 * and undefined are left out. Writes into `out`, later keys winning, and returns it.
 */
export function flatten(value: unknown, out: { [key: string]: ParamValue } = {}, prefix = ''): { [key: string]: ParamValue } {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) flatten(v, out, prefix ? `${prefix}.${k}` : k);
  } else if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    out[prefix] = value;
  } else if (typeof value === 'bigint') {
    out[prefix] = Number(value);
  } else if (value !== null && value !== undefined) {
    out[prefix] = JSON.stringify(value);
  }
  return out;
}
