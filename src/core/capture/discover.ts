/** Finding other tools' log files under a run's folders, cheaply and within bounds. */
import { type Dirent, closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { dvcLiveMetricKey, isDvcLiveHeader } from '../formats/dvclive.ts';
import { isEventFile } from './eventFiles.ts';

export type LogKind = 'tfevents' | 'csv' | 'dvclive' | 'dvcparams' | 'hf';

export interface FoundLog {
  path: string;
  kind: LogKind;
}

export const MAX_DEPTH = 6;
/** Folders never searched (besides hidden ones). */
const SKIP = new Set(['node_modules', '__pycache__', 'venv', 'site-packages', 'wandb', 'mlruns']);
/** Directory entries one scan looks at, at most; a huge data folder must not make scans slow. */
const MAX_ENTRIES = 50_000;

/** The kind of a file found while searching a folder, by its path; undefined for anything else. */
export function kindOf(path: string): LogKind | undefined {
  const name = basename(path);
  if (isEventFile(name)) return 'tfevents';
  if (name === 'metrics.csv') return 'csv';
  if (name === 'trainer_state.json') return 'hf';
  if (name.endsWith('.tsv') && dvcLiveMetricKey(path) !== undefined) {
    // DVCLive 0.x/1.x `scalars/`: a common folder name, so the header must be DVCLive's too.
    return path.replaceAll('\\', '/').includes('/plots/metrics/') || isDvcLiveHeader(firstLine(path)) ? 'dvclive' : undefined;
  }
  if (name === 'params.yaml' && basename(join(path, '..')) === 'dvclive') return 'dvcparams';
  return undefined;
}

/** The kind of a file named explicitly: any `*.csv` counts, as a CSV logger's file. */
export const explicitKindOf = (path: string): LogKind | undefined =>
  kindOf(path) ?? (path.toLowerCase().endsWith('.csv') ? 'csv' : undefined);

export interface Scan {
  found: FoundLog[];
  /** True when the entry limit cut the scan short. */
  truncated: boolean;
}

/**
 * Log files under the given roots: folders are searched MAX_DEPTH levels deep, skipping hidden
 * folders, node_modules, __pycache__ and virtualenvs, and never following symlinks. A root that
 * is a file is taken as it is (any CSV named so counts as a CSV logger's file).
 */
export function discover(roots: readonly string[]): Scan {
  const found = new Map<string, LogKind>();
  let entries = 0, truncated = false;
  const walk = (dir: string, depth: number) => {
    let list: Dirent[];
    try {
      list = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries += list.length;
    if (entries > MAX_ENTRIES) { truncated = true; return; }
    for (const e of list) {
      const path = join(dir, e.name);
      if (e.isFile()) {
        const kind = kindOf(path);
        if (kind) found.set(path, kind);
      } else if (e.isDirectory() && depth < MAX_DEPTH && !e.name.startsWith('.') && !SKIP.has(e.name)) {
        walk(path, depth + 1);
      }
    }
  };
  for (const root of roots) {
    let isDir: boolean;
    try {
      const s = statSync(root);
      if (s.isFile()) {
        const kind = explicitKindOf(root);
        if (kind) found.set(root, kind);
        continue;
      }
      isDir = s.isDirectory();
    } catch {
      continue;
    }
    if (isDir) walk(root, 0);
  }
  // A DVCLive folder with another name than dvclive: its params.yaml sits next to plots/.
  for (const [path, kind] of [...found]) {
    if (kind !== 'dvclive') continue;
    const at = path.replaceAll('\\', '/').lastIndexOf('/plots/metrics/');
    if (at < 0) continue; // DVCLive 0.x/1.x (scalars/) had no params.yaml
    const params = join(path.slice(0, at), 'params.yaml');
    if (!found.has(params) && isFile(params)) found.set(params, 'dvcparams');
  }
  return { found: [...found].map(([path, kind]) => ({ path, kind })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), truncated };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A file's first line (up to 4 KB), '' when it cannot be read. */
export function firstLine(path: string): string {
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const text = buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0));
      const nl = text.search(/\r?\n/);
      return nl < 0 ? '' : text.slice(0, nl);
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}
