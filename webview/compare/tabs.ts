/**
 * The three tabs, with vscode-tabs. vscode-tabs renames its headers' and panels' ids on every
 * slot change; the end-to-end tests (and our aria wiring) need stable ids (tab-charts, …),
 * so a MutationObserver puts them back whenever the component changes them.
 */
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import { h } from './dom.ts';

export interface TabSpec {
  id: string;
  label: string;
  content: HTMLElement;
}

export class Tabs {
  readonly el: HTMLElement & { selectedIndex: number };
  private readonly specs: TabSpec[];
  onSelect: (id: string) => void = () => {};

  constructor(specs: TabSpec[], selected: string) {
    this.specs = specs;
    const index = Math.max(0, specs.findIndex((s) => s.id === selected));
    this.el = h('vscode-tabs', { 'selected-index': index, class: 'tabs' }) as HTMLElement & { selectedIndex: number };
    const headers: HTMLElement[] = [];
    const panels: HTMLElement[] = [];
    for (const s of specs) {
      const header = h('vscode-tab-header', { slot: 'header', id: `tab-${s.id}`, 'aria-controls': `panel-${s.id}` }, s.label);
      const panel = h('vscode-tab-panel', { id: `panel-${s.id}`, 'aria-labelledby': `tab-${s.id}` }, s.content);
      headers.push(header);
      panels.push(panel);
    }
    this.el.append(...headers, ...panels);
    const pin = () => {
      specs.forEach((s, i) => {
        const hd = headers[i]!;
        const p = panels[i]!;
        if (hd.id !== `tab-${s.id}`) hd.id = `tab-${s.id}`;
        if (hd.getAttribute('aria-controls') !== `panel-${s.id}`) hd.setAttribute('aria-controls', `panel-${s.id}`);
        if (p.id !== `panel-${s.id}`) p.id = `panel-${s.id}`;
        if (p.getAttribute('aria-labelledby') !== `tab-${s.id}`) p.setAttribute('aria-labelledby', `tab-${s.id}`);
      });
    };
    new MutationObserver(pin).observe(this.el, { subtree: true, attributes: true, attributeFilter: ['id', 'aria-controls', 'aria-labelledby'] });
    this.el.addEventListener('vsc-tabs-select', (e) => {
      const i = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
      const spec = this.specs[i];
      if (spec) this.onSelect(spec.id);
    });
  }

  select(id: string): void {
    const i = this.specs.findIndex((s) => s.id === id);
    if (i >= 0 && this.el.selectedIndex !== i) this.el.selectedIndex = i;
  }
}
