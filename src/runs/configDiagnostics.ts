import * as vscode from 'vscode';
import { parseRunConfig } from '../core/config/runConfig.ts';

/** Shows mistakes in runlens.yaml as editor diagnostics while it is edited. */
export function watchRunConfig(): vscode.Disposable {
  const diagnostics = vscode.languages.createDiagnosticCollection('runlens');
  const isConfig = (doc: vscode.TextDocument) => doc.uri.scheme === 'file' && /(^|[\\/])runlens\.ya?ml$/.test(doc.uri.fsPath);
  const check = (doc: vscode.TextDocument) => {
    if (!isConfig(doc)) return;
    const { problems } = parseRunConfig(doc.getText());
    diagnostics.set(doc.uri, problems.map((p) => {
      const range = new vscode.Range(p.line, p.column, p.endLine, Math.max(p.endColumn, p.line === p.endLine ? p.column + 1 : p.endColumn));
      const d = new vscode.Diagnostic(range, p.message, vscode.DiagnosticSeverity.Error);
      d.source = 'RunLens';
      return d;
    }));
  };
  vscode.workspace.textDocuments.forEach(check);
  return vscode.Disposable.from(
    diagnostics,
    vscode.workspace.onDidOpenTextDocument(check),
    vscode.workspace.onDidChangeTextDocument((e) => check(e.document)),
    vscode.workspace.onDidCloseTextDocument((doc) => diagnostics.delete(doc.uri)),
  );
}
