"""Turning buffered records into lines of the RunLens metrics file (see src/core/ingest/FORMAT.md).

The hot part is `encode_batch`: it turns up to a few thousand `(step, t_ns, {key: number})` records
into one `batch` line. Formatting floats dominates the cost, so the common case (consecutive records
with the same keys, all values finite) is done with one `%`-template per key set, driven entirely
by C-level iteration (`map`, `zip`, `str.join`). Anything unusual falls back to the json module.

Each entry's time is written as integer nanoseconds with an exponent (`1700000000123456789e-9`): a
valid JSON number equal to the wall time in seconds, and several times cheaper to format than a
float's shortest repr.
"""

import json
import math
import os
from itertools import compress, count, repeat
from operator import itemgetter, ne, truediv

_get0 = itemgetter(0)
_get1 = itemgetter(1)
_get2 = itemgetter(2)

# Values in metrics are exactly float or int after log() sanitised them; keys may be anything.
_metrics_encoder = json.JSONEncoder(allow_nan=False, separators=(",", ":"), skipkeys=True, check_circular=False)
_record_encoder = json.JSONEncoder(allow_nan=False, separators=(",", ":"), skipkeys=True)


def nonfinite(v):
    """The string FORMAT.md uses for a non-finite float."""
    if v != v:
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


# -- metrics batches --------------------------------------------------------------------------

_templates = {}


def _template(keys):
    """(template, nan_count, inf_count) for records with exactly these keys, or None if a key is
    not a str (those go through the json module, which converts or skips such keys)."""
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
    tmpl = "[%r,%re-9,{" + ",".join(parts) + "}]"  # steps and times are ints: repr is their JSON
    # Values are ints or floats, so the only letters they can produce are "e", "inf" and "nan"; keys
    # are fixed text inside quotes. Counting "n" in the output against the template's own count tells
    # whether any value was non-finite.
    hit = (tmpl, (tmpl % ((0, 0) + (0,) * len(keys))).count("n"))
    if len(_templates) > 512:
        _templates.clear()
    _templates[keys] = hit
    return hit


def _encode_run(chunk, dicts, keys):
    """Comma-joined entries for records that all have exactly `keys`, or None for the fallback."""
    hit = _template(keys)
    if hit is None:
        return None
    tmpl, n_letters = hit
    rows = zip(map(_get0, chunk), map(_get1, chunk), *[map(itemgetter(k), dicts) for k in keys])
    out = ",".join(map(tmpl.__mod__, rows))  # KeyError if a record lacks one of the keys
    if out.count("n") != len(chunk) * n_letters:
        return None  # a NaN or infinity: the fallback writes it as a string
    return out


def _encode_generic(chunk):
    """Comma-joined entries through the json module (any keys; non-finite values as strings)."""
    rows = list(zip(map(_get0, chunk), map(truediv, map(_get1, chunk), repeat(1e9)), map(_get2, chunk)))
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


def encode_batch(chunk, now):
    """One `batch` line (bytes, newline-terminated) for the records in `chunk` (a non-empty list)."""
    body = None
    try:
        dicts = list(map(_get2, chunk))
        n = len(chunk)
        if len(set(map(len, dicts))) == 1:
            # Same number of keys everywhere: most likely the same keys (the common case). If not,
            # a record lacks one of the first record's keys and the template raises KeyError.
            try:
                body = _encode_run(chunk, dicts, tuple(dicts[0]))
                if body is None:
                    body = _encode_generic(chunk)
            except KeyError:
                body = None
        if body is None:
            keysets = list(map(tuple, dicts))
            starts = [0]
            starts.extend(compress(count(1), map(ne, keysets, keysets[1:])))
            if len(starts) * 8 > n:
                body = _encode_generic(chunk)  # keys change nearly every record: no point in templates
            else:
                starts.append(n)
                parts = []
                for a, b in zip(starts, starts[1:]):
                    sub = chunk[a:b]
                    part = _encode_run(sub, dicts[a:b], keysets[a])
                    parts.append(part if part is not None else _encode_generic(sub))
                body = ",".join(parts)
    except Exception:
        body = None
    if body is None:
        body = _encode_one_by_one(chunk)
    return ('{"t":%r,"batch":[%s]}\n' % (now, body)).encode("utf-8")


def _encode_one_by_one(chunk):
    """Last resort: encode each record alone and leave out the ones that cannot be encoded."""
    parts = []
    for rec in chunk:
        try:
            parts.append(_encode_generic([rec]))
        except Exception:
            pass
    return ",".join(parts)


# -- other records ----------------------------------------------------------------------------


def jsonable(v, depth=0):
    """A copy of `v` made of dicts, lists, strings, finite numbers, booleans and None."""
    c = v.__class__
    if v is None or c is str or c is bool or c is int:
        return v
    if c is float:
        return v if math.isfinite(v) else nonfinite(v)
    if depth > 64:
        return _safe_str(v)
    if isinstance(v, dict) or (hasattr(v, "keys") and hasattr(v, "__getitem__")):
        try:
            return {_key(k): jsonable(v[k], depth + 1) for k in list(v.keys())}
        except Exception:
            return _safe_str(v)
    if isinstance(v, (list, tuple, set, frozenset)):
        return [jsonable(x, depth + 1) for x in v]
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
            return jsonable(tolist(), depth + 1)
        except Exception:
            pass
    for conv in (_index, float):
        try:
            return jsonable(conv(v), depth + 1)
        except Exception:
            pass
    return _safe_str(v)


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
