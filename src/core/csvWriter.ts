/** The one CSV writer (RFC 4180), for the runs export and the chart's points. */

export type CsvCell = string | number | boolean | null | undefined;

/**
 * One cell. Text a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a
 * leading single quote, as OWASP advises; numbers never do (-0.5 stays a number). Quoted when it
 * holds a comma, quote or line break. null and undefined are empty.
 */
export function csvCell(v: CsvCell): string {
  if (v === null || v === undefined) return '';
  let s: string;
  if (typeof v === 'number') s = Number.isNaN(v) ? 'NaN' : String(v);
  else if (typeof v === 'boolean') s = v ? 'true' : 'false';
  else s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Rows as CSV text: cells joined by commas, each line ended by CRLF. */
export function csvText(rows: Iterable<readonly CsvCell[]>): string {
  let out = '';
  for (const row of rows) out += `${row.map(csvCell).join(',')}\r\n`;
  return out;
}
