import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { arch, hostname, platform, release } from 'node:os';
import { delimiter, isAbsolute, resolve } from 'node:path';
import { redactArgs, redactEnv, shellQuote } from './redact.ts';

export interface EnvironmentCapture {
  interpreter: { path: string; version: string | null } | null;
  /** e.g. 'linux 6.1.0 x64' */
  os: string;
  hostname: string;
  /** GPU names from nvidia-smi, [] when it is absent. */
  gpu: string[];
  /** With secret values redacted (redactArgs). */
  commandLine: string;
  /** The environment with secrets redacted. */
  env: Record<string, string>;
}

export interface EnvironmentOptions {
  /** The interpreter, as a path or a bare name looked up on PATH. */
  interpreter?: string;
  command: string[] | string;
  /** The run's environment; default process.env. */
  env?: Record<string, string | undefined>;
  /** Per child process (interpreter --version, nvidia-smi). Default 3000. */
  timeoutMs?: number;
}

export { REDACTED, isSecretName, redactEnv, redactUrls, shellQuote } from './redact.ts';

/** The absolute path of an executable found on PATH, or null. */
export function which(name: string, pathVar: string | undefined = process.env.PATH): string | null {
  const exts = platform() === 'win32' ? ['', ...(process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';')] : [''];
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = resolve(dir, name + ext);
      try {
        if (!statSync(candidate).isFile()) continue;
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** Runs a program without a shell; its stdout and stderr, or null on failure or timeout. */
function run(file: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string } | null> {
  return new Promise((done) => {
    try {
      execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', windowsHide: true, encoding: 'utf8', env }, (err, stdout, stderr) => {
        done(err ? null : { stdout, stderr });
      });
    } catch {
      done(null);
    }
  });
}

/** The interpreter's absolute path: a bare name is looked up on PATH, a relative path resolved. */
function resolveInterpreter(interpreter: string, pathVar: string | undefined): string | null {
  if (isAbsolute(interpreter)) return interpreter;
  if (/[\\/]/.test(interpreter)) return resolve(interpreter);
  return which(interpreter, pathVar);
}

async function interpreterVersion(path: string, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<string | null> {
  const out = await run(path, ['--version'], timeoutMs, env);
  if (!out) return null;
  // Python 2 and early 3 print the version to stderr, later ones to stdout
  const text = out.stdout.trim() || out.stderr.trim();
  return text.split(/\r?\n/)[0]?.trim() || null;
}

async function gpuNames(pathVar: string | undefined, timeoutMs: number): Promise<string[]> {
  const smi = which('nvidia-smi', pathVar);
  if (!smi) return [];
  const out = await run(smi, ['--query-gpu=name', '--format=csv,noheader'], timeoutMs);
  if (!out) return [];
  return out.stdout.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
}

/** argv as one shell-style line; a string is kept as is. */
export function commandLine(command: string[] | string): string {
  return typeof command === 'string' ? command : command.map(shellQuote).join(' ');
}

function definedEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Interpreter, machine, GPUs, command line and redacted environment of a run. */
export async function captureEnvironment(options: EnvironmentOptions): Promise<EnvironmentCapture> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const env = options.env ?? process.env;
  const pathVar = env.PATH ?? env.Path ?? process.env.PATH;
  const childEnv = options.env ? definedEnv(options.env) : undefined;
  const interpreter = async (): Promise<EnvironmentCapture['interpreter']> => {
    if (options.interpreter === undefined) return null;
    const path = resolveInterpreter(options.interpreter, pathVar);
    if (!path) return { path: options.interpreter, version: null };
    return { path, version: await interpreterVersion(path, timeoutMs, childEnv) };
  };
  const [interp, gpu] = await Promise.all([interpreter(), gpuNames(pathVar, timeoutMs)]);
  return {
    interpreter: interp,
    os: `${platform()} ${release()} ${arch()}`,
    hostname: hostname(),
    gpu,
    commandLine: commandLine(redactArgs(options.command)),
    env: redactEnv(env),
  };
}
