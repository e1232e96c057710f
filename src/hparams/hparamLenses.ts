import * as vscode from 'vscode';
import { basename, isAbsolute, join, relative } from 'node:path';
import type { FolderScopes, Scope } from '../folders.ts';
import { ParamIndex } from '../core/hparams/paramIndex.ts';
import { type HparamLens, hoverMarkdown, lensesFor, paramText } from '../core/hparams/lens.ts';

/** Languages that get lenses, and the format the finder reads them as. */
const FORMAT: { [languageId: string]: string } = { python: 'python', yaml: 'yaml', json: 'json', jsonc: 'jsonc', toml: 'toml' };
const PARAMS_FILE = /^(params|hparams|config)\.(ya?ml|json|toml)$/;
const REFRESH_MS = 3000;

export const HPARAM_SELECTOR: vscode.DocumentSelector = [
  ...Object.keys(FORMAT).map((language) => ({ language, scheme: 'file' })),
  { pattern: '**/*.toml', scheme: 'file' },
];

export interface HparamLensDeps {
  scopes: FolderScopes;
}

/**
 * Lenses above hyperparameters in code and config: what past runs learned about each one, with
 * actions to run or sweep new values. Computed from an in-memory index of every run's params and
 * primary metric, rebuilt lazily after the store changes (never one query per lens). Each folder of
 * a multi-root workspace has its index, from its own store and runlens.yaml.
 */
export class HparamLensProvider implements vscode.CodeLensProvider, vscode.HoverProvider, vscode.Disposable {
  private readonly deps: HparamLensDeps;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly indexes = new Map<Scope, ParamIndex>();
  private timer: NodeJS.Timeout | undefined;
  private readonly subscriptions: vscode.Disposable[];
  private perScope: vscode.Disposable[] = [];

  constructor(deps: HparamLensDeps) {
    this.deps = deps;
    this.listen();
    this.subscriptions = [
      deps.scopes.onDidChange(() => { this.listen(); this.refresh(); }),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('runlens.codeLens')) this.changed.fire(); }),
    ];
  }

  /** runlens.yaml changed (or a test seeded runs): rebuild on next use and redraw now. */
  refresh(): void {
    this.indexes.clear();
    this.changed.fire();
  }

  private listen(): void {
    for (const d of this.perScope) d.dispose();
    this.perScope = this.deps.scopes.all.map((scope) => scope.store.onChange(['runs', 'metrics'], () => this.storeChanged()));
  }

  /**
   * The store changed: while runs go that is several times a second, so the index is dropped and
   * the lenses redrawn at most once per REFRESH_MS (a lens shows finished runs, not every point).
   */
  private storeChanged(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh();
    }, REFRESH_MS);
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const lenses = this.lensesOf(document);
    if (!lenses) return [];
    const run = this.runFor(document);
    const actions = vscode.workspace.getConfiguration('runlens.codeLens', document).get<boolean>('actions', true);
    const out: vscode.CodeLens[] = [];
    let quiet = false;
    for (const l of lenses) {
      const range = document.validateRange(new vscode.Range(document.positionAt(l.range.start), document.positionAt(l.range.end)));
      if (!l.key) {
        // A param no run recorded: said once per file, quietly.
        if (quiet) continue;
        quiet = true;
        out.push(new vscode.CodeLens(range, { title: l.title, command: '', tooltip: 'No run recorded this param yet (or its name differs: map it under hparams: map: in runlens.yaml).' }));
        continue;
      }
      const best = l.bestValue === undefined ? undefined : paramText(l.bestValue);
      out.push(new vscode.CodeLens(range, { title: l.title, command: '', tooltip: 'Hover the name for the values tried' }));
      if (!actions) continue;
      out.push(new vscode.CodeLens(range, { title: '$(play) Run with…', command: 'runlens.hparamRunWith', arguments: [l.key, undefined, run, best], tooltip: `Start ${run ?? 'a run'} with another ${l.key}` }));
      out.push(new vscode.CodeLens(range, { title: '$(list-flat) Sweep…', command: 'runlens.hparamSweep', arguments: [l.key, run, undefined, best], tooltip: `Sweep ${l.key}: a list, a range or a log range` }));
      out.push(new vscode.CodeLens(range, { title: `$(graph-line) Compare by ${l.key}`, command: 'runlens.compareByParam', arguments: [l.key, document.uri.toString()], tooltip: `Compare the runs that recorded ${l.key}, ordered by it` }));
    }
    return out;
  }

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const offset = document.offsetAt(position);
    const lens = this.lensesOf(document)?.find((l) => l.range.start <= offset && offset <= l.range.end);
    if (!lens?.key) return undefined;
    const scope = this.deps.scopes.of(document.uri);
    const index = scope && this.ensureIndex(scope);
    const runs = scope?.store.get()?.runs;
    const md = new vscode.MarkdownString(hoverMarkdown(lens.found, index?.stats(lens.key), index?.primary, (id) => `run ${runs?.get(id)?.name ?? id}`));
    return new vscode.Hover(md, new vscode.Range(document.positionAt(lens.range.start), document.positionAt(lens.range.end)));
  }

  /** The runs of a folder that recorded `key`, in value order (for Compare by param). */
  runsByValue(scope: Scope, key: string): number[] {
    return this.ensureIndex(scope)?.stats(key)?.values.flatMap((v) => v.runIds) ?? [];
  }

  private lensesOf(document: vscode.TextDocument): HparamLens[] | undefined {
    if (!vscode.workspace.getConfiguration('runlens.codeLens', document).get<boolean>('enabled', true)) return undefined;
    const format = FORMAT[document.languageId] ?? (document.fileName.endsWith('.toml') ? 'toml' : undefined);
    if (!format || (format !== 'python' && !this.isConfigFile(document))) return undefined;
    const scope = this.deps.scopes.of(document.uri);
    const index = scope && this.ensureIndex(scope);
    if (!scope || !index) return undefined;
    const project = scope.project();
    return lensesFor(document.getText(), format, index, {
      entryPoints: project?.hparams.entryPoints, map: project?.hparams.map, prefix: this.prefixOf(document),
      cacheKey: document.uri.toString(),
    });
  }

  private ensureIndex(scope: Scope): ParamIndex | undefined {
    const known = this.indexes.get(scope);
    if (known) return known;
    const store = scope.store.get();
    if (!store) return undefined;
    const index = ParamIndex.build(store, scope.primaryMetric());
    this.indexes.set(scope, index);
    return index;
  }

  /** Params files of the run configurations, hparams.files, or a file named like params.yaml. */
  private isConfigFile(document: vscode.TextDocument): boolean {
    return PARAMS_FILE.test(basename(document.fileName)) || this.declared(document) !== undefined;
  }

  private prefixOf(document: vscode.TextDocument): string | undefined {
    return this.declared(document)?.prefix;
  }

  private declared(document: vscode.TextDocument): { prefix?: string } | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(document.uri);
    const rel = this.relativePath(document);
    const project = this.deps.scopes.of(document.uri)?.project();
    if (!folder || !rel || !project) return undefined;
    if (project.runs.some((r) => r.params.some((p) => samePath(p, rel, r.cwd)))) return {};
    // hparams.files globs are relative to runlens.yaml, at the top of the folder
    const matches = (glob: string) => vscode.languages.match({ pattern: new vscode.RelativePattern(folder, glob.replace(/^\.\//, '')) }, document) > 0;
    return project.hparams.files.find((f) => matches(f.path));
  }

  /** The run configuration that reads this file: its params files, or its command naming the script. */
  private runFor(document: vscode.TextDocument): string | undefined {
    const rel = this.relativePath(document);
    const project = this.deps.scopes.of(document.uri)?.project();
    if (!rel || !project) return undefined;
    const run = project.runs.find((r) => r.params.some((p) => samePath(p, rel, r.cwd)))
      ?? project.runs.find((r) => (Array.isArray(r.command) ? r.command : r.command.split(/\s+/)).some((a) => samePath(a, rel, r.cwd)));
    return run?.name;
  }

  private relativePath(document: vscode.TextDocument): string | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(document.uri);
    return folder && relative(folder.uri.fsPath, document.uri.fsPath).split('\\').join('/');
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.changed.dispose();
    for (const s of [...this.subscriptions, ...this.perScope]) s.dispose();
  }
}

/** A path from runlens.yaml (relative to the run's cwd, itself relative to the folder) names `rel`. */
function samePath(path: string, rel: string, cwd: string | undefined): boolean {
  if (isAbsolute(path)) return false;
  return join(cwd ?? '', path).split('\\').join('/').replace(/^\.\//, '') === rel;
}
