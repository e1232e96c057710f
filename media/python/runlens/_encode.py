"""Turning buffered records into lines of the RunLens metrics file (see src/core/ingest/FORMAT.md).

The hot part is `encode_metrics`: it turns up to a few thousand buffered records (parallel lists of
steps, wall times in seconds and `{key: value}` dicts) into lines. Consecutive records with the same
keys become one `columns` line: each column is an `array('d')` (filled by C-level iteration) written
as base64 of its little-endian float64 bytes, so no float is ever formatted as text and NaN / ±Inf
need no special case. Values are only checked here, not in `log()`: anything an `array('d')` does
not take (strings, None, ...) sends its records through `clean`, which converts or drops each value
(one warning per key). Records between such runs (runs shorter than MIN_RUN, non-string keys, ints
too large for a float64) are written as a `batch` line through the older JSON path.
"""

import binascii
import json
import math
import operator
import os
import sys
from array import array
from itertools import chain, compress, count, repeat
from operator import ge, is_, is_not, itemgetter, ne, sub

_b64 = binascii.b2a_base64
_big_endian = sys.byteorder == "big"
_plain = frozenset((float, int)).issuperset  # value types that need no conversion
_values = dict.values
_type = type

# Shortest run of consecutive records with the same keys written as a `columns` line. Shorter runs go
# into a `batch` line: measured, a columns line of 2 records costs a little more to write than 2
# batch entries (and is larger); from 3 records on, columns win.
MIN_RUN = 3

# Values in metrics are exactly float or int after `clean`; keys may be anything.
_metrics_encoder = json.JSONEncoder(allow_nan=False, separators=(",", ":"), skipkeys=True, check_circular=False)
_record_encoder = json.JSONEncoder(allow_nan=False, separators=(",", ":"), skipkeys=True)


def nonfinite(v):
    """The string FORMAT.md uses for a non-finite float."""
    if v != v:
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


# -- checking values --------------------------------------------------------------------------


def clean(m, warn):
    """A copy of `m` with every value a float or an int; other values dropped with a warning."""
    out = {}
    for k, v in m.items():
        c = v.__class__
        if c is float or c is int:
            out[k] = v
            continue
        if isinstance(v, (str, bytes, bytearray)) or v is None:
            num = None
        elif isinstance(v, bool):
            num = int(v)
        elif isinstance(v, int):
            num = int(v)
        elif isinstance(v, float):
            num = float(v)
        else:
            num = _number(v)
        if num is None:
            warn(("value", k), "metric %r has a non-numeric value (%s); skipping it" % (k, type(v).__name__))
        else:
            out[k] = num
    return out


def _number(v):
    """numpy / torch / Decimal scalars and the like as an int or float, else None."""
    t = type(v)
    try:
        if hasattr(t, "__index__") and not hasattr(t, "__float__"):
            return operator.index(v)
        if hasattr(t, "__float__"):
            if hasattr(t, "dtype") and getattr(getattr(v, "dtype", None), "kind", "") in ("i", "u", "b"):
                return int(v)  # numpy integer scalars: keep them exact
            return float(v)
    except Exception:
        return None
    return None


def _clean_records(steps, times, dicts, warn):
    """The records with their values cleaned; records left with no value are dropped (their step
    was used up by log(), but there is nothing to write)."""
    s2, t2, d2 = [], [], []
    for s, t, d in zip(steps, times, dicts):
        if not _plain(map(_type, _values(d))):
            d = clean(d, warn)
            if not d:
                continue
        s2.append(s)
        t2.append(t)
        d2.append(d)
    return s2, t2, d2


# -- columns ------------------------------------------------------------------------------------

_col_templates = {}


def _col_template(keys):
    """The bytes %-template of a `columns` line for these keys (in this order), or False if a key
    is not a str (those go through the json module, which converts or skips such keys)."""
    hit = _col_templates.get(keys)
    if hit is not None:
        return hit
    parts = []
    for k in keys:
        if not isinstance(k, str):
            hit = False
            break
        parts.append(json.dumps(str(k)).replace("%", "%%") + ':"%s"')  # ASCII: json.dumps escapes
    else:
        hit = ('{"t":%a,"columns":{"n":%d,"step":"%s","time":"%s","values":{' + ",".join(parts) + "}}}\n").encode("ascii")
    if len(_col_templates) > 512:
        _col_templates.clear()
    _col_templates[keys] = hit
    return hit


def _b64col(a):
    if _big_endian:
        a.byteswap()
    return _b64(a, newline=False)


def _columns(steps, times, dicts, keys, now):
    """One `columns` line for the records, or None if they do not all have exactly `keys` or a
    value is not something an array('d') takes (a float, an int that fits, a bool, an object with
    __float__ / __index__) or a key is not a str."""
    tmpl = _col_template(keys)
    if not tmpl:
        return None
    n = len(dicts)
    try:
        cols = [array("d", list(map(itemgetter(k), dicts))) for k in keys]  # KeyError: a key is missing
        if sum(map(len, dicts)) != n * len(keys):
            return None  # every record has all of `keys`, so some record has more
        args = [now, n, _b64col(array("d", steps)), _b64col(array("d", times))]
    except Exception:  # a non-numeric value, an int too large for a float64, a failing __float__
        return None
    args.extend(map(_b64col, cols))
    return tmpl % tuple(args)


_keysets = {}  # dict shape (keys in order) -> its key set, one frozenset object per key set
_canonical = {}


def _runs(shapes):
    """[start, end) of each maximal run of consecutive records with the same key set (in any
    order), found with C-level iteration: the cost per run is small (many runs are normal when,
    say, two dicts are logged at each step)."""
    if len(_keysets) > 4096:
        _keysets.clear()
        _canonical.clear()
    get = _keysets.get
    sets = list(map(get, shapes))
    if None in sets:
        for shape in set(compress(shapes, map(is_, sets, repeat(None)))):
            ks = frozenset(shape)
            _keysets[shape] = _canonical.setdefault(ks, ks)
        sets = list(map(get, shapes))
    starts = [0]
    starts.extend(compress(count(1), map(is_not, sets, sets[1:])))  # same object = same key set
    ends = starts[1:]
    ends.append(len(shapes))
    return starts, ends


def _encode_mixed(steps, times, dicts, now, warn):
    """Lines for records with different key sets or values that need `clean`: one `columns` line
    per run of at least MIN_RUN consecutive records with the same key set, a `batch` line for the
    records between such runs. Records stay in order."""
    if not _plain(map(_type, chain.from_iterable(map(_values, dicts)))):
        steps, times, dicts = _clean_records(steps, times, dicts, warn)
        if not dicts:
            return b""
    shapes = list(map(tuple, dicts))
    starts, ends = _runs(shapes)
    out = []
    done = 0  # records before this one are in `out`
    for a, b in compress(zip(starts, ends), map(ge, map(sub, ends, starts), repeat(MIN_RUN))):
        keys = shapes[a]
        line = _columns(steps[a:b], times[a:b], dicts[a:b], keys, now) if keys else None
        if line is None:
            continue  # stays with the records for the next `batch` line
        if done < a:
            out.append(encode_batch(steps[done:a], times[done:a], dicts[done:a], now, shapes[done:a]))
        out.append(line)
        done = b
    if done < len(dicts):
        out.append(encode_batch(steps[done:], times[done:], dicts[done:], now, shapes[done:]))
    return b"".join(out)


def encode_metrics(steps, times, dicts, now, warn):
    """Newline-terminated lines (bytes, possibly empty) for the records (steps[i], times[i],
    dicts[i]); `warn(key, message)` reports a skipped value."""
    try:
        if len(dicts) >= MIN_RUN and dicts[0]:
            # The common case: every record has the first one's keys and plain numbers.
            line = _columns(steps, times, dicts, tuple(dicts[0]), now)
            if line is not None:
                return line
        return _encode_mixed(steps, times, dicts, now, warn)
    except Exception:
        pass
    try:
        steps, times, dicts = _clean_records(steps, times, dicts, warn)
    except Exception:
        pass
    return encode_batch(steps, times, dicts, now) if dicts else b""


# -- batch lines --------------------------------------------------------------------------------

_templates = {}


def _template(keys):
    """(template, nan_count) for records with exactly these keys, or None if a key is not a str
    (those go through the json module, which converts or skips such keys)."""
    hit = _templates.get(keys)
    if hit is not None:
        return hit
    parts = []
    for k in keys:
        if k.__class__ is not str:
            if not isinstance(k, str):
                return None
            k = str(k)
        parts.append(json.dumps(k).replace("%", "%%") + ":%r")
    tmpl = "[%r,%r,{" + ",".join(parts) + "}]"  # steps are ints and times finite floats: repr is their JSON
    # Values are ints or floats, so the only letters they can produce are "e", "inf" and "nan"; keys
    # are fixed text inside quotes. Counting "n" in the output against the template's own count tells
    # whether any value was non-finite.
    hit = (tmpl, (tmpl % ((0, 0.5) + (0,) * len(keys))).count("n"))
    if len(_templates) > 512:
        _templates.clear()
    _templates[keys] = hit
    return hit


def _encode_run(steps, times, dicts, keys):
    """Comma-joined entries for records that all have exactly `keys`, or None for the fallback."""
    hit = _template(keys)
    if hit is None:
        return None
    tmpl, n_letters = hit
    rows = zip(steps, times, *[map(itemgetter(k), dicts) for k in keys])
    out = ",".join(map(tmpl.__mod__, rows))  # KeyError if a record lacks one of the keys
    if out.count("n") != len(dicts) * n_letters:
        return None  # a NaN or infinity: the fallback writes it as a string
    return out


def _encode_generic(steps, times, dicts):
    """Comma-joined entries through the json module (any keys; non-finite values as strings)."""
    rows = list(zip(steps, times, dicts))
    try:
        return _metrics_encoder.encode(rows)[1:-1]
    except ValueError:
        pass  # a non-finite value
    fixed = []
    for step, t, m in rows:
        for v in m.values():
            if v.__class__ is float and not math.isfinite(v):
                m = {k: (nonfinite(v) if v.__class__ is float and not math.isfinite(v) else v) for k, v in m.items()}
                break
        fixed.append((step, t, m))
    return _metrics_encoder.encode(fixed)[1:-1]


def encode_batch(steps, times, dicts, now, shapes=None):
    """One `batch` line (bytes, newline-terminated) for the records (non-empty lists; values
    already cleaned; `shapes`: the tuple of each dict's keys, if known)."""
    body = None
    try:
        n = len(dicts)
        if shapes is None and len(set(map(len, dicts))) == 1:
            # Same number of keys everywhere: most likely the same keys. If not, a record lacks one
            # of the first record's keys and the template raises KeyError.
            try:
                body = _encode_run(steps, times, dicts, tuple(dicts[0]))
                if body is None:
                    body = _encode_generic(steps, times, dicts)
            except KeyError:
                body = None
        if body is None:
            if shapes is None:
                shapes = list(map(tuple, dicts))
            starts = [0]
            starts.extend(compress(count(1), map(ne, shapes, shapes[1:])))
            if len(starts) * 8 > n:
                body = _encode_generic(steps, times, dicts)  # keys change nearly every record
            else:
                starts.append(n)
                parts = []
                for a, b in zip(starts, starts[1:]):
                    part = _encode_run(steps[a:b], times[a:b], dicts[a:b], shapes[a])
                    parts.append(part if part is not None else _encode_generic(steps[a:b], times[a:b], dicts[a:b]))
                body = ",".join(parts)
    except Exception:
        body = None
    if body is None:
        body = _encode_one_by_one(steps, times, dicts)
    return ('{"t":%r,"batch":[%s]}\n' % (now, body)).encode("utf-8")


def _encode_one_by_one(steps, times, dicts):
    """Last resort: encode each record alone and leave out the ones that cannot be encoded."""
    parts = []
    for rec in zip(steps, times, dicts):
        try:
            parts.append(_encode_generic(*[[x] for x in rec]))
        except Exception:
            pass
    return ",".join(parts)


# -- other records ----------------------------------------------------------------------------


MAX_DEPTH = 64
VALUE_NODES = 100000  # containers and objects converted per top-level value
TOTAL_NODES = 1000000  # and in all


class _Budget:
    """Bounds the work on params that share sub-objects (a list holding itself twice, 40 levels
    deep, has 2**40 paths): past it, the rest of a value becomes a short repr."""

    __slots__ = ("value", "total")

    def __init__(self):
        self.value = VALUE_NODES
        self.total = TOTAL_NODES

    def take(self):
        self.value -= 1
        self.total -= 1
        return self.value >= 0 and self.total >= 0


def jsonable(v, depth=0, budget=None):
    """A copy of `v` made of dicts, lists, strings, finite numbers, booleans and None (non-finite
    floats as "NaN" / "Infinity" / "-Infinity"); past MAX_DEPTH levels or the node budget, a short repr."""
    c = v.__class__
    if v is None or c is str or c is bool or c is int:
        return v
    if c is float:
        return v if math.isfinite(v) else nonfinite(v)
    if budget is None:
        budget = _Budget()
    if depth > MAX_DEPTH or not budget.take():
        return _short(v)
    if isinstance(v, dict) or (hasattr(v, "keys") and hasattr(v, "__getitem__")):
        try:
            out = {}
            for k in list(v.keys()):
                if depth == 0:
                    budget.value = VALUE_NODES  # each top-level value gets its own share
                out[_key(k)] = jsonable(v[k], depth + 1, budget)
            return out
        except Exception:
            return _short(v)
    if isinstance(v, (list, tuple, set, frozenset)):
        return [jsonable(x, depth + 1, budget) for x in v]
    if isinstance(v, str):
        return str(v)
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return jsonable(float(v))
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, os.PathLike):
        return os.fsdecode(v)
    tolist = getattr(v, "tolist", None)  # numpy arrays and scalars
    if callable(tolist):
        try:
            return jsonable(tolist(), depth + 1, budget)
        except Exception:
            pass
    for conv in (_index, float):
        try:
            return jsonable(conv(v), depth + 1, budget)
        except Exception:
            pass
    return _safe_str(v)


_repr = None


def _short(v):
    """A bounded repr (reprlib: a few levels and items), whatever `v` holds."""
    global _repr
    if _repr is None:
        import reprlib

        _repr = reprlib.Repr()
        _repr.maxlevel = 3
        _repr.maxstring = _repr.maxother = 80
    try:
        return _repr.repr(v)
    except Exception:
        return "<%s>" % type(v).__name__


def _index(v):
    return v.__index__()


def _key(k):
    if k.__class__ is str:
        return k
    if isinstance(k, str):
        return str(k)
    return _safe_str(k)


def _safe_str(v):
    try:
        return str(v)
    except Exception:
        return "<%s>" % type(v).__name__


def encode_record(kind, value, now):
    """One line (bytes) for a params / tags / artifact / model record."""
    return (_record_encoder.encode({"t": now, kind: value}) + "\n").encode("utf-8")
