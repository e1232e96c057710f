import { nameResolver } from '../query/resolveName.ts';

/** Explicit found name → recorded key, from runlens.yaml (`hparams: { map: { LR: train.lr } }`). */
export type ParamMap = { readonly [foundName: string]: string };

/**
 * Finds the recorded key a name in code stands for: the explicit map; else the shared name rule
 * (resolveName.ts: exact, case and `_ - .` ignored, unique dotted suffix); else, for a config
 * nested deeper than the recorded keys, the longest tail of the name that is a key by the rule's
 * first two steps (`cfg.train.lr` → `train.lr`). Ambiguous or unknown names give undefined.
 */
export function makeMatcher(recordedKeys: readonly string[], map: ParamMap = {}): (name: string) => string | undefined {
  const resolve = nameResolver(recordedKeys);
  return (name) => {
    if (Object.hasOwn(map, name)) return map[name];
    const match = resolve(name);
    if (match.kind !== 'none') return match.kind === 'found' ? match.key : undefined;
    for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
      const tail = resolve(name.slice(dot + 1), { suffix: false });
      if (tail.kind !== 'none') return tail.kind === 'found' ? tail.key : undefined;
    }
    return undefined;
  };
}

/** One-off form of makeMatcher. */
export function matchParam(name: string, recordedKeys: readonly string[], map?: ParamMap): string | undefined {
  return makeMatcher(recordedKeys, map)(name);
}
