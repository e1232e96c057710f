"""The interpreter's installed packages: {"conda": <env name or None>, "list": [[name, version], ...]}.

Every distribution importlib.metadata finds on sys.path, once per normalized name (the first found,
the one imports use), sorted by lower-case name. Name and version come from the METADATA (or
PKG-INFO) header, read directly: parsing it with the email package costs about 4 ms per hundred
distributions more. Run in a background thread (see _run.py): importing importlib.metadata alone
takes 30-100 ms.
"""

import os
import re
import sys

_NORMALIZE = re.compile(r"[-_.]+")


def _header(text):
    """(Name, Version) from the RFC 822 header of a METADATA / PKG-INFO file."""
    name = version = None
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key == "name" and name is None:
            name = value.strip()
        elif key == "version" and version is None:
            version = value.strip()
        if name is not None and version is not None:
            break
    return name, version


def _name_version(dist):
    try:
        text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
        name, version = _header(text)
        if name:
            return name, version
        return dist.metadata["Name"], dist.version
    except Exception:
        return None, None


def conda_env():
    """The conda environment the interpreter belongs to, or None: $CONDA_DEFAULT_ENV when
    $CONDA_PREFIX is this interpreter's prefix, else "base" or the prefix's folder name when the
    prefix (or the venv's base prefix) holds conda-meta/."""
    for prefix in (sys.prefix, getattr(sys, "base_prefix", sys.prefix)):
        if not os.path.isdir(os.path.join(prefix, "conda-meta")):
            continue
        active = os.environ.get("CONDA_PREFIX")
        if active and os.environ.get("CONDA_DEFAULT_ENV") and _same(active, prefix):
            return os.environ["CONDA_DEFAULT_ENV"]
        if os.path.isdir(os.path.join(prefix, "condabin")):
            return "base"
        return os.path.basename(os.path.normpath(prefix))
    return None


def _same(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def packages():
    import importlib.metadata as metadata

    seen = set()
    out = []
    for dist in metadata.distributions():
        name, version = _name_version(dist)
        if not name:
            continue
        key = _NORMALIZE.sub("-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        out.append([name, version or ""])
    out.sort(key=lambda nv: (nv[0].lower(), nv[0]))
    return {"conda": conda_env(), "list": out}
