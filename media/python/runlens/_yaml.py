"""A small YAML reader, enough for runlens.yaml and params files (the helper is standard library only).

It reads block mappings and sequences (also `- key: value` items and sequences under a key at the
key's indent), flow collections (`[a, b]`, `{k: v}`, also over several lines), plain, single- and
double-quoted scalars, literal and folded block scalars (`|`, `>`, with `-` / `+`), comments and a
leading `---`. Plain scalars resolve as YAML 1.2's core schema does (the extension's `yaml` package):
null, true/false, ints (also 0o and 0x), floats, .inf, .nan. Anything else (anchors, aliases, tags,
complex keys, multi-line plain or quoted scalars, several documents, duplicate keys) raises
YamlError rather than guessing; test/unit/pythonHelperYaml.test.ts compares it with the `yaml` package.
"""

import re


class YamlError(ValueError):
    pass


class _NeedMore(Exception):
    """A flow collection goes on past the end of the text read so far."""


_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_SPECIAL = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z|\.(?:nan|NaN|NAN)\Z")
_BLOCK_HEADER = re.compile(r"([|>])(?:([-+])([1-9])?|([1-9])([-+])?)?\Z")
_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
    "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def resolve(text):
    """A plain scalar's value under the core schema."""
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        return int(text)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _SPECIAL.match(text):
        return float("nan") if text.endswith(("nan", "NaN", "NAN")) else float(text.replace(".", "").lower())
    return text


def key_text(value):
    """A scalar as the JavaScript object key (String(key)) the extension gets for it."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return js_number(value)


def js_number(value):
    """A number as JavaScript writes it (1.0 -> "1", 1e21 -> "1e+21"; tiny floats aside)."""
    if isinstance(value, int) and abs(value) < 10**21:
        return str(value)
    value = float(value)
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return re.sub(r"e([+-])0*([0-9])", r"e\1\2", repr(value))


def _strip_comment(line):
    """The line without a trailing comment and trailing blanks. A quote counts only where a scalar
    can start, so `don't` is plain text."""
    quote = None
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if quote == '"':
            if c == "\\":
                i += 1
            elif c == '"':
                quote = None
        elif quote == "'":
            if c == "'":
                if i + 1 < n and line[i + 1] == "'":
                    i += 1
                else:
                    quote = None
        elif c in "'\"" and (i == 0 or line[i - 1] in " \t[{,"):
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(" \t")
        i += 1
    return line.rstrip(" \t")


def _is_item(text):
    return text == "-" or text.startswith("- ")


class _Parser:
    def __init__(self, text):
        if text.startswith("\ufeff"):
            text = text[1:]
        self.lines = [l[:-1] if l.endswith("\r") else l for l in text.split("\n")]
        if self.lines[-1] == "":
            self.lines.pop()  # the text's last newline ends a line; no empty line follows it
        self.i = 0
        self.body = False  # past the document's start: a line "..." or "---" ends the content

    def fail(self, message):
        raise YamlError("%s (line %d)" % (message, self.i + 1))

    def peek(self):
        """(indent, text) of the next line with content, comments removed; None at the end."""
        while self.i < len(self.lines):
            body = _strip_comment(self.lines[self.i])
            text = body.lstrip(" ")
            if not text:
                self.i += 1
                continue
            if text[0] == "\t":
                self.fail("tabs for indentation")
            if self.body and text in ("...", "---") and len(body) == len(text):
                return None
            return len(body) - len(text), text
        return None

    def document(self):
        head = self.peek()
        if head and head[1].startswith("%"):
            self.fail("directives are not supported")
        if head and head[1] == "---":
            self.i += 1
        elif head and head[1].startswith("--- "):
            self.fail("content on the --- line is not supported")
        self.body = True
        value = self.node(0)
        if self.peek() is None and self.i < len(self.lines) and self.lines[self.i].rstrip(" \t") == "...":
            self.i += 1
        self.body = False
        if self.peek() is not None:
            self.fail("unexpected content (several documents or a bad indent)")
        return value

    def node(self, min_indent):
        nxt = self.peek()
        if nxt is None or nxt[0] < min_indent:
            return None
        indent, text = nxt
        if _is_item(text):
            return self.sequence(indent)
        if self.split_key(text) is not None:
            return self.mapping(indent)
        self.i += 1
        return self.value(text, indent, in_map=False)

    def split_key(self, text):
        """(key, rest) when the line is `key: rest`, else None."""
        if text[0] in "'\"":
            try:
                key, end = self.quoted(text, 0)
            except YamlError:
                return None
            after = text[end:].lstrip(" ")
            if after[:1] == ":" and (len(after) == 1 or after[1] in " \t"):
                return key, after[1:].strip(" \t")
            return None
        if text[0] in "[{":
            return None
        if text[0] == "?" and (len(text) == 1 or text[1] == " "):
            self.fail("complex keys are not supported")
        pos = 0
        while True:
            pos = text.find(":", pos)
            if pos < 0:
                return None
            if pos + 1 == len(text) or text[pos + 1] in " \t":
                break
            pos += 1
        raw = text[:pos].rstrip(" \t")
        if not raw or raw[0] in "&*!|>%@`":
            self.fail("anchors, aliases and tags are not supported")
        return key_text(resolve(raw)), text[pos + 1 :].strip(" \t")

    def mapping(self, indent):
        out = {}
        while True:
            nxt = self.peek()
            if nxt is None or nxt[0] < indent:
                return out
            if nxt[0] > indent or _is_item(nxt[1]):
                self.fail("bad indentation")
            kv = self.split_key(nxt[1])
            if kv is None:
                self.fail("expected `key: value`")
            key, rest = kv
            if key in out:
                self.fail("duplicate key %r" % key)
            self.i += 1
            out[key] = self.value(rest, indent, in_map=True)

    def sequence(self, indent):
        out = []
        while True:
            nxt = self.peek()
            if nxt is None or nxt[0] < indent:
                return out
            if nxt[0] > indent or not _is_item(nxt[1]):
                if nxt[0] == indent and self.split_key(nxt[1]) is not None:
                    return out  # the next key of a mapping this sequence sits under
                self.fail("bad indentation")
            text = nxt[1]
            rest = text[1:].lstrip(" ")
            if rest and (_is_item(rest) or self.split_key(rest) is not None):
                # `- key: value` or `- - x`: the rest of the line starts a node at its own column
                col = indent + len(text) - len(rest)
                self.lines[self.i] = " " * col + rest
                out.append(self.node(col))
            else:
                self.i += 1
                out.append(self.value(rest, indent, in_map=False))

    def value(self, rest, indent, in_map):
        """The value after `key:` or `-` on a line of this indent."""
        if rest == "":
            nxt = self.peek()
            if nxt is None:
                return None
            if nxt[0] > indent:
                return self.node(nxt[0])
            if in_map and nxt[0] == indent and _is_item(nxt[1]):
                return self.sequence(indent)
            return None
        if rest[0] in "|>":
            return self.block_scalar(rest, indent)
        if rest[0] in "&*!%@`":
            self.fail("anchors, aliases and tags are not supported")
        value = self.inline(rest)
        nxt = self.peek()
        if nxt is not None and nxt[0] > indent:
            self.fail("multi-line scalars are not supported")
        return value

    def inline(self, text):
        if text[0] in "[{":
            while True:
                try:
                    value, end = self.flow(text, 0)
                    break
                except _NeedMore:
                    if self.i >= len(self.lines):
                        self.fail("unclosed %s" % text[0])
                    text += " " + _strip_comment(self.lines[self.i]).strip(" \t")
                    self.i += 1
            if text[end:].strip(" \t"):
                self.fail("unexpected text after a flow collection")
            return value
        if text[0] in "'\"":
            value, end = self.quoted(text, 0)
            if text[end:].strip(" \t"):
                self.fail("unexpected text after a quoted scalar")
            return value
        if ": " in text or text.endswith(":") or ":\t" in text:
            self.fail("a mapping is not allowed here")
        return resolve(text)

    def quoted(self, text, pos):
        """The quoted scalar at text[pos] and the position after it (one line only)."""
        q = text[pos]
        out = []
        i = pos + 1
        while i < len(text):
            c = text[i]
            if q == "'":
                if c == "'":
                    if text[i + 1 : i + 2] == "'":
                        out.append("'")
                        i += 2
                        continue
                    return "".join(out), i + 1
                out.append(c)
            elif c == '"':
                return "".join(out), i + 1
            elif c == "\\":
                e = text[i + 1 : i + 2]
                if e in _ESCAPES:
                    out.append(_ESCAPES[e])
                    i += 1
                elif e in _HEX_ESCAPES:
                    digits = text[i + 2 : i + 2 + _HEX_ESCAPES[e]]
                    if len(digits) != _HEX_ESCAPES[e] or not all(d in "0123456789abcdefABCDEF" for d in digits):
                        self.fail("bad escape")
                    out.append(chr(int(digits, 16)))
                    i += 1 + len(digits)
                else:
                    self.fail("bad escape \\%s" % e)
            else:
                out.append(c)
            i += 1
        self.fail("multi-line quoted scalars are not supported")

    def flow(self, s, pos):
        """The flow node at s[pos] (after blanks) and the position after it."""
        pos = _skip(s, pos)
        if pos >= len(s):
            raise _NeedMore()
        c = s[pos]
        if c in "[{":
            close = "]" if c == "[" else "}"
            out = [] if c == "[" else {}
            pos += 1
            while True:
                pos = _skip(s, pos)
                if pos >= len(s):
                    raise _NeedMore()
                if s[pos] == close:
                    return out, pos + 1
                if c == "[":
                    item, pos = self.flow(s, pos)
                    out.append(item)
                else:
                    key, pos = self.flow(s, pos)
                    if isinstance(key, (list, dict)):
                        self.fail("complex keys are not supported")
                    key = key_text(key)
                    pos = _skip(s, pos)
                    if pos >= len(s):
                        raise _NeedMore()
                    value = None
                    if s[pos] == ":":
                        value, pos = self.flow_value(s, pos + 1, close)
                    if key in out:
                        self.fail("duplicate key %r" % key)
                    out[key] = value
                pos = _skip(s, pos)
                if pos >= len(s):
                    raise _NeedMore()
                if s[pos] == ",":
                    pos += 1
                elif s[pos] != close:
                    self.fail("expected , or %s" % close)
        if c in "'\"":
            return self.quoted(s, pos)
        if c in "&*!%@`|>":
            self.fail("unsupported flow content")
        end = pos
        while end < len(s) and s[end] not in ",[]{}":
            if s[end] == ":" and (end + 1 == len(s) or s[end + 1] in " \t,[]{}"):
                break
            end += 1
        return resolve(s[pos:end].rstrip(" \t")), end

    def flow_value(self, s, pos, close):
        pos = _skip(s, pos)
        if pos >= len(s):
            raise _NeedMore()
        if s[pos] in ",}" or s[pos] == close:
            return None, pos
        return self.flow(s, pos)

    def block_scalar(self, header, indent):
        m = _BLOCK_HEADER.match(header)
        if not m:
            self.fail("bad block scalar header")
        folded = m.group(1) == ">"
        chomp = m.group(2) or m.group(5) or ""
        explicit = m.group(3) or m.group(4)
        lines = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip(" ") and len(line) - len(line.lstrip(" ")) <= indent:
                break
            lines.append(line)
            self.i += 1
        if explicit:
            ci = indent + int(explicit)
        else:
            ci = min([len(l) - len(l.lstrip(" ")) for l in lines if l.strip(" ")] or [indent + 1])
        result, empty, content, more = "", 0, False, False
        for line in lines:
            if not line.strip(" ") and len(line) <= ci:
                empty += 1
                continue
            text = line[ci:]
            if not folded:
                result += "\n" * (1 + empty if content else empty)
            elif text[:1] in (" ", "\t"):
                more = True
                result += "\n" * (1 + empty if content else empty)
            elif more:
                more = False
                result += "\n" * (empty + 1)
            elif empty == 0:
                result += " " if content else ""
            else:
                result += "\n" * empty
            result += text
            content, empty = True, 0
        if chomp == "+":
            result += "\n" * (1 + empty if content else empty)
        elif chomp == "" and content:
            result += "\n"
        return result


def _skip(s, pos):
    while pos < len(s) and s[pos] in " \t":
        pos += 1
    return pos


def parse(text):
    """The document's value (dicts, lists, str, int, float, bool, None); YamlError when it uses
    something this reader does not support."""
    return _Parser(text).document()
