// What the Python helper writes for a run it starts by itself (the inbox contract, runlens-inbox/1):
// the run folder with process.json, then <store>/inbox/<uid>.json written atomically.
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export type InboxEntry = Record<string, unknown> & { uid: string };

/** A valid inbox description; `over` replaces fields (undefined removes one). */
export function inboxEntry(cwd: string, over: Record<string, unknown> = {}): InboxEntry {
  const e: Record<string, unknown> = {
    format: 'runlens-inbox/1',
    uid: randomBytes(16).toString('hex'),
    startedAt: 1_700_000_000_000,
    source: 'terminal',
    command: ['python3', 'train.py', '--lr', '0.1'],
    cwd,
    script: 'train.py',
    interpreter: { path: '/usr/bin/python3', version: '3.11.2' },
    env: { HOME: '/home/ana' },
    params: { lr: 0.1 },
    tags: {},
    git: null,
    patch: null,
    datasets: [],
    packages: { conda: null, list: [['numpy', '1.26.4']] },
    notebook: null,
    ...over,
  };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete e[k];
  return e as InboxEntry;
}

/** Writes the run folder (process.json and `files`), then the inbox file through a .tmp and a rename. */
export function writeHelperRun(storeDir: string, entry: InboxEntry, files: Record<string, string | Buffer> = {},
  processInfo: Record<string, unknown> = { pid: 999_999, startTicks: null, host: hostname() }): string {
  const folder = join(storeDir, 'runs', entry.uid);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'process.json'), JSON.stringify(processInfo));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(folder, name), data);
  return writeInboxFile(storeDir, `${entry.uid}.json`, JSON.stringify(entry));
}

/** An inbox file with any name and content, written atomically; returns its path. */
export function writeInboxFile(storeDir: string, name: string, text: string | Buffer): string {
  const inbox = join(storeDir, 'inbox');
  mkdirSync(inbox, { recursive: true });
  const file = join(inbox, name);
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
  return file;
}
