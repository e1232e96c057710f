// Preview the Compare panel webview without VS Code: builds the bundles, serves dist/ and the
// exact page the host serves (same CSP), plus a fake host (acquireVsCodeApi) with synthetic runs,
// opens it in headless Chromium, waits for the charts, screenshots, and reports console errors
// and CSP violations (non-zero exit if any).
//
//   node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON test/harness/comparePreview.mjs \
//     [--runs 3] [--theme dark|light|hc|hc-light] [--tab charts|tables|across] [--out /tmp/x.png]
//     [--width 1400] [--height 900] [--dpr 1] [--steps N] [--state '{"smoothing":0.6}']
//     [--hover] [--zoom] [--switch-theme light] [--full] [--wait-ms 1500] [--serve] [--no-build]
//     [--scenario default|no-metrics] [--add-run-after MS] [--fail-key KEY]
//
// --serve keeps the server running (prints the URL) instead of launching Chromium.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { comparePage } from '../../src/core/compare/page.ts';
import { runColor } from '../../src/core/compare/colors.ts';
import { launchBrowser } from './browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    theme: { type: 'string', default: 'dark' },
    tab: { type: 'string', default: 'charts' },
    out: { type: 'string' },
    width: { type: 'string', default: '1400' },
    height: { type: 'string', default: '900' },
    dpr: { type: 'string', default: '1' },
    steps: { type: 'string' },
    state: { type: 'string' },
    hover: { type: 'boolean', default: false },
    zoom: { type: 'boolean', default: false },
    'switch-theme': { type: 'string' },
    full: { type: 'boolean', default: false },
    'wait-ms': { type: 'string', default: '1200' },
    serve: { type: 'boolean', default: false },
    scenario: { type: 'string', default: 'default' },
    'add-run-after': { type: 'string', default: '0' },
    'fail-key': { type: 'string', default: '' },
    'no-build': { type: 'boolean', default: false },
  },
});

const RUNS = Math.max(0, Number(opt.runs) || 0);
const STEPS = Number(opt.steps) || (RUNS > 10 ? 10_000 : 100_000);
const THEMES = { dark: 'vscode-dark', light: 'vscode-light', hc: 'vscode-high-contrast', 'hc-light': 'vscode-high-contrast-light' };
if (!THEMES[opt.theme]) throw new Error(`--theme must be one of ${Object.keys(THEMES).join(', ')}`);
const out = opt.out ?? `/tmp/compare-${opt.theme}-${RUNS}-${opt.tab}.png`;

// ── build ────────────────────────────────────────────────────────────────────
if (!opt['no-build']) {
  const b = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (b.status !== 0) {
    process.stderr.write(b.stdout + b.stderr);
    process.exit(1);
  }
}

// ── the theme: a subset of Dark Modern / Light Modern / High Contrast ──────────
const VARS = {
  common: {
    'font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
    'font-size': '13px',
    'font-weight': 'normal',
    'editor-font-family': '"Droid Sans Mono", "monospace", monospace',
  },
  'vscode-dark': {
    'editor-background': '#1f1f1f', foreground: '#cccccc', 'editor-foreground': '#cccccc', descriptionForeground: '#9d9d9d',
    'panel-border': '#2b2b2b', 'panel-background': '#181818', focusBorder: '#0078d4', contrastBorder: '',
    'editorWidget-background': '#202020', 'editorHoverWidget-background': '#202020', 'editorHoverWidget-border': '#454545',
    'editorHoverWidget-foreground': '#cccccc', 'widget-shadow': 'rgba(0, 0, 0, 0.36)', 'textLink-foreground': '#4daafc',
    'textLink-activeForeground': '#4daafc', 'button-background': '#0078d4', 'button-foreground': '#ffffff',
    'button-hoverBackground': '#026ec1', 'button-border': 'rgba(255, 255, 255, 0.07)', 'button-secondaryBackground': '#313131',
    'button-secondaryForeground': '#cccccc', 'input-background': '#313131', 'input-border': '#3c3c3c', 'input-foreground': '#cccccc',
    'input-placeholderForeground': '#989898', 'dropdown-background': '#313131', 'dropdown-border': '#3c3c3c',
    'dropdown-foreground': '#cccccc', 'dropdown-listBackground': '#1f1f1f', 'settings-dropdownBackground': '#313131',
    'settings-dropdownBorder': '#3c3c3c', 'settings-dropdownForeground': '#cccccc', 'settings-dropdownListBorder': '#454545',
    'settings-textInputBackground': '#313131', 'settings-textInputForeground': '#cccccc', 'settings-textInputBorder': '#3c3c3c',
    'settings-checkboxBackground': '#313131', 'settings-checkboxBorder': '#3c3c3c', 'settings-checkboxForeground': '#cccccc',
    'settings-headerBorder': '#2b2b2b', 'checkbox-background': '#313131', 'checkbox-border': '#3c3c3c', 'checkbox-foreground': '#cccccc',
    'list-hoverBackground': '#2a2d2e', 'list-hoverForeground': '#cccccc', 'list-activeSelectionBackground': '#04395e',
    'list-activeSelectionForeground': '#ffffff', 'list-focusOutline': '#0078d4', 'list-highlightForeground': '#2aaaff',
    'list-focusHighlightForeground': '#2aaaff', 'badge-background': '#616161', 'badge-foreground': '#f8f8f8',
    'activityBarBadge-background': '#0078d4', 'activityBarBadge-foreground': '#ffffff',
    'panelTitle-activeBorder': '#0078d4', 'panelTitle-activeForeground': '#cccccc', 'panelTitle-inactiveForeground': '#9d9d9d',
    'inputOption-activeBackground': 'rgba(36, 137, 219, 0.51)', 'inputOption-activeBorder': '#2488db', 'inputOption-activeForeground': '#ffffff',
    'toolbar-hoverBackground': 'rgba(90, 93, 94, 0.31)', 'scrollbarSlider-background': 'rgba(121, 121, 121, 0.4)',
    'scrollbarSlider-hoverBackground': 'rgba(100, 100, 100, 0.7)', 'diffEditor-insertedTextBackground': 'rgba(156, 204, 44, 0.2)',
    errorForeground: '#f85149', 'editorWarning-foreground': '#cca700', 'list-warningForeground': '#cca700', 'inputValidation-errorBackground': '#5a1d1d',
    'inputValidation-errorBorder': '#be1100', 'charts-foreground': '#cccccc', 'charts-lines': 'rgba(204, 204, 204, 0.5)',
    'charts-red': '#f14c4c', 'charts-blue': '#3794ff', 'charts-yellow': '#cca700', 'charts-orange': '#d18616',
    'charts-green': '#89d185', 'charts-purple': '#b180d7',
  },
  'vscode-light': {
    'editor-background': '#ffffff', foreground: '#3b3b3b', 'editor-foreground': '#3b3b3b', descriptionForeground: '#717171',
    'panel-border': '#e5e5e5', 'panel-background': '#f8f8f8', focusBorder: '#005fb8', contrastBorder: '',
    'editorWidget-background': '#f8f8f8', 'editorHoverWidget-background': '#f8f8f8', 'editorHoverWidget-border': '#c8c8c8',
    'editorHoverWidget-foreground': '#3b3b3b', 'widget-shadow': 'rgba(0, 0, 0, 0.16)', 'textLink-foreground': '#005fb8',
    'textLink-activeForeground': '#005fb8', 'button-background': '#005fb8', 'button-foreground': '#ffffff',
    'button-hoverBackground': '#0258a8', 'button-border': 'rgba(0, 0, 0, 0.1)', 'button-secondaryBackground': '#e5e5e5',
    'button-secondaryForeground': '#3b3b3b', 'input-background': '#ffffff', 'input-border': '#cecece', 'input-foreground': '#3b3b3b',
    'input-placeholderForeground': '#767676', 'dropdown-background': '#ffffff', 'dropdown-border': '#cecece',
    'dropdown-foreground': '#3b3b3b', 'dropdown-listBackground': '#ffffff', 'settings-dropdownBackground': '#ffffff',
    'settings-dropdownBorder': '#cecece', 'settings-dropdownForeground': '#3b3b3b', 'settings-dropdownListBorder': '#c8c8c8',
    'settings-textInputBackground': '#ffffff', 'settings-textInputForeground': '#3b3b3b', 'settings-textInputBorder': '#cecece',
    'settings-checkboxBackground': '#f8f8f8', 'settings-checkboxBorder': '#cecece', 'settings-checkboxForeground': '#3b3b3b',
    'settings-headerBorder': '#e5e5e5', 'checkbox-background': '#f8f8f8', 'checkbox-border': '#cecece', 'checkbox-foreground': '#3b3b3b',
    'list-hoverBackground': '#f2f2f2', 'list-hoverForeground': '#3b3b3b', 'list-activeSelectionBackground': '#e8e8e8',
    'list-activeSelectionForeground': '#000000', 'list-focusOutline': '#005fb8', 'list-highlightForeground': '#0066bf',
    'list-focusHighlightForeground': '#0066bf', 'badge-background': '#cccccc', 'badge-foreground': '#3b3b3b',
    'activityBarBadge-background': '#005fb8', 'activityBarBadge-foreground': '#ffffff',
    'panelTitle-activeBorder': '#005fb8', 'panelTitle-activeForeground': '#3b3b3b', 'panelTitle-inactiveForeground': '#3b3b3b',
    'inputOption-activeBackground': '#bed6ed', 'inputOption-activeBorder': '#005fb8', 'inputOption-activeForeground': '#000000',
    'toolbar-hoverBackground': 'rgba(184, 184, 184, 0.31)', 'scrollbarSlider-background': 'rgba(100, 100, 100, 0.4)',
    'scrollbarSlider-hoverBackground': 'rgba(100, 100, 100, 0.7)', 'diffEditor-insertedTextBackground': 'rgba(156, 204, 44, 0.25)',
    errorForeground: '#f85149', 'editorWarning-foreground': '#bf8803', 'list-warningForeground': '#855f00', 'inputValidation-errorBackground': '#f2dede',
    'inputValidation-errorBorder': '#be1100', 'charts-foreground': '#616161', 'charts-lines': 'rgba(97, 97, 97, 0.5)',
    'charts-red': '#e51400', 'charts-blue': '#1a85ff', 'charts-yellow': '#bf8803', 'charts-orange': '#d18616',
    'charts-green': '#388a34', 'charts-purple': '#652d90',
  },
  'vscode-high-contrast': {
    'editor-background': '#000000', foreground: '#ffffff', 'editor-foreground': '#ffffff', descriptionForeground: '#ffffff',
    'panel-border': '#6fc3df', 'panel-background': '#000000', focusBorder: '#f38518', contrastBorder: '#6fc3df',
    'editorWidget-background': '#0c141f', 'editorHoverWidget-background': '#0c141f', 'editorHoverWidget-border': '#6fc3df',
    'editorHoverWidget-foreground': '#ffffff', 'widget-shadow': 'transparent', 'textLink-foreground': '#21a6ff',
    'textLink-activeForeground': '#21a6ff', 'button-background': '#000000', 'button-foreground': '#ffffff', 'button-border': '#6fc3df',
    'input-background': '#000000', 'input-border': '#6fc3df', 'input-foreground': '#ffffff', 'dropdown-background': '#000000',
    'dropdown-border': '#6fc3df', 'dropdown-foreground': '#ffffff', 'settings-dropdownBackground': '#000000',
    'settings-dropdownBorder': '#6fc3df', 'settings-dropdownForeground': '#ffffff', 'settings-dropdownListBorder': '#6fc3df',
    'settings-textInputBackground': '#000000', 'settings-textInputForeground': '#ffffff', 'settings-textInputBorder': '#6fc3df',
    'settings-checkboxBackground': '#000000', 'settings-checkboxBorder': '#6fc3df', 'settings-checkboxForeground': '#ffffff',
    'settings-headerBorder': '#6fc3df', 'checkbox-background': '#000000', 'checkbox-border': '#6fc3df', 'checkbox-foreground': '#ffffff',
    'list-hoverBackground': 'transparent', 'list-focusOutline': '#f38518', 'badge-background': '#000000', 'badge-foreground': '#ffffff',
    'panelTitle-activeBorder': '#6fc3df', 'panelTitle-activeForeground': '#ffffff', 'panelTitle-inactiveForeground': '#ffffff',
    'inputOption-activeBackground': 'transparent', 'inputOption-activeBorder': '#6fc3df', 'inputOption-activeForeground': '#ffffff',
    'toolbar-hoverOutline': '#f38518', 'scrollbarSlider-background': 'rgba(111, 195, 223, 0.6)',
    'diffEditor-insertedTextBackground': 'rgba(138, 255, 0, 0.25)', errorForeground: '#f48771', 'editorWarning-foreground': '#ffd370',
    'charts-foreground': '#ffffff', 'charts-red': '#f14c4c', 'charts-blue': '#3794ff', 'charts-yellow': '#ffd370',
    'charts-orange': '#f38518', 'charts-green': '#89d185', 'charts-purple': '#b180d7',
  },
  'vscode-high-contrast-light': {
    'editor-background': '#ffffff', foreground: '#292929', 'editor-foreground': '#292929', descriptionForeground: '#292929',
    'panel-border': '#0f4a85', 'panel-background': '#ffffff', focusBorder: '#006bbd', contrastBorder: '#0f4a85',
    'editorHoverWidget-background': '#ffffff', 'editorHoverWidget-border': '#0f4a85', 'textLink-foreground': '#0f4a85',
    'button-background': '#0f4a85', 'button-foreground': '#ffffff', 'input-background': '#ffffff', 'input-border': '#0f4a85',
    'settings-dropdownBackground': '#ffffff', 'settings-dropdownBorder': '#0f4a85', 'settings-dropdownForeground': '#292929',
    'settings-textInputBackground': '#ffffff', 'settings-textInputForeground': '#292929', 'settings-textInputBorder': '#0f4a85',
    'settings-checkboxBackground': '#ffffff', 'settings-checkboxBorder': '#0f4a85', 'settings-checkboxForeground': '#292929',
    'settings-headerBorder': '#0f4a85', 'panelTitle-activeBorder': '#b5200d', 'panelTitle-activeForeground': '#292929',
    'panelTitle-inactiveForeground': '#292929', 'diffEditor-insertedTextBackground': 'rgba(156, 204, 44, 0.4)',
    errorForeground: '#b5200d', 'editorWarning-foreground': '#895503', 'charts-green': '#374e06', 'charts-orange': '#b5200d',
    'charts-blue': '#0f4a85', 'charts-yellow': '#895503', 'charts-red': '#b5200d',
  },
};

function themeCss() {
  const decls = (o) => Object.entries(o).filter(([, v]) => v !== '').map(([k, v]) => `  --vscode-${k}: ${v};`).join('\n');
  const blocks = [`:root {\n${decls(VARS.common)}\n}`];
  for (const cls of Object.values(THEMES)) {
    // VS Code puts the variables on <html>: do the same, keyed by the body class.
    blocks.push(`html:has(> body.${cls}) {\n${decls(VARS[cls])}\n}`);
  }
  blocks.push('html { background: var(--vscode-editor-background); }');
  return blocks.join('\n\n');
}

// ── the fake host (runs in the page, before the webview bundle) ───────────────
function fakeHostSource(config) {
  return `(() => {
const CONFIG = ${JSON.stringify(config)};
${fakeHostBody.toString()}
fakeHostBody(CONFIG);
})();`;
}

/* eslint-disable */
function fakeHostBody(CONFIG) {
  const N = CONFIG.runs;
  const STEPS = CONFIG.steps;
  const BASE = Date.UTC(2026, 10, 20, 9, 0, 0);
  const log = (window.__hostLog = []);
  let state = CONFIG.state;

  function mulberry32(a) {
    return function () {
      a |= 0; a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const ADJ = ['brave', 'calm', 'eager', 'fuzzy', 'gentle', 'happy', 'jolly', 'keen', 'lively', 'merry', 'nimble', 'proud', 'quiet', 'rapid', 'sunny', 'witty'];
  const NOUN = ['lion', 'otter', 'falcon', 'panda', 'tiger', 'heron', 'badger', 'koala', 'lynx', 'raven', 'walrus', 'yak'];
  const LRS = [1e-3, 3e-4, 1e-4, 3e-3, 5e-4];
  const BS = [64, 32, 128];
  const OPT = ['adam', 'sgd', 'adamw'];
  const hex = (rnd, n) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');

  // ── runs ──
  const runs = [];
  for (let i = 0; i < N; i++) {
    const rnd = mulberry32(1000 + i);
    const id = i + 1;
    const running = i === N - 1;
    let status = 'finished';
    if (running) status = 'running';
    else if (N >= 3 && i === 1) status = 'failed';
    else if (N > 10 && i % 17 === 5) status = 'stopped';
    else if (N > 10 && i % 23 === 7) status = 'crashed';
    else if (N > 10 && i === N - 2) status = 'queued';
    const full = status === 'failed' ? Math.round(STEPS * 0.62) : status === 'queued' ? 0 : Math.round(STEPS * (0.8 + 0.2 * rnd()));
    const msPerStep = 35 + Math.round(rnd() * 30);
    runs.push({
      id, uid: 'uid-' + id.toString(36).padStart(6, '0') + hex(rnd, 6),
      name: N <= 5 ? ['baseline', 'lr-sweep-3e-4', 'bs128-adamw', 'dropout-0.2', 'wd-1e-2'][i] : `${ADJ[i % ADJ.length]}-${NOUN[(i * 7) % NOUN.length]}-${id}`,
      experiment: 'cifar10', status, color: CONFIG.colors[i],
      startedAt: status === 'queued' ? null : BASE + i * 23 * 60_000,
      endedAt: null, starred: i === 0,
      // synthetic-only fields
      full, len: running ? Math.round(full * 0.55) : full, msPerStep,
      lr: LRS[i % LRS.length], bs: BS[i % BS.length], opt: OPT[i % OPT.length], seed: 1 + (i % 4), difficulty: 0.8 + 0.4 * rnd(),
    });
  }
  for (const r of runs) if (r.status !== 'running' && r.startedAt !== null) r.endedAt = r.startedAt + r.len * r.msPerStep;

  // ── metrics: logged steps + values, generated lazily ──
  const KEYS = ['grad_norm', 'lr', 'train_loss', 'val_acc', 'val_f1', 'val_loss'];
  const EVERY = { train_loss: 1, lr: 1, grad_norm: 10, val_loss: 500, val_acc: 500, val_f1: 1000 };
  const cache = new Map();
  function hasKey(r, key) { return key !== 'val_f1' || r.id % 2 === 1; }
  function curve(r, step) {
    const speed = Math.min(3, (r.lr / 3e-4) ** 0.5) / r.difficulty;
    return 2.3 * Math.exp(-(step / STEPS) * 6 * speed) + 0.18 * r.difficulty + 0.05 * (r.bs / 64);
  }
  function series(r, key) {
    const k = r.id + ':' + key;
    let s = cache.get(k);
    if (s) return s;
    const every = EVERY[key];
    const n = Math.floor(r.full / every);
    const steps = new Int32Array(n);
    const vals = new Float64Array(n);
    const rnd = mulberry32(r.id * 7919 + key.length * 131);
    const gauss = () => (rnd() + rnd() + rnd() - 1.5) * 1.2;
    for (let j = 0; j < n; j++) {
      const step = (j + 1) * every;
      steps[j] = step;
      let v;
      const c = curve(r, step);
      switch (key) {
        case 'train_loss': v = c * (1 + 0.09 * gauss()); break;
        case 'val_loss': v = c * 1.08 + 0.03 + 0.015 * gauss(); break;
        case 'val_acc': v = Math.max(0, Math.min(1, 1 - c / 2.6 + 0.01 * gauss())); break;
        case 'val_f1': v = Math.max(0, Math.min(1, 0.95 - c / 2.8 + 0.012 * gauss())); break;
        case 'lr': {
          const warm = r.full * 0.02;
          v = step < warm ? r.lr * step / warm : r.lr * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, (step - warm) / (r.full - warm))));
          break;
        }
        case 'grad_norm': v = Math.exp(0.35 * gauss()) * (0.6 + c); if (rnd() < 0.002) v = NaN; break;
      }
      vals[j] = v;
    }
    // The spike: one step among all of them, in run 1's train_loss.
    if (key === 'train_loss' && r.id === 1 && n > 10) vals[Math.floor(n * 0.7342)] = 40;
    s = { steps, vals };
    cache.set(k, s);
    return s;
  }
  function visibleCount(r, key) {
    const s = series(r, key);
    let lo = 0, hi = s.steps.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (s.steps[m] <= r.len) lo = m + 1; else hi = m; }
    return lo;
  }
  function xOf(r, axis, step) {
    if (axis === 'step') return step;
    if (axis === 'relative') return step * r.msPerStep;
    return r.startedAt + step * r.msPerStep;
  }
  function stepOf(r, axis, x) {
    if (axis === 'step') return x;
    if (axis === 'relative') return x / r.msPerStep;
    return (x - r.startedAt) / r.msPerStep;
  }
  function domain(key, axis) {
    let lo = Infinity, hi = -Infinity;
    for (const r of runs) {
      if (!hasKey(r, key) || r.startedAt === null) continue;
      const n = visibleCount(r, key);
      if (!n) continue;
      const s = series(r, key);
      lo = Math.min(lo, xOf(r, axis, s.steps[0]));
      hi = Math.max(hi, xOf(r, axis, s.steps[n - 1]));
    }
    return lo <= hi ? [lo, hi] : null;
  }
  function downsample(key, axis, range, buckets) {
    const d = domain(key, axis);
    const out = [];
    if (!d) return { domain: null, series: out };
    const [lo, hi] = range ?? d;
    const width = Math.max(hi - lo, 1e-9);
    for (const r of runs) {
      if (!hasKey(r, key) || r.startedAt === null) continue;
      const s = series(r, key);
      const n = visibleCount(r, key);
      const x = [], last = [], min = [], max = [], count = [];
      let cur = -1;
      for (let j = 0; j < n; j++) {
        const xv = xOf(r, axis, s.steps[j]);
        if (xv < lo || xv > hi) continue;
        const b = Math.min(buckets - 1, Math.floor(((xv - lo) / width) * buckets));
        const v = s.vals[j];
        const fv = Number.isFinite(v) ? v : null;
        if (b !== cur) {
          cur = b;
          x.push(xv); last.push(fv); min.push(fv); max.push(fv); count.push(1);
        } else {
          const k = x.length - 1;
          x[k] = xv; last[k] = fv; count[k]++;
          if (fv !== null) {
            if (min[k] === null || fv < min[k]) min[k] = fv;
            if (max[k] === null || fv > max[k]) max[k] = fv;
          }
        }
      }
      out.push({ runId: r.id, x, last, min, max, count });
    }
    return { domain: d, series: out };
  }

  // ── the model ──
  function model() {
    const shown = runs.map(({ full, len, msPerStep, lr, bs, opt, seed, difficulty, ...run }) => run);
    const noMetrics = CONFIG.scenario === 'no-metrics';
    const keys = noMetrics ? [] : KEYS.filter((k) => runs.some((r) => hasKey(r, k)));
    const bestStep = runs.map((r) => {
      const n = noMetrics ? 0 : visibleCount(r, 'val_loss');
      if (!n) return null;
      const s = series(r, 'val_loss');
      let b = 0;
      for (let j = 1; j < n; j++) if (s.vals[j] < s.vals[b]) b = j;
      return s.steps[b];
    });
    const metrics = keys.map((key) => {
      const row = { key, last: [], min: [], max: [], atBest: [], count: [] };
      runs.forEach((r, i) => {
        const n = hasKey(r, key) ? visibleCount(r, key) : 0;
        const s = n ? series(r, key) : null;
        let mn = Infinity, mx = -Infinity, last = null, at = null;
        for (let j = 0; j < n; j++) {
          const v = s.vals[j];
          if (!Number.isFinite(v)) continue;
          mn = Math.min(mn, v); mx = Math.max(mx, v); last = v;
          if (bestStep[i] !== null && s.steps[j] <= bestStep[i]) at = v;
        }
        row.last.push(last); row.min.push(n && mn !== Infinity ? mn : null); row.max.push(n && mx !== -Infinity ? mx : null);
        row.atBest.push(at); row.count.push(n);
      });
      return row;
    });
    const params = [
      { key: 'batch_size', values: runs.map((r) => r.bs) },
      { key: 'dropout', values: runs.map((r, i) => (i === 3 ? 0.2 : 0.1)) },
      { key: 'epochs', values: runs.map(() => 10) },
      { key: 'lr', values: runs.map((r) => r.lr) },
      { key: 'model', values: runs.map(() => 'resnet18') },
      { key: 'optimizer', values: runs.map((r) => r.opt) },
      { key: 'seed', values: runs.map((r) => r.seed) },
      { key: 'use_amp', values: runs.map(() => true) },
      { key: 'warmup', values: runs.map((r, i) => (i === 0 ? null : 0.02)) },
    ];
    const provenance = runs.map((r, i) => {
      const rnd = mulberry32(5000 + (i < 2 ? 0 : i));
      return {
        commit: hex(rnd, 40), branch: i === 0 ? 'main' : 'exp/sweep', dirty: i === 1, hasPatch: i === 1,
        interpreter: '/home/dev/cifar/.venv/bin/python3.11',
        durationMs: r.startedAt === null ? null : r.len * r.msPerStep,
        datasets: [
          { path: 'data/train.csv', digest: 'sha256:9f2c4e1a7b3d5f60c1e2a9b8d7c6f5e4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8' },
          { path: 'data/val.csv', digest: i === N - 1 ? 'sha256:77aa01c3e5b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4' : 'sha256:3c1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d',
            ...(i === N - 1 && N > 1 ? { changed: ['val/part-003.csv', 'val/labels.json'] } : {}) },
        ],
        alerts: i === 1 ? [{ rule: 'nan', key: 'train/loss', step: 1200, message: 'train/loss is NaN at step 1200' }] : [],
        alertCount: i === 1 ? 1 : 0,
      };
    });
    return { runs: shown, keys, primary: noMetrics ? null : { key: 'val_loss', goal: 'min', configured: false }, bestStep, params, metrics, provenance };
  }

  // ── the API ──
  const send = (m) => window.postMessage(m, '*');
  const live = new Set();
  const sent = new Map(); // key|axis → run length already sent
  function handle(m) {
    if (m.type === 'exportPng') window.__lastPng = m.dataUrl;
    log.push(m.type === 'exportPng' ? { type: 'exportPng', key: m.key, bytes: m.dataUrl.length } : m);
    switch (m.type) {
      case 'ready':
        setTimeout(() => send({ type: 'model', model: model() }), 30);
        break;
      case 'query': {
        if (m.key === CONFIG.failKey) {
          setTimeout(() => send({ type: 'error', requestId: m.requestId, message: 'the store is busy (simulated)' }), 20);
          break;
        }
        const t0 = performance.now();
        const { domain: d, series: s } = downsample(m.key, m.axis, m.range, m.buckets);
        const ms = performance.now() - t0;
        if (m.range === null) {
          live.add(m.key + '|' + m.axis);
          sent.set(m.key + '|' + m.axis, runs[N - 1] ? runs[N - 1].len : 0);
        }
        setTimeout(() => send({ type: 'series', requestId: m.requestId, key: m.key, axis: m.axis, range: m.range, domain: d, series: s }), 20 + Math.min(200, ms));
        break;
      }
    }
  }
  // Live: the running run logs 40 more steps every 500 ms.
  const running = runs.find((r) => r.status === 'running');
  if (running) {
    setInterval(() => {
      const before = running.len;
      running.len = Math.min(running.full, running.len + 40);
      if (running.len === before) return;
      for (const ka of live) {
        const [key, axis] = ka.split('|');
        if (!hasKey(running, key)) continue;
        const from = sent.get(ka) ?? before;
        const s = series(running, key);
        const x = [], last = [], min = [], max = [], count = [];
        for (let j = 0; j < s.steps.length; j++) {
          const st = s.steps[j];
          if (st <= from || st > running.len) continue;
          const v = Number.isFinite(s.vals[j]) ? s.vals[j] : null;
          x.push(xOf(running, axis, st)); last.push(v); min.push(v); max.push(v); count.push(1);
        }
        sent.set(ka, running.len);
        if (x.length) send({ type: 'append', key, axis, series: [{ runId: running.id, x, last, min, max, count }] });
      }
    }, 500);
  }
  if (CONFIG.addRunAfterMs) {
    setTimeout(() => {
      const i = runs.length;
      const base = runs[0];
      runs.push({ ...base, id: i + 1, uid: 'uid-new-' + i, name: 'late-arrival', status: 'finished', color: CONFIG.colors[i] ?? '#888', starred: false, lr: 2e-3, difficulty: 1.1 });
      for (const r of runs) if (r.status === 'running') r.status = 'finished';
      send({ type: 'model', model: model() });
    }, CONFIG.addRunAfterMs);
  }

  window.acquireVsCodeApi = () => ({
    postMessage: (m) => setTimeout(() => handle(JSON.parse(JSON.stringify(m))), 0),
    getState: () => state,
    setState: (s) => { state = s; window.__viewState = s; },
  });
  window.__fakeHost = { runs, model, downsample, stepOf };
}
/* eslint-enable */

// ── the server ──────────────────────────────────────────────────────────────
const MIME = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.txt': 'text/plain', '.png': 'image/png' };
const nonce = randomBytes(16).toString('base64url');
const initialState = opt.state ? JSON.parse(opt.state) : undefined;
const config = {
  runs: RUNS,
  steps: STEPS,
  colors: Array.from({ length: RUNS + 5 }, (_, i) => runColor(i + 1)),
  state: initialState,
  addRunAfterMs: Number(opt['add-run-after']) || 0,
  scenario: opt.scenario,
  failKey: opt['fail-key'],
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  try {
    if (url.pathname === '/') {
      const origin = `http://${req.headers.host}`;
      let html = comparePage({ cspSource: origin, nonce, script: `${origin}/dist/webview/compare.js`, style: `${origin}/dist/webview/compare.css` });
      html = html
        .replace('<body>', `<body class="${THEMES[opt.theme]}" data-vscode-theme-kind="${THEMES[opt.theme]}">`)
        .replace('</head>', `<link rel="stylesheet" href="${origin}/harness/theme.css">\n</head>`)
        .replace(`<script nonce="${nonce}"`, `<script nonce="${nonce}" src="${origin}/harness/fakeHost.js"></script>\n<script nonce="${nonce}"`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(html);
    }
    if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
    if (url.pathname === '/harness/theme.css') {
      res.writeHead(200, { 'content-type': 'text/css' });
      return res.end(themeCss());
    }
    if (url.pathname === '/harness/fakeHost.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(fakeHostSource(config));
    }
    if (url.pathname.startsWith('/dist/')) {
      const file = join(ROOT, url.pathname);
      if (!file.startsWith(join(ROOT, 'dist'))) throw new Error('outside dist');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
      return res.end(body);
    }
    res.writeHead(404).end();
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

if (opt.serve) {
  console.log(`Compare preview at ${origin}/ (Ctrl+C to stop)`);
} else {
  await shoot();
}

async function shoot() {
  const errors = [];
  const browser = await launchBrowser();
  let code = 0;
  try {
    const context = await browser.newContext({
      viewport: { width: Number(opt.width), height: Number(opt.height) },
      deviceScaleFactor: Number(opt.dpr) || 1,
      colorScheme: opt.theme.includes('light') ? 'light' : 'dark',
    });
    const page = await context.newPage();
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`[csp] ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber} ${e.sample || ''}`);
      });
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`[console.${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`[pageerror] ${e.stack || e.message}`));
    page.on('requestfailed', (r) => errors.push(`[requestfailed] ${r.url()} ${r.failure()?.errorText ?? ''}`));

    const t0 = Date.now();
    await page.goto(`${origin}/`, { waitUntil: 'load' });
    await page.waitForSelector('#app[aria-busy="false"]', { timeout: 20_000 });
    const waitCharts = () => page.waitForFunction(() => {
      const cards = [...document.querySelectorAll('.chart-card')].filter((c) => {
        if (c.hidden || !c.offsetParent) return false;
        const r = c.getBoundingClientRect();
        return r.bottom > 0 && r.top < innerHeight;
      });
      return cards.length > 0 && cards.every((c) => c.dataset.ready === 'true' || c.dataset.error === 'true');
    }, null, { timeout: 30_000 });
    if (RUNS > 0 && opt.tab === 'charts' && opt.scenario !== 'no-metrics') await waitCharts();
    const readyMs = Date.now() - t0;

    if (opt.tab !== 'charts') {
      await page.click(`#tab-${opt.tab}`);
      await page.waitForTimeout(300);
    }
    if (opt.zoom && opt.tab === 'charts') {
      // Drag-zoom the first chart on its middle third, then wait for the re-query.
      const box = await page.locator('.chart-card canvas').first().boundingBox();
      await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.5);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5, { steps: 6 });
      await page.mouse.up();
      await page.waitForTimeout(600);
    }
    if (opt.hover && opt.tab === 'charts') {
      const box = await page.locator('.chart-card canvas').first().boundingBox();
      await page.mouse.move(box.x + box.width * 0.72, box.y + box.height * 0.45);
      await page.waitForTimeout(150);
      await page.mouse.move(box.x + box.width * 0.735, box.y + box.height * 0.5);
    }
    // The chart options (smoothing, x axis, log y) show on the charts tab only.
    const chartTools = await page.evaluate(() => ['#smoothing', '#x-axis', '#log-y'].map((s) => {
      const el = document.querySelector(s);
      return !!el && el.getClientRects().length > 0;
    }));
    if (chartTools.some((v) => v !== (opt.tab === 'charts'))) {
      errors.push(`[harness] chart toolbar visibility on the ${opt.tab} tab: ${JSON.stringify(chartTools)}`);
    }
    await page.waitForTimeout(Number(opt['wait-ms']));
    await page.screenshot({ path: out, fullPage: opt.full });
    console.log(`screenshot ${out} (charts ready in ${readyMs} ms)`);

    if (opt['switch-theme']) {
      const cls = THEMES[opt['switch-theme']];
      await page.evaluate((c) => {
        document.body.className = c;
        document.body.dataset.vscodeThemeKind = c;
      }, cls);
      await page.waitForTimeout(400);
      const out2 = out.replace(/\.png$/, `-to-${opt['switch-theme']}.png`);
      await page.screenshot({ path: out2, fullPage: opt.full });
      console.log(`screenshot ${out2} (after switching the theme)`);
    }

    const summary = await page.evaluate(() => {
      const counts = {};
      for (const m of window.__hostLog ?? []) counts[m.type] = (counts[m.type] ?? 0) + 1;
      const queries = (window.__hostLog ?? []).filter((m) => m.type === 'query');
      return {
        posted: counts,
        buckets: [...new Set(queries.map((q) => q.buckets))],
        charts: document.querySelectorAll('.chart-card').length,
        ready: document.querySelectorAll('.chart-card[data-ready="true"]').length,
        state: window.__viewState ?? null,
      };
    });
    console.log(`webview posted ${JSON.stringify(summary.posted)}; buckets ${JSON.stringify(summary.buckets)}; charts ${summary.ready}/${summary.charts} ready`);
    console.log(`state ${JSON.stringify(summary.state)}`);
  } catch (err) {
    errors.push(`[harness] ${err.stack || err}`);
  } finally {
    await browser.close();
    server.close();
  }
  if (errors.length) {
    console.error(`${errors.length} error(s):\n${errors.join('\n')}`);
    code = 1;
  }
  process.exit(code);
}
