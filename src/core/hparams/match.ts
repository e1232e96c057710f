/** Explicit found name → recorded key, from runlens.yaml (`hparams: { map: { LR: train.lr } }`). */
export type ParamMap = { readonly [foundName: string]: string };

const norm = (s: string) => s.toLowerCase().replace(/-/g, '_');

/**
 * Finds the recorded key a name in code stands for, in this order: the explicit map; the same key;
 * the same key ignoring case (dashes and underscores alike); the one recorded key ending in
 * `.name` (`lr` → `train.lr`); the recorded key the name ends with (`train.lr` → `lr`, longest
 * first). Ambiguous or unknown names give undefined.
 */
export function makeMatcher(recordedKeys: readonly string[], map: ParamMap = {}): (name: string) => string | undefined {
  const exact = new Set(recordedKeys);
  const loose = new Map<string, string | null>();
  const suffix = new Map<string, string | null>();
  const put = (m: Map<string, string | null>, k: string, key: string) => m.set(k, m.has(k) && m.get(k) !== key ? null : key);
  for (const key of recordedKeys) {
    const n = norm(key);
    put(loose, n, key);
    for (let dot = n.indexOf('.'); dot >= 0; dot = n.indexOf('.', dot + 1)) put(suffix, n.slice(dot + 1), key);
  }
  return (name) => {
    if (Object.hasOwn(map, name)) return map[name];
    if (exact.has(name)) return name;
    const n = norm(name);
    if (loose.has(n)) return loose.get(n) ?? undefined;
    if (suffix.has(n)) return suffix.get(n) ?? undefined;
    for (let dot = n.indexOf('.'); dot >= 0; dot = n.indexOf('.', dot + 1)) {
      const tail = n.slice(dot + 1);
      if (loose.has(tail)) return loose.get(tail) ?? undefined;
    }
    return undefined;
  };
}

/** One-off form of makeMatcher. */
export function matchParam(name: string, recordedKeys: readonly string[], map?: ParamMap): string | undefined {
  return makeMatcher(recordedKeys, map)(name);
}
