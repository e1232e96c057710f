import * as vscode from 'vscode';
import { writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Run } from '../core/types.ts';
import type { Store } from '../core/store/store.ts';
import type { ModelVersion } from '../core/store/modelRepository.ts';
import { type FolderScopes, scopedCommands } from '../folders.ts';
import type { ModelsNode } from '../views/modelsTree.ts';
import { ArtifactCollector } from '../core/artifacts/collector.ts';
import { changedDataFiles, datasetDiff, lineage } from '../core/models/lineage.ts';
import { modelCard } from '../core/models/modelCard.ts';
import { checkAlias, checkModelName } from '../core/store/modelRepository.ts';
import { bytes } from '../core/format.ts';
import { type RunRef, namesNoRun, resolveRuns } from '../core/runs/runRefs.ts';
import { guardedCommands } from '../commands.ts';
import { runPickItem } from '../format.ts';
import { type ReproduceOptions, reproduceRun } from './reproduce.ts';
import { showRunCommit } from '../runs/provenanceDocs.ts';
import { showRunPatchDocument } from '../runs/patchDocument.ts';

/** A model version named by a command: a Models view node, a version id, or "name@alias" / "name:3". */
type VersionRef = ModelsNode | ModelVersion | number | string | undefined;

export interface ModelCommandDeps {
  scopes: FolderScopes;
  log: vscode.LogOutputChannel;
}

const SUGGESTED_ALIASES = ['production', 'staging', 'champion', 'candidate'];

export function registerModelCommands(deps: ModelCommandDeps): vscode.Disposable[] {
  const { scopes, log } = deps;
  const guarded = guardedCommands(log);
  // a "name:3" or "name@alias" ref belongs to the folder whose store has that version
  const scoped = scopedCommands(scopes, guarded, (store, ref) => findVersion(store, ref as VersionRef) !== undefined);

  return [
    scoped('runlens.registerModelVersion', async ({ store }, runRef?: unknown, path?: string, name?: string) => {
      const s = () => store.require();
      const run = await pickRun(s(), runRef, 'Register a model version from which run?');
      if (!run) return undefined;
      if (!run.cwd) throw new Error(`Run ${run.name} has no working folder to take the model from.`);
      const rel = path ?? await pickPath(run);
      if (rel === undefined) return undefined;
      const model = name ?? await pickModelName(s());
      if (!model) return undefined;
      const version = await store.writeSteps(['models', 'runs'], (w) => new ArtifactCollector(w, w.objects, (m) => log.info(m)).register(run.id, rel, model));
      void vscode.window.showInformationMessage(`Registered ${version.model} v${version.version} from run ${run.name}.`);
      return version.id;
    }),

    scoped('runlens.showLineage', ({ store, lineage: lineagePanel }, ref?: VersionRef, againstRef?: VersionRef) => {
      const s = () => store.require();
      const v = resolveVersion(s(), ref);
      const against = againstRef === undefined ? undefined : resolveVersion(s(), againstRef);
      lineagePanel.show(v.id, against?.id);
      return v.id;
    }),

    scoped('runlens.setModelAlias', async ({ store }, ref?: VersionRef, alias?: string) => {
      const s = () => store.require();
      const v = resolveVersion(s(), ref ?? await pickVersion(s()));
      const chosen = alias ?? await pickAlias(s(), v);
      if (!chosen) return undefined;
      store.write(['models'], (w) => w.models.setAlias(v.id, chosen));
      return chosen;
    }),

    scoped('runlens.removeModelAlias', async ({ store }, ref?: VersionRef, alias?: string) => {
      const s = () => store.require();
      const v = resolveVersion(s(), ref ?? await pickVersion(s()));
      const chosen = alias ?? (v.aliases.length === 1 ? v.aliases[0] : await vscode.window.showQuickPick(v.aliases, { placeHolder: `Remove which alias from ${v.model} v${v.version}?` }));
      if (!chosen) return undefined;
      store.write(['models'], (w) => { if (!w.models.removeAlias(v.modelId, chosen)) throw new Error(`${v.model} has no alias @${chosen}.`); });
      return chosen;
    }),

    scoped('runlens.editModelVersionDescription', async ({ store }, ref?: VersionRef, text?: string) => {
      const s = () => store.require();
      const v = resolveVersion(s(), ref ?? await pickVersion(s()));
      const description = text ?? await vscode.window.showInputBox({ title: `Description of ${v.model} v${v.version}`, value: v.description });
      if (description === undefined) return undefined;
      store.write(['models'], (w) => w.models.setDescription(v.id, description.trim()));
      return description.trim();
    }),

    /** Opens Compare on the versions' runs, and the newest version's lineage marking the data files that changed. */
    scoped('runlens.compareModelVersions', async ({ store, compare, lineage: lineagePanel }, first?: VersionRef | VersionRef[], multi?: ModelsNode[]) => {
      const s = () => store.require();
      let refs: VersionRef[] = Array.isArray(multi) && multi.length > 1 ? multi : Array.isArray(first) ? first : first === undefined ? [] : [first];
      if (refs.length < 2) refs = await pickVersions(s(), refs.length ? resolveVersion(s(), refs[0]) : undefined);
      const versions = refs.map((r) => resolveVersion(s(), r)).sort((a, b) => a.createdAt - b.createdAt);
      if (versions.length < 2) return undefined;
      const oldest = versions[0]!, newest = versions.at(-1)!;
      const changed = changedDataFiles(datasetDiff(s().provenance.datasets(oldest.runId), s().provenance.datasets(newest.runId)));
      compare.show([...new Set(versions.map((v) => v.runId))]);
      lineagePanel.show(newest.id, oldest.id);
      return { runIds: versions.map((v) => v.runId), changedDataFiles: changed };
    }),

    scoped('runlens.exportModelCard', async ({ store }, ref?: VersionRef, target?: string) => {
      const s = () => store.require();
      const v = resolveVersion(s(), ref ?? await pickVersion(s()));
      const folder = store.folder?.uri;
      let file = target;
      if (!file) {
        const uri = await vscode.window.showSaveDialog({
          title: `Export model card of ${v.model} v${v.version}`, filters: { Markdown: ['md'] },
          defaultUri: folder && vscode.Uri.joinPath(folder, `${v.model.replace(/[^\w.-]+/g, '-')}-v${v.version}.md`),
        });
        if (!uri) return undefined;
        file = uri.fsPath;
      }
      await writeFile(file, modelCard(lineage(s(), v.id)));
      if (!target) await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
      return file;
    }),

    scoped('runlens.verifyArtifacts', ({ store }) => verifyArtifacts(store.require(), log)),

    scoped('runlens.reproduceRun', async ({ store, runs }, runRef?: unknown, options?: ReproduceOptions) => {
      const s = () => store.require();
      const run = await pickRun(s(), runRef, 'Reproduce which run?');
      return run && reproduceRun(store, runs, run, options);
    }),

    scoped('runlens.reproduceModelVersion', async ({ store, runs }, ref?: VersionRef, options?: ReproduceOptions) => {
      const s = () => store.require();
      const v = resolveVersion(s(), ref ?? await pickVersion(s()));
      const run = s().runs.get(v.runId);
      if (!run) throw new Error(`The run of ${v.model} v${v.version} is missing from the store.`);
      return reproduceRun(store, runs, run, options);
    }),

    scoped('runlens.showCommit', ({ store }, ref: RunRef) => showRunCommit(store, requireRun(store.require(), ref))),
    scoped('runlens.showPatch', ({ store }, ref: RunRef) => showRunPatchDocument(store, requireRun(store.require(), ref))),
  ];
}

function requireRun(s: Store, ref: RunRef): Run {
  const [run] = resolveRuns(s, ref);
  if (!run) throw new Error('Which run? Pick one in the Runs view.');
  return run;
}

export function resolveVersion(s: Store, ref: VersionRef): ModelVersion {
  const v = findVersion(s, ref);
  if (!v) throw new Error(ref === undefined ? 'Which model version? Pick one in the Models view.' : `Model version ${typeof ref === 'object' ? '' : String(ref)} does not exist.`);
  return v;
}

function findVersion(s: Store, ref: VersionRef): ModelVersion | undefined {
  let v: ModelVersion | undefined;
  if (typeof ref === 'object' && ref !== null) {
    if ('modelId' in ref) v = s.models.version(ref.id);
    else if (ref.kind === 'version') v = s.models.version(ref.version.id);
  }
  else if (typeof ref === 'number') v = s.models.version(ref);
  else if (typeof ref === 'string') {
    const m = /^(.+?)(?:@([\w-]+)|:v?(\d+))$/.exec(ref);
    if (m) v = s.models.find(m[1]!, m[2] ?? Number(m[3]));
  }
  return v;
}

async function pickRun(s: Store, ref: unknown, placeHolder: string): Promise<Run | undefined> {
  const [named] = namesNoRun(ref as RunRef) ? [] : resolveRuns(s, ref as RunRef);
  if (named) return named;
  const recent = s.runs.list({ limit: 500 }).filter((r) => r.status !== 'running');
  if (!recent.length) throw new Error('There are no ended runs in this workspace yet.');
  return (await vscode.window.showQuickPick(recent.map(runPickItem), { placeHolder, matchOnDescription: true }))?.run;
}

/** A file or folder inside the run's working folder, as a relative path. */
async function pickPath(run: Run): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: `Model file or folder from run ${run.name}`, defaultUri: vscode.Uri.file(run.cwd!),
    canSelectFiles: true, canSelectFolders: true, canSelectMany: false, openLabel: 'Register',
  });
  if (!picked?.[0]) return undefined;
  const rel = relative(run.cwd!, picked[0].fsPath);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`Pick a file or folder inside the run's working folder (${run.cwd}).`);
  return rel.split(sep).join('/');
}

function pickModelName(s: Store): Promise<string | undefined> {
  const existing = s.models.models();
  return pickOrType({
    title: 'Register Model Version', placeholder: 'Model name (an existing model gets its next version)',
    items: existing.map((m) => ({ label: m.name, description: `next: v${(m.latestVersion ?? 0) + 1}` })),
    check: checkModelName, fresh: 'new model',
  });
}

async function pickVersion(s: Store): Promise<ModelVersion | undefined> {
  const items = s.models.models().flatMap((m) => s.models.versions(m.id)).map((v) => ({
    label: `${v.model} v${v.version}`, description: v.aliases.map((a) => `@${a}`).join(' '), v,
  }));
  if (!items.length) throw new Error('There are no model versions yet. Call runlens.log_model() in a run, or use "Register Model Version…".');
  return (await vscode.window.showQuickPick(items, { placeHolder: 'Which model version?' }))?.v;
}

async function pickVersions(s: Store, first?: ModelVersion): Promise<ModelVersion[]> {
  const models = first ? [s.models.versions(first.modelId)] : s.models.models().map((m) => s.models.versions(m.id));
  const items = models.flat().map((v) => ({ label: `${v.model} v${v.version}`, description: v.aliases.map((a) => `@${a}`).join(' '), picked: v.id === first?.id, v }));
  const picks = await vscode.window.showQuickPick(items, { canPickMany: true, placeHolder: 'Compare which versions? (two or more)' });
  return picks?.map((p) => p.v) ?? [];
}

function pickAlias(s: Store, v: ModelVersion): Promise<string | undefined> {
  const taken = new Map<string, number>();
  for (const other of s.models.versions(v.modelId)) for (const a of other.aliases) taken.set(a, other.version);
  return pickOrType({
    title: `Alias for ${v.model} v${v.version}`, placeholder: 'Pick or type an alias; it moves here from any other version',
    items: [...new Set([...SUGGESTED_ALIASES, ...taken.keys()])].map((a) => ({
      label: a, description: taken.has(a) ? (taken.get(a) === v.version ? 'already here' : `now on v${taken.get(a)}`) : '',
    })),
    check: checkAlias, fresh: 'new alias',
  });
}

/** A quick pick of known names that also takes a typed one; a typed name that `check` refuses shows why and is not accepted. */
function pickOrType(o: { title: string; placeholder: string; items: vscode.QuickPickItem[]; check: (name: string) => string | undefined; fresh: string }): Promise<string | undefined> {
  const qp = vscode.window.createQuickPick();
  qp.title = o.title;
  qp.placeholder = o.placeholder;
  qp.items = o.items;
  qp.onDidChangeValue((value) => {
    qp.items = value && !o.items.some((i) => i.label === value) ? [{ label: value, description: o.check(value) ?? o.fresh }, ...o.items] : o.items;
  });
  return new Promise((resolve) => {
    qp.onDidAccept(() => {
      const name = qp.selectedItems[0]?.label ?? qp.value;
      if (o.check(name)) return; // the row already says why
      resolve(name);
      qp.hide();
    });
    qp.onDidHide(() => { resolve(undefined); qp.dispose(); });
    qp.show();
  });
}

export interface VerifyResult { checked: number; bytes: number; missing: string[]; corrupt: string[]; unreferenced: string[] }

/** Re-hashes every stored object. Reports what is missing or corrupted, and objects nothing refers to; deletes nothing. */
async function verifyArtifacts(s: Store, log: vscode.LogOutputChannel): Promise<VerifyResult> {
  const objects = s.artifacts.objects();
  const result: VerifyResult = { checked: 0, bytes: 0, missing: [], corrupt: [], unreferenced: [] };
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'RunLens: verifying artifacts', cancellable: true },
    async (progress, token) => {
      for (const o of objects) {
        if (token.isCancellationRequested) break;
        const state = await s.objects.verify(o.sha256, o.size);
        const where = `${o.sha256.slice(0, 12)} (${o.artifact}${o.file && o.file !== o.artifact ? `/${o.file}` : ''}, run ${s.runs.get(o.runId)?.name ?? o.runId})`;
        if (state === 'missing') result.missing.push(where);
        if (state === 'corrupt') result.corrupt.push(where);
        result.checked++;
        result.bytes += o.size;
        progress.report({ message: `${result.checked} of ${objects.length}`, increment: 100 / objects.length });
      }
      const known = new Set(objects.map((o) => o.sha256));
      result.unreferenced = (await s.objects.list()).filter((sha) => !known.has(sha));
    });
  const bad = result.missing.length + result.corrupt.length;
  for (const m of result.missing) log.error(`Verify Artifacts: missing object ${m}`);
  for (const c of result.corrupt) log.error(`Verify Artifacts: corrupted object ${c} (its bytes no longer match its sha256)`);
  if (result.unreferenced.length) log.info(`Verify Artifacts: ${result.unreferenced.length} object(s) in ${join(s.dir, 'objects')} belong to no artifact (kept)`);
  const summary = `Verified ${result.checked} object(s), ${bytes(result.bytes)}`;
  if (bad) {
    void vscode.window.showWarningMessage(`RunLens: ${summary}: ${result.missing.length} missing, ${result.corrupt.length} corrupted. Nothing was deleted.`, 'Show Details')
      .then((pick) => { if (pick) log.show(); });
  } else {
    void vscode.window.showInformationMessage(`RunLens: ${summary}: all intact.`);
  }
  return result;
}
