"""A tiny reader for the small YAML subset used by params.yaml (stdlib only).

Supported:
  * block mappings nested by indentation (spaces only), e.g.
        train:
          lr: 0.05
  * keys: plain identifiers  [A-Za-z_][A-Za-z0-9_-]*   (no dots, no quotes)
  * scalar values (YAML 1.2 core schema):
        int     42  -7  +3
        float   0.05  1e-3  -2.5E+4  .5
        bool    true / false   (also True, TRUE, False, FALSE)
        null    null  ~   or an empty value with nothing nested under it
        str     plain text, 'single quoted' ('' escapes a quote),
                "double quoted" (JSON-style backslash escapes)
  * comments: whole-line, or after a value when preceded by whitespace

Anything else (lists, flow {..}/[..], anchors, tags, multi-line strings,
tabs, several documents, yes/no/on/off, 0x1F, 1_000, ...) raises ParamsError
with the file name and line number instead of guessing.
"""
import json
import re

__all__ = ["ParamsError", "load", "loads", "parse_scalar"]

_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)[ ]*:(?:[ ]+(.*))?$")
_INT = re.compile(r"[-+]?[0-9]+$")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_TRUE, _FALSE, _NULL = {"true", "True", "TRUE"}, {"false", "False", "FALSE"}, {"null", "Null", "NULL", "~"}
_AMBIGUOUS_BOOL = {"yes", "no", "on", "off", "y", "n"}  # booleans in YAML 1.1, strings in 1.2
_BAD_START = tuple("[]{}&*!|>%@`,?")


class ParamsError(ValueError):
    """Unsupported or malformed params file content."""


def parse_scalar(text):
    """Convert one plain or quoted scalar (already stripped of comments) to a Python value."""
    t = text.strip()
    if t[:1] == '"':
        if len(t) < 2 or t[-1] != '"':
            raise ParamsError(f"unterminated double-quoted string: {t}")
        try:
            return json.loads(t)
        except ValueError:
            raise ParamsError(f"unsupported escape in double-quoted string: {t}") from None
    if t[:1] == "'":
        body = t[1:-1] if len(t) >= 2 and t[-1] == "'" else None
        if body is None or "'" in body.replace("''", ""):
            raise ParamsError(f"malformed single-quoted string: {t}")
        return body.replace("''", "'")
    if t == "" or t in _NULL:
        return None
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    if t.lower() in _AMBIGUOUS_BOOL:
        raise ParamsError(f"ambiguous value '{t}': write true/false, or quote it for a string")
    if _INT.match(t):
        return int(t)
    if _FLOAT.match(t):
        return float(t)
    if re.match(r"[-+]?\.?[0-9]", t):
        raise ParamsError(f"unsupported number format '{t}' (quote it if it is a string)")
    if t.startswith(_BAD_START) or t.startswith(("- ", "#")) or t == "-":
        raise ParamsError(f"unsupported YAML syntax in value: {t}")
    if ": " in t or t.endswith(":") or " #" in t:
        raise ParamsError(f"unsupported plain string '{t}' (quote it)")
    return t


def _split_value(rest):
    """Separate a value from a trailing '# comment', respecting quotes."""
    rest = rest.strip()
    if rest.startswith("#"):
        return ""
    if rest[:1] in ("'", '"'):
        q, i = rest[0], 1
        while i < len(rest):
            if q == '"' and rest[i] == "\\":
                i += 2
                continue
            if rest[i] == q:
                if q == "'" and rest[i + 1:i + 2] == "'":  # '' inside single quotes
                    i += 2
                    continue
                tail = rest[i + 1:]
                if tail.strip() and not re.match(r"\s+#", tail):
                    raise ParamsError(f"unexpected text after quoted string: {tail.strip()}")
                return rest[:i + 1]
            i += 1
        raise ParamsError(f"unterminated quoted string: {rest}")
    m = re.search(r"\s#", rest)
    return rest[:m.start()] if m else rest


def loads(text, source="<string>"):
    """Parse params text into nested dicts. Raises ParamsError('source:line: ...')."""
    root = {}
    stack = [(0, root)]          # (indent of the keys in this mapping, mapping)
    pending = None               # (parent dict, key, indent) of a 'key:' line with no value yet
    for lineno, raw in enumerate(text.splitlines(), 1):
        def fail(msg):
            raise ParamsError(f"{source}:{lineno}: {msg}")

        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if raw[indent:indent + 1] == "\t" or "\t" in raw[:indent]:
            fail("tabs are not allowed for indentation")
        if stripped in ("---", "...") or stripped.startswith(("--- ", "%")):
            fail("document markers/directives are not supported")
        if stripped.startswith("- ") or stripped == "-":
            fail("lists are not supported")

        if pending is not None:
            parent, key, parent_indent = pending
            pending = None
            if indent > parent_indent:           # first line of a nested mapping
                parent[key] = {}
                stack.append((indent, parent[key]))
            # else: 'key:' with nothing nested -> stays None (YAML null)
        while indent < stack[-1][0]:
            stack.pop()
        if indent != stack[-1][0]:
            fail("inconsistent indentation")
        mapping = stack[-1][1]

        m = _KEY_LINE.match(stripped)
        if not m:
            fail("expected 'key: value' with a plain key (letters, digits, _ and -)")
        key, rest = m.group(1), m.group(2) or ""
        if key in mapping:
            fail(f"duplicate key '{key}'")
        try:
            value = _split_value(rest)
            mapping[key] = parse_scalar(value)
        except ParamsError as e:
            fail(str(e))
        if value.strip() == "":
            pending = (mapping, key, indent)
    if not root:
        raise ParamsError(f"{source}: no parameters found (empty file?)")
    return root


def load(path):
    """Read and parse a params file. OSError/UnicodeDecodeError propagate to the caller."""
    with open(path, encoding="utf-8") as f:
        return loads(f.read(), source=str(path))
