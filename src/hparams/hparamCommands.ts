import * as vscode from 'vscode';
import type { FolderScopes } from '../folders.ts';
import type { HparamLensProvider } from './hparamLenses.ts';
import { guardedCommands } from '../commands.ts';
import { parseSweepValues } from '../core/hparams/sweep.ts';
import { parseOverrides } from '../core/config/overrides.ts';

const MAX_COMPARED = 100;

/** The lenses' actions: run with a value, sweep values, compare the runs by the param. */
export function registerHparamCommands(lenses: HparamLensProvider, scopes: FolderScopes, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const guarded = guardedCommands(log);
  return [
    /** Starts `run` with `key=value`; asks for the value, prefilled with the best one so far. */
    guarded('runlens.hparamRunWith', async (key: string, value?: string, run?: string, best?: string) => {
      const text = value ?? await vscode.window.showInputBox({
        title: `Run ${run ?? ''} with ${key} =`.replace('  ', ' '), value: best, prompt: best ? `Prefilled with the best ${key} so far` : undefined,
        validateInput: (v) => { try { parseOverrides(`${key}=${v}`); return v.trim() ? undefined : 'Enter a value'; } catch (err) { return (err as Error).message; } },
      });
      if (text === undefined) return undefined;
      return vscode.commands.executeCommand<number | undefined>('runlens.startRunWithOverrides', run, `${key}=${text.trim()}`);
    }),

    /** A grid sweep over values of `key` (a list, a range or a log range), queued like New Sweep… (which asks how many at once). */
    guarded('runlens.hparamSweep', async (key: string, run?: string, values?: string, best?: string, options?: { concurrency?: number }) => {
      const text = values ?? await vscode.window.showInputBox({
        title: `Sweep ${key}`, value: suggestRange(best), prompt: 'Values: 1e-3, 3e-3, 1e-2 · a range 1..10 or 0:1:0.25 · a log range log(1e-4, 1e-1, 4)',
        validateInput: (v) => { try { parseSweepValues(v); return undefined; } catch (err) { return (err as Error).message; } },
      });
      if (text === undefined) return undefined;
      parseSweepValues(text); // a clear error before anything is queued
      return vscode.commands.executeCommand('runlens.newSweep', { run, params: { [key]: text }, method: 'grid', ...options });
    }),

    /** Compare on the runs that recorded `key`, ordered by its value. */
    guarded('runlens.compareByParam', async (key: string, document?: string) => {
      const scope = (typeof document === 'string' ? scopes.of(vscode.Uri.parse(document)) : undefined) ?? await scopes.for();
      if (!scope) return undefined;
      const { compare } = scope;
      const ids = lenses.runsByValue(scope, key);
      if (!ids.length) throw new Error(`No run recorded ${key} yet.`);
      if (ids.length > MAX_COMPARED) void vscode.window.showInformationMessage(`Comparing the first ${MAX_COMPARED} of ${ids.length} runs by ${key}.`);
      compare.show(ids.slice(0, MAX_COMPARED));
      return ids.slice(0, MAX_COMPARED);
    }),
  ];
}

/** A log range around a positive best value (a decade each side), else a list with the best value. */
function suggestRange(best: string | undefined): string | undefined {
  const x = Number(best);
  if (!best || !Number.isFinite(x)) return best;
  if (Number.isInteger(x)) return [Math.max(1, Math.round(x / 2)), x, x * 2].join(', ');
  if (x > 0) return `log(${fmt(x / 10)}, ${fmt(x * 10)}, 5)`;
  return best;
}

const fmt = (x: number) => String(Number(x.toPrecision(3)));
