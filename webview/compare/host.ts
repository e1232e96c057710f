/** The VS Code webview API, typed with the panel's message contract. */
import type { CompareViewState, ViewMessage } from '../../src/core/compare/protocol.ts';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api: VsCodeApi = acquireVsCodeApi();

export function post(message: ViewMessage): void {
  api.postMessage(message);
}

export function loadState(): Partial<CompareViewState> | undefined {
  const s = api.getState();
  return s && typeof s === 'object' ? (s as Partial<CompareViewState>) : undefined;
}

export function saveState(state: CompareViewState): void {
  api.setState(state);
}
