import type { ParamMap } from './match.ts';

/** The `hparams:` section of runlens.yaml. */
export interface HparamsConfig {
  /** Name in code → recorded key, for names matching cannot guess (`LR: train.lr`). */
  map: ParamMap;
  /** Functions whose keyword defaults are params. */
  entryPoints: string[];
  /**
   * Config files (globs, relative to runlens.yaml) that get lenses, besides every run's `params`
   * files; `prefix` is put before their keys (a Hydra config group).
   */
  files: { path: string; prefix?: string }[];
}

const KEYS = ['map', 'entry_points', 'files'];

/** Reads the (already YAML-parsed) `hparams:` section. Problems are returned, never thrown. */
export function parseHparamsConfig(section: unknown): { config: HparamsConfig; problems: { path: string[]; message: string }[] } {
  const config: HparamsConfig = { map: {}, entryPoints: [], files: [] };
  const problems: { path: string[]; message: string }[] = [];
  if (section === null || section === undefined) return { config, problems };
  if (typeof section !== 'object' || Array.isArray(section)) {
    problems.push({ path: [], message: '`hparams` must be a mapping with map, entry_points or files' });
    return { config, problems };
  }
  const s = section as { [k: string]: unknown };
  for (const k of Object.keys(s)) if (!KEYS.includes(k)) problems.push({ path: [k], message: `unknown key \`${k}\`; expected one of ${KEYS.join(', ')}` });
  const { map, entry_points: entryPoints, files } = s;
  if (map !== undefined) {
    if (map !== null && typeof map === 'object' && !Array.isArray(map) && Object.values(map).every((v) => typeof v === 'string' && v.trim())) {
      config.map = Object.fromEntries(Object.entries(map as { [k: string]: string }).map(([k, v]) => [k, v.trim()]));
    } else problems.push({ path: ['map'], message: '`map` must map names in code to recorded param keys, like LR: train.lr' });
  }
  if (entryPoints !== undefined) {
    const list = typeof entryPoints === 'string' ? [entryPoints] : entryPoints;
    if (Array.isArray(list) && list.every((e) => typeof e === 'string' && /^[A-Za-z_]\w*$/.test(e))) config.entryPoints = list as string[];
    else problems.push({ path: ['entry_points'], message: '`entry_points` must be a list of function names' });
  }
  if (files !== undefined) {
    for (const [i, f] of (Array.isArray(files) ? files : [files]).entries()) {
      const o = f as { path?: unknown; prefix?: unknown } | null;
      if (typeof f === 'string' && f.trim()) config.files.push({ path: f.trim() });
      else if (o && typeof o === 'object' && typeof o.path === 'string' && (o.prefix === undefined || typeof o.prefix === 'string')) {
        config.files.push(o.prefix ? { path: o.path, prefix: o.prefix } : { path: o.path });
      } else problems.push({ path: ['files', String(i)], message: '`files` entries are paths (globs) or { path, prefix }' });
    }
  }
  return { config, problems };
}
