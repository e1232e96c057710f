// What counts as a secret, and the stored copies of environments, URLs and command lines without them.
// Only stored copies are redacted: processes are started with the real values.
// The name rules are data in media/redaction.json, shared with the Python helper.

import rules from '../../../media/redaction.json' with { type: 'json' };

export const REDACTED: string = rules.redacted;

/**
 * The name rule. A name (variable, flag, `key=value` key, URL query parameter, header) is split into
 * parts on anything not a letter or digit, at camelCase humps and between letters and digits
 * (`sshKeyFile` → SSH KEY FILE, `GH_PAT` → GH PAT). It is secret when a part, or two neighbouring
 * parts joined, is one of SECRET_WORDS, also with an S added (CREDENTIALS); or when a part ends
 * in TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE or APIKEY (GITHUBTOKEN). So KEYBOARD_LAYOUT,
 * PATH, PATHEXT, COMPASS, GIT_AUTHOR_NAME and TOKENIZERS_PARALLELISM are not secrets; GH_PAT,
 * DB_PASS, MY_API_KEY, dbPassword are. NOT_SECRET lists names kept on purpose.
 */
const SECRET_WORDS = new Set(rules.secretWords);
const SECRET_ENDING = new RegExp(rules.secretEnding);
/** Folders and sockets, not secrets, though their names match. */
const NOT_SECRET = new Set(rules.notSecret);
const NAME_SPLIT = new RegExp(rules.nameSplit);

/** A name's parts, upper case: `sshKeyFile` → SSH, KEY, FILE. */
function nameParts(name: string): string[] {
  return name.split(NAME_SPLIT).filter(Boolean).map((p) => p.toUpperCase());
}

const isWord = (p: string) => SECRET_WORDS.has(p) || (p.endsWith('S') && SECRET_WORDS.has(p.slice(0, -1)));

/** True when a variable, flag or parameter of this name holds a secret. */
export function isSecretName(name: string): boolean {
  if (NOT_SECRET.has(name.toUpperCase())) return false;
  const parts = nameParts(name);
  return parts.some((p, i) => isWord(p) || isWord(p + (parts[i + 1] ?? '')) || SECRET_ENDING.test(p));
}

/**
 * Untracked files kept out of the stored patch by name: .env, .env.*, .envrc, .netrc, _netrc, .pgpass,
 * .npmrc, .pypirc, .git-credentials; SSH keys id_rsa, id_dsa, id_ecdsa, id_ed25519 (not .pub);
 * *.pem, *.key, *.p12, *.pfx, *.jks, *.keystore, *.ppk; and names with a part SECRET(S), TOKEN,
 * PASSWORD(S), PASSWD, CREDENTIAL(S), CREDS or API KEY(S) (credentials.json, client_secret.json,
 * hf_token.txt; not special_tokens_map.json).
 */
const SECRET_FILE = new RegExp(rules.secretFile, rules.secretFileFlags);
const SECRET_FILE_WORD = new RegExp(rules.secretFileWord);

/** True when a file (a path with / separators) likely holds a secret, by its name. */
export function isSecretFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (SECRET_FILE.test(name)) return true;
  const parts = nameParts(name.replace(/\.[^.]*$/, ''));
  return parts.some((p, i) => SECRET_FILE_WORD.test(p) || SECRET_FILE_WORD.test(p + (parts[i + 1] ?? '')));
}

/**
 * Credentials inside URLs (`scheme://` up to the next whitespace). The userinfo runs to the last `@`
 * followed by a host, so a password may hold `/ # ? : @`. A `user:password` loses its password;
 * an http(s) lone user (often a token) is replaced whole; `ssh://git@` is kept. Query parameters
 * with a secret name (token, access_token, api_key, key, sig, signature, password, secret, auth, …)
 * lose their value.
 */
export function redactUrls(text: string): string {
  return text.replace(/\b([a-z][a-z\d+.-]*:\/\/)(\S+)/gi, (_all, scheme: string, rest: string) => {
    let at = rest.lastIndexOf('@');
    while (at > 0 && !/^[\w[%-]/.test(rest.slice(at + 1))) at = rest.lastIndexOf('@', at - 1);
    if (at > 0) {
      const info = rest.slice(0, at), colon = info.indexOf(':');
      if (colon >= 0) rest = `${info.slice(0, colon)}:${REDACTED}${rest.slice(at)}`;
      else if (/^https?:\/\/$/i.test(scheme) && !/[/?#]/.test(info)) rest = REDACTED + rest.slice(at);
    }
    return scheme + rest.replace(/([?&;])([^=&#?;]+)=([^&#;'"]+)/g, (all, sep: string, name: string) =>
      (isSecretName(name) ? `${sep}${name}=${REDACTED}` : all));
  });
}

/** A copy of env, sorted by name, with secret values replaced by "<redacted>". */
export function redactEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined) continue;
    out[name] = isSecretName(name) ? REDACTED : redactUrls(value);
  }
  return out;
}

/** `$NAME` or `${NAME}`: a reference to a secret, not one. */
const isReference = (value: string) => /^\$(\w+|\{\w+\})$/.test(value);

/**
 * A command line's stored copy. Redacted: the value of a flag with a secret name, as `--flag value`
 * (unless the next argument starts with `--`) or `--flag=value`, also with one dash (`-api-key=x`);
 * `name=value` arguments (`API_KEY=x`, hydra `db.password=x`) and `Name: value` headers with a secret
 * name; credentials in URLs in any argument. `$NAME` values are kept. A string is a shell command.
 */
export function redactArgs(command: string[]): string[];
export function redactArgs(command: string): string;
export function redactArgs(command: string[] | string): string[] | string;
export function redactArgs(command: string[] | string): string[] | string {
  if (typeof command === 'string') return redactShell(command);
  const out: string[] = [];
  for (let i = 0; i < command.length; i++) {
    const arg = command[i]!;
    const flag = /^(--?[A-Za-z][\w.-]*)(=.*)?$/s.exec(arg);
    const pair = /^([+~]*[A-Za-z_][\w.\-/]*=|[A-Za-z][\w-]*:\s*)(.*)$/s.exec(arg);
    const next = command[i + 1];
    if (flag && isSecretName(flag[1]!) && flag[2] === undefined) {
      out.push(arg);
      if (next === undefined || next.startsWith('--')) continue;
      out.push(isReference(next) ? next : REDACTED);
      i++;
    } else if (flag && isSecretName(flag[1]!)) {
      out.push(flag[2] === '=' || isReference(flag[2]!.slice(1)) ? arg : `${flag[1]}=${REDACTED}`);
    } else if (!flag && pair && pair[2] && isSecretName(pair[1]!) && !isReference(pair[2])) {
      out.push(`${pair[1]}${REDACTED}`);
    } else {
      out.push(redactUrls(arg));
    }
  }
  return out;
}

/** One argument quoted for a POSIX shell, only when needed. */
export function shellQuote(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A shell command's stored copy: its words redacted as arguments are, the rest of the line kept. */
function redactShell(line: string): string {
  const words = [...line.matchAll(/(?:'[^']*'|"(?:[^"\\]|\\.)*"|\\.|[^\s'"\\;&|<>()])+/gs)];
  const texts = words.map((m) => m[0].replace(/'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)/gs,
    (_q, single?: string, double?: string, escaped?: string) => single ?? escaped ?? double!.replace(/\\(["\\$`])/g, '$1')));
  const redacted = redactArgs(texts);
  let out = '', from = 0;
  words.forEach((m, i) => {
    if (redacted[i] === texts[i]) return;
    out += line.slice(from, m.index) + shellQuote(redacted[i]!);
    from = m.index + m[0].length;
  });
  return out + line.slice(from);
}

/** True when a command holds a redacted value. */
export function hasRedacted(command: string[] | string): boolean {
  return [command].flat().some((a) => a.includes(REDACTED));
}

/**
 * The command to start again for a stored one: as stored when nothing was redacted; else the first
 * candidate (the runlens.yaml commands) that redacts to it, with the stored program (argv[0], the
 * resolved interpreter) and trailing stored arguments (overrides). Throws when none fits, so a
 * redacted value is never passed to a program.
 */
export function restoreRedacted(stored: string[] | string, candidates: (string[] | string)[]): string[] | string {
  if (!hasRedacted(stored)) return stored;
  for (const c of candidates) {
    if (typeof stored === 'string' || typeof c === 'string') {
      if (typeof stored === 'string' && typeof c === 'string' && redactArgs(c) === stored) return c;
      continue;
    }
    const tail = stored.slice(c.length);
    if (c.length <= stored.length && redactArgs(c).every((a, i) => i === 0 || a === stored[i]) && !hasRedacted(tail)) {
      return [stored[0]!, ...c.slice(1), ...tail];
    }
  }
  throw new Error(`The recorded command has secret values that RunLens does not keep (shown as ${REDACTED}), and no run configuration in runlens.yaml has this command to take them from. Start the run from runlens.yaml instead.`);
}
