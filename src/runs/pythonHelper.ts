import * as vscode from 'vscode';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { FolderScopes, Scope } from '../folders.ts';
import { guardedCommands } from '../commands.ts';
import { interpreter } from './startRun.ts';

const run = promisify(execFile);

/** The variables that make `import runlens` work and name the folder's store, for a run started as `source`. */
export function helperEnv(helperDir: string, scope: Scope | undefined, source: 'terminal' | 'debug', pythonPath?: string): { [name: string]: string } {
  return {
    PYTHONPATH: [helperDir, pythonPath].filter(Boolean).join(delimiter),
    RUNLENS_SOURCE: source,
    ...(scope ? { RUNLENS_STORE: scope.store.dir } : {}),
  };
}

/**
 * Makes the helper importable, and each folder's store findable, in every integrated terminal
 * (described in the terminal's environment hover) and in Python debug sessions, so a script started
 * there records its run like a launched one.
 */
export class HelperEnvironment implements vscode.DebugConfigurationProvider, vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[];
  private readonly context: vscode.ExtensionContext;
  private readonly scopes: FolderScopes;
  readonly helperDir: string;

  constructor(context: vscode.ExtensionContext, scopes: FolderScopes) {
    this.context = context;
    this.scopes = scopes;
    this.helperDir = join(context.extensionPath, 'media', 'python');
    this.update();
    this.subscriptions = [
      scopes.onDidChange(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('runlens.storeDir')) this.update(); }),
      // the Python extension's debugger types: the old one and debugpy
      vscode.debug.registerDebugConfigurationProvider('python', this),
      vscode.debug.registerDebugConfigurationProvider('debugpy', this),
    ];
  }

  /** Terminals: the helper on PYTHONPATH everywhere; each folder's terminals get its store. */
  private update(): void {
    const env = this.context.environmentVariableCollection;
    env.clear();
    env.persistent = false; // set again at each activation (the extension's folder changes with its version)
    env.description = new vscode.MarkdownString('RunLens: `import runlens` works here, and scripts that log with it are recorded as runs in this folder\'s store.');
    env.prepend('PYTHONPATH', this.helperDir + delimiter);
    env.replace('RUNLENS_SOURCE', 'terminal');
    for (const scope of this.scopes.all) {
      env.getScoped({ workspaceFolder: scope.folder }).replace('RUNLENS_STORE', scope.store.dir);
    }
  }

  /** Debug sessions of Python programs: the same variables, marked as started under the debugger. */
  resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration {
    const scope = (folder && this.scopes.of(folder.uri)) ?? (this.scopes.all.length === 1 ? this.scopes.first : undefined);
    const env = (config.env ?? {}) as { [name: string]: string };
    return { ...config, env: { ...env, ...helperEnv(this.helperDir, scope, 'debug', env.PYTHONPATH ?? process.env.PYTHONPATH) } };
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}

/**
 * RunLens: Install Python Helper: copies the helper into the environment of the folder's interpreter
 * (a venv's or conda env's site-packages, else the user's site-packages), from the extension's own
 * files, without network. Then scripts run anywhere (an SSH shell, cron, CI) can `import runlens`.
 */
export function registerInstallHelper(scopes: FolderScopes, helperDir: string, log: vscode.LogOutputChannel): vscode.Disposable {
  return guardedCommands(log)('runlens.installPythonHelper', async (python?: string) => {
    const exe = typeof python === 'string' ? python : await interpreter((await scopes.for())?.folder ?? noFolder());
    const { stdout } = await run(exe, ['-c', [
      'import json, site, sys, sysconfig',
      'venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)',
      'conda = __import__("os").path.isdir(__import__("os").path.join(sys.prefix, "conda-meta"))',
      'print(json.dumps({"env": venv or conda, "purelib": sysconfig.get_paths()["purelib"], "user": site.getusersitepackages(), "version": sys.version.split()[0]}))',
    ].join('\n')], { timeout: 30_000 });
    const info = JSON.parse(stdout) as { env: boolean; purelib: string; user: string; version: string };
    const target = info.env ? info.purelib : info.user;
    const dest = join(target, 'runlens');
    mkdirSync(target, { recursive: true });
    rmSync(dest, { recursive: true, force: true });
    cpSync(join(helperDir, 'runlens'), dest, { recursive: true, filter: (src) => !src.includes('__pycache__') });
    // the secret-name rules the helper shares with the extension: in the extension they sit in media/
    cpSync(join(helperDir, '..', 'redaction.json'), join(dest, 'redaction.json'));
    log.info(`Installed the RunLens helper for ${exe} (Python ${info.version}) into ${dest}`);
    if (typeof python !== 'string') {
      void vscode.window.showInformationMessage(`RunLens helper installed for ${exe} in ${dest}. Scripts run with this Python can now \`import runlens\` anywhere.`);
    }
    return dest;
  });
}

function noFolder(): never {
  throw new Error('Open a folder, or give the Python interpreter to install the helper for.');
}
