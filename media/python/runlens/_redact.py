"""Stored copies of the environment and the command line without secrets: a port of the extension's
src/core/provenance/redact.ts (isSecretName, isSecretFile, redactUrls, redactEnv, redactArgs), with
the name rules read from the same data file, media/redaction.json. Regexes here spell out what
JavaScript means by \\w, \\s and \\b (ASCII word characters, Unicode white space), so both languages
give the same answer; test/unit/pythonHelperRedact.test.ts compares them.
"""

import json
import os
import re

_HERE = os.path.dirname(os.path.abspath(__file__))
# Installed copies carry the file next to the package; in the extension it is media/redaction.json.
RULES_FILES = (os.path.join(_HERE, "redaction.json"), os.path.join(_HERE, "..", "..", "redaction.json"))

_JS_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_W = "A-Za-z0-9_"
_URL = re.compile(r"\b([a-z][a-z0-9+.-]*://)([^" + _JS_SPACE + "]+)", re.I | re.A)
_HOST_START = re.compile(r"[" + _W + r"\[%-]")
_HTTP = re.compile(r"https?://", re.I)
_QUERY = re.compile(r"([?&;])([^=&#?;]+)=([^&#;'\"]+)")
_FLAG = re.compile(r"(--?[A-Za-z][" + _W + r".-]*)(=.*)?", re.S)
_PAIR = re.compile(r"([+~]*[A-Za-z_][" + _W + r".\-/]*=|[A-Za-z][" + _W + r"-]*:[" + _JS_SPACE + r"]*)(.*)", re.S)
_REFERENCE = re.compile(r"\$([" + _W + r"]+|\{[" + _W + r"]+\})")
_LAST_EXT = re.compile(r"\.[^.]*\Z")


def js_regex(source, flags=""):
    """A JavaScript RegExp source (no u/m flags) compiled with the same meaning: `$` is the end of
    the text and `.` does not match line terminators (unless flag s). Supports what redaction.json
    uses; \\d, \\w and \\s must not appear there (the file spells them out)."""
    dot = "." if "s" in flags else "[^\n\r\u2028\u2029]"
    out, i, in_class = [], 0, False
    while i < len(source):
        c = source[i]
        if c == "\\":
            out.append(source[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            out.append("\\[" if c == "[" else c)
        elif c == "[":
            in_class = True
            out.append(c)
        elif c == "$":
            out.append(r"\Z")
        elif c == ".":
            out.append(dot)
        else:
            out.append(c)
        i += 1
    return re.compile("".join(out), (re.I if "i" in flags else 0) | (re.S if "s" in flags else 0) | re.A)


class Rules:
    def __init__(self, data):
        self.redacted = data["redacted"]
        self.words = frozenset(data["secretWords"])
        self.ending = js_regex(data["secretEnding"])
        self.not_secret = frozenset(data["notSecret"])
        self.split = js_regex(data["nameSplit"])
        self.file = js_regex(data["secretFile"], data.get("secretFileFlags", "i"))
        self.file_word = js_regex(data["secretFileWord"])


_rules = None


def rules():
    """The rules from redaction.json, or None when it cannot be read (callers then redact everything)."""
    global _rules
    if _rules is None:
        _rules = False
        for path in RULES_FILES:
            try:
                with open(path, encoding="utf-8") as f:
                    _rules = Rules(json.load(f))
                break
            except (OSError, ValueError, KeyError, TypeError, re.error):
                continue
    return _rules or None


def _parts(r, name):
    return [p.upper() for p in r.split.split(name) if p]


def is_secret_name(name):
    r = rules()
    if r is None:
        return True
    if name.upper() in r.not_secret:
        return False
    parts = _parts(r, name)

    def word(p):
        return p in r.words or (p.endswith("S") and p[:-1] in r.words)

    for i, p in enumerate(parts):
        nxt = parts[i + 1] if i + 1 < len(parts) else ""
        if word(p) or word(p + nxt) or r.ending.search(p):
            return True
    return False


def is_secret_file(path):
    """True when a file (a path with / separators) likely holds a secret, by its name."""
    r = rules()
    if r is None:
        return True
    name = path[path.rfind("/") + 1 :]
    if r.file.search(name):
        return True
    parts = _parts(r, _LAST_EXT.sub("", name, count=1))
    for i, p in enumerate(parts):
        nxt = parts[i + 1] if i + 1 < len(parts) else ""
        if r.file_word.search(p) or r.file_word.search(p + nxt):
            return True
    return False


def redact_urls(text):
    red = rules().redacted

    def url(m):
        scheme, rest = m.group(1), m.group(2)
        at = rest.rfind("@")
        while at > 0 and not _HOST_START.match(rest, at + 1):
            at = rest.rfind("@", 0, at)
        if at > 0:
            info = rest[:at]
            colon = info.find(":")
            if colon >= 0:
                rest = info[:colon] + ":" + red + rest[at:]
            elif _HTTP.fullmatch(scheme) and not any(c in info for c in "/?#"):
                rest = red + rest[at:]

        def query(q):
            return q.group(1) + q.group(2) + "=" + red if is_secret_name(q.group(2)) else q.group(0)

        return scheme + _QUERY.sub(query, rest)

    return _URL.sub(url, text)


def redact_env(env):
    """A copy of env, sorted by name, secret values replaced by "<redacted>"."""
    r = rules()
    out = {}
    for name in sorted(env):
        value = env[name]
        if r is None:
            out[name] = "<redacted>"
        else:
            out[name] = r.redacted if is_secret_name(name) else redact_urls(value)
    return out


def redact_args(command):
    """A command line's stored copy (a list of arguments), as redact.ts's redactArgs makes it."""
    r = rules()
    if r is None:
        return command[:1] + ["<redacted>"] * (len(command) - 1)
    red = r.redacted
    out = []
    i = 0
    while i < len(command):
        arg = command[i]
        flag = _FLAG.fullmatch(arg)
        pair = _PAIR.fullmatch(arg)
        nxt = command[i + 1] if i + 1 < len(command) else None
        if flag and is_secret_name(flag.group(1)) and flag.group(2) is None:
            out.append(arg)
            if nxt is not None and not nxt.startswith("--"):
                out.append(nxt if _REFERENCE.fullmatch(nxt) else red)
                i += 1
        elif flag and is_secret_name(flag.group(1)):
            value = flag.group(2)
            out.append(arg if value == "=" or _REFERENCE.fullmatch(value[1:]) else flag.group(1) + "=" + red)
        elif not flag and pair and pair.group(2) and is_secret_name(pair.group(1)) and not _REFERENCE.fullmatch(pair.group(2)):
            out.append(pair.group(1) + red)
        else:
            out.append(redact_urls(arg))
        i += 1
    return out
