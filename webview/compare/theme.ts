/**
 * The VS Code theme as chart colours. VS Code sets the --vscode-* variables on <html> and the
 * theme kind as a class on <body>; both change at runtime, so watch them and tell the listeners.
 */

export type ThemeKind = 'light' | 'dark' | 'hc' | 'hc-light';

export interface Theme {
  kind: ThemeKind;
  highContrast: boolean;
  foreground: string;
  muted: string;
  background: string;
  grid: string;
  axis: string;
  focus: string;
  hoverBackground: string;
  hoverBorder: string;
  selection: string;
  fontFamily: string;
  fontSize: number;
  /** Line width of a run's line. */
  lineWidth: number;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

export function themeKind(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'hc-light';
  if (c.contains('vscode-high-contrast')) return 'hc';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

export function readTheme(): Theme {
  const kind = themeKind();
  const light = kind === 'light' || kind === 'hc-light';
  const hc = kind === 'hc' || kind === 'hc-light';
  const s = getComputedStyle(document.body);
  const foreground = cssVar(s, '--vscode-foreground', light ? '#3b3b3b' : '#cccccc');
  const muted = cssVar(s, '--vscode-descriptionForeground', light ? '#717171' : '#9d9d9d');
  const border = cssVar(s, '--vscode-panel-border', light ? '#e5e5e5' : '#2b2b2b');
  const contrast = cssVar(s, '--vscode-contrastBorder', '');
  return {
    kind,
    highContrast: hc,
    foreground,
    muted,
    background: cssVar(s, '--vscode-editor-background', light ? '#ffffff' : '#1f1f1f'),
    grid: hc ? withAlpha(contrast || foreground, 0.35) : withAlpha(light ? '#000000' : '#ffffff', 0.07),
    axis: hc ? contrast || foreground : border,
    focus: cssVar(s, '--vscode-focusBorder', '#0078d4'),
    hoverBackground: cssVar(s, '--vscode-editorHoverWidget-background', light ? '#f8f8f8' : '#202020'),
    hoverBorder: cssVar(s, '--vscode-editorHoverWidget-border', light ? '#c8c8c8' : '#454545'),
    selection: withAlpha(cssVar(s, '--vscode-focusBorder', '#0078d4'), 0.15),
    fontFamily: cssVar(s, '--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: parseFloat(cssVar(s, '--vscode-font-size', '13px')) || 13,
    lineWidth: hc ? 2 : 1.5,
  };
}

let probe: CanvasRenderingContext2D | null = null;
const rgbCache = new Map<string, [number, number, number]>();

/** Any CSS colour as [r, g, b] (the canvas normalises it for us). */
export function toRgb(color: string): [number, number, number] {
  const hit = rgbCache.get(color);
  if (hit) return hit;
  probe ??= document.createElement('canvas').getContext('2d');
  let rgb: [number, number, number] = [128, 128, 128];
  if (probe) {
    probe.fillStyle = '#808080';
    probe.fillStyle = color;
    const n = String(probe.fillStyle);
    const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(n);
    if (m) rgb = [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
    else {
      const r = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)/.exec(n);
      if (r) rgb = [+r[1]!, +r[2]!, +r[3]!];
    }
  }
  rgbCache.set(color, rgb);
  return rgb;
}

const alphaCache = new Map<string, string>();

/** The colour with an alpha, as rgba(); cached, so it is free to call per draw. */
export function withAlpha(color: string, alpha: number): string {
  const k = `${color}|${alpha}`;
  let v = alphaCache.get(k);
  if (v === undefined) {
    const [r, g, b] = toRgb(color);
    v = `rgba(${r}, ${g}, ${b}, ${alpha})`;
    alphaCache.set(k, v);
  }
  return v;
}

/** Calls listener (debounced to a frame) whenever the theme kind or the variables change. */
export function watchTheme(listener: (t: Theme) => void): void {
  let scheduled = false;
  let lastKey = '';
  const fire = () => {
    scheduled = false;
    const t = readTheme();
    const key = JSON.stringify(t);
    if (key === lastKey) return;
    lastKey = key;
    listener(t);
  };
  lastKey = JSON.stringify(readTheme());
  const obs = new MutationObserver(() => {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(fire);
    }
  });
  obs.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
}
