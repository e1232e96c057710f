/**
 * The Compare panel webview. Boot: restore the view state, say `ready`, build the page on the
 * first `model`, then keep everything in place as models, series and appends arrive.
 */
import './style.css';
import type { CompareModel, HostMessage } from '../../src/core/compare/protocol.ts';
import { applyModelDelta } from '../../src/core/compare/modelDelta.ts';
import { AcrossTab } from './across.ts';
import { applyChartDefaults } from './chartSetup.ts';
import { ChartsTab } from './charts.ts';
import { h } from './dom.ts';
import { post } from './host.ts';
import { Legend } from './legend.ts';
import { ViewState } from './state.ts';
import { TablesTab } from './tables.ts';
import { Tabs } from './tabs.ts';
import { readTheme, watchTheme } from './theme.ts';
import { Toolbar } from './toolbar.ts';

const app = document.getElementById('app') ?? document.body.appendChild(h('main', { id: 'app' }));
const state = new ViewState();
let theme = readTheme();
applyChartDefaults(theme);

const legend = new Legend(state);
const toolbar = new Toolbar(state);
const charts = new ChartsTab(state, theme);
charts.onCount = (shown, total) => toolbar.setCount(shown, total);
const tables = new TablesTab(state);
const across = new AcrossTab(state, theme);
const tabs = new Tabs([
  { id: 'charts', label: 'Charts', content: charts.el },
  { id: 'tables', label: 'Tables', content: tables.el },
  { id: 'across', label: 'Across runs', content: across.el },
], state.value.tab);
tabs.onSelect = (id) => state.update({ tab: id });
const banner = h('div', { class: 'banner', role: 'alert', hidden: true });

state.onChange((s, changed) => {
  charts.onStateChange(changed);
  if (changed.has('tab')) {
    tabs.select(s.tab);
    across.setActive(s.tab === 'across');
  }
});

let built = false;
function build(): void {
  built = true;
  app.replaceChildren(
    h('header', { class: 'top' }, legend.el, toolbar.el),
    banner,
    tabs.el,
  );
  app.setAttribute('aria-busy', 'false');
  across.setActive(state.value.tab === 'across');
}

let model: CompareModel | null = null;

function onModel(next: CompareModel): void {
  model = next;
  state.update({ runUids: model.runs.map((r) => r.uid) });
  state.setModel(model);
  if (!built) build();
  legend.setModel(model);
  charts.setModel(model);
  tables.setModel(model);
  across.setModel(model);
  document.title = `Compare ${model.runs.length} run${model.runs.length === 1 ? '' : 's'}`;
}

function showBanner(text: string): void {
  banner.hidden = false;
  const close = h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss' }, '×');
  close.addEventListener('click', () => (banner.hidden = true));
  banner.replaceChildren(h('span', null, text), close);
}

window.addEventListener('message', (event: MessageEvent) => {
  const msg = event.data as HostMessage;
  if (!msg || typeof msg !== 'object' || typeof (msg as { type?: unknown }).type !== 'string') return;
  switch (msg.type) {
    case 'model':
      onModel(msg.model);
      break;
    case 'modelDelta':
      if (!model) break;
      try {
        onModel(applyModelDelta(model, msg.delta));
      } catch (err) {
        // out of step with the host: start over from a whole model, and ask the charts again
        console.warn(`Compare: ${String(err)}; asking for the whole model`);
        post({ type: 'ready' });
        charts.requeryAll();
      }
      break;
    case 'series':
      charts.onSeries(msg);
      break;
    case 'append':
      charts.onAppend(msg);
      break;
    case 'error':
      if (msg.requestId === undefined || !charts.onError(msg.requestId, msg.message)) showBanner(msg.message);
      break;
  }
});

watchTheme((t) => {
  theme = t;
  applyChartDefaults(t);
  charts.setTheme(t);
  across.setTheme(t);
});

post({ type: 'ready' });
