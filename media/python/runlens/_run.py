"""Runs the helper starts by itself, outside a RunLens launch (no $RUNLENS_METRICS_FILE): the file
contract with the extension (issue 13), under the store folder S:

- S/runs/<uid>/ holds the run like a launched one: metrics.jsonl, process.json (pid, startTicks,
  host), heartbeat (touched every 10 s), patch.diff (uncommitted changes, when there are any),
  notebook.ipynb (a notebook's snapshot) and, when the run ends, exit.json;
- S/inbox/<uid>.json describes the run (format "runlens-inbox/1": command, git, params, datasets,
  packages, ...). It is written last, atomically, by a short background thread, because listing the
  installed packages takes 50-500 ms; at the end of the run the helper waits for it, so the inbox
  file always exists before exit.json.

The store is $RUNLENS_STORE, else <folder>/.runlens for the nearest folder at or above the working
directory that holds .runlens/ or runlens.yaml. None found: one warning, nothing is written.
"""

import json
import os
import shutil
import sys
import threading
import time

from . import _core, _git, _provenance
from ._core import _warn_once

INBOX_FORMAT = "runlens-inbox/1"
STORE_NAME = ".runlens"

_lock = threading.RLock()  # starting and ending runs
_current = None
_exit_code = None  # the code sys.exit() was last called with
_hooked = False


# -- the store ------------------------------------------------------------------------------------


def find_store(cwd):
    """(store folder, folder holding runlens.yaml or None), or None when there is no store."""
    root = None
    d = cwd
    while True:
        if os.path.isdir(os.path.join(d, STORE_NAME)) or os.path.isfile(os.path.join(d, "runlens.yaml")):
            root = d
            break
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    given = os.environ.get("RUNLENS_STORE")
    if given:
        store = os.path.abspath(os.path.expanduser(given))
        beside = os.path.dirname(store)
        if os.path.isfile(os.path.join(beside, "runlens.yaml")):
            return store, beside
        return store, root if root and os.path.isfile(os.path.join(root, "runlens.yaml")) else None
    if root is None:
        return None
    return os.path.join(root, STORE_NAME), root if os.path.isfile(os.path.join(root, "runlens.yaml")) else None


def exclude_from_git(store):
    """Adds the store to .git/info/exclude, as the extension's src/core/gitExclude.ts does, so runs
    never show as uncommitted changes."""
    store = os.path.abspath(store)
    d = os.path.dirname(store)
    while not os.path.exists(os.path.join(d, ".git")):
        if os.path.dirname(d) == d:
            return
        d = os.path.dirname(d)
    git_dir = os.path.join(d, ".git")
    if os.path.isfile(git_dir):  # a worktree or submodule: "gitdir: <path>"
        with open(git_dir, encoding="utf-8") as f:
            text = f.read()
        line = next((l for l in text.splitlines() if l.startswith("gitdir:")), None)
        if line is None:
            return
        git_dir = os.path.normpath(os.path.join(d, line[len("gitdir:") :].strip()))
    common = os.path.join(git_dir, "commondir")
    if os.path.isfile(common):
        with open(common, encoding="utf-8") as f:
            git_dir = os.path.normpath(os.path.join(git_dir, f.read().strip()))
    rel = os.path.relpath(store, d)
    if rel == "." or rel.startswith(".."):
        return
    pattern = "/" + rel.replace(os.sep, "/") + "/"
    path = os.path.join(git_dir, "info", "exclude")
    existing = ""
    if os.path.isfile(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            existing = f.read()
    if any(l.strip() == pattern for l in existing.splitlines()):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(("\n" if existing and not existing.endswith("\n") else "") + "# RunLens run store\n" + pattern + "\n")


# -- files ----------------------------------------------------------------------------------------


def write_json(path, value, sync=False):
    """Writes `<path>.tmp` and renames it into place: readers see the whole file or none."""
    tmp = path + ".tmp"
    data = json.dumps(value, allow_nan=False).encode("ascii")
    with open(tmp, "wb") as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def new_uid():
    """uuid.uuid4().hex without importing uuid (which imports platform: 8 ms)."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    return b.hex()


def hostname():
    try:
        return os.uname().nodename  # what gethostname() returns, without importing socket
    except AttributeError:
        import socket

        return socket.gethostname()


def start_ticks(pid):
    """Field 22 of /proc/<pid>/stat (start time in clock ticks), as the extension reads it; None off Linux."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            text = f.read().decode("ascii", "replace")
        return int(text[text.rindex(")") + 2 :].split(" ")[19])
    except (OSError, ValueError, IndexError):
        return None


# -- a run ----------------------------------------------------------------------------------------


class Run:
    def __init__(self, store, uid, kernel):
        self.store = store
        self.uid = uid
        self.dir = os.path.join(store, "runs", uid)
        self.pid = os.getpid()
        self.kernel = kernel
        self.info = None  # the inbox file's content, without packages
        self.inbox_lock = threading.Lock()
        self.inbox_done = False
        self.thread = None

    def write_inbox(self, packages):
        with self.inbox_lock:
            if self.inbox_done:
                return
            self.inbox_done = True
            info = dict(self.info)
            info["packages"] = packages
            inbox = os.path.join(self.store, "inbox")
            os.makedirs(inbox, exist_ok=True)
            write_json(os.path.join(inbox, self.uid + ".json"), info, sync=True)

    def finish_inbox(self):
        """Lists the packages, then writes the inbox file (in the background thread)."""
        try:
            from ._packages import packages

            found = packages()
        except Exception as e:
            found = None
            _warn_once("packages", "could not list the installed packages (%s: %s)" % (type(e).__name__, e))
        try:
            self.write_inbox(found)
        except Exception as e:
            _warn_once("inbox", "could not write the run's inbox file (%s: %s)" % (type(e).__name__, e))


def _step(key, what, fn, default=None):
    """fn(), or `default` with one warning when it fails: provenance never stops a run."""
    try:
        return fn()
    except Exception as e:
        _warn_once(key, "could not record %s (%s: %s)" % (what, type(e).__name__, e))
        return default


def start(name=None, experiment=None, params=None, config=None, tags=None, datasets=None, config_files=None, auto=False):
    """Starts a run (ending the current one first); returns its uid, or None when nothing is recorded."""
    global _current
    with _lock:
        if _current is not None:
            end(0)
        started = int(time.time() * 1000)
        try:
            cwd = os.getcwd()
        except OSError as e:
            _warn_once("cwd", "cannot tell the working directory (%s); nothing is recorded" % e)
            _core._set_run(None, None, auto)
            return None
        found = find_store(cwd)
        if found is None:
            _warn_once(
                "nostore",
                "no RunLens workspace found from %s; set RUNLENS_STORE to a store folder (like <workspace>/.runlens) "
                "or run inside a folder with runlens.yaml or .runlens/. Nothing is recorded." % cwd,
            )
            _core._set_run(None, None, auto)
            return None
        store, folder = found
        uid = new_uid()
        shell = _provenance.kernel_shell()
        run = Run(store, uid, shell is not None)
        try:
            os.makedirs(run.dir)
            write_json(os.path.join(run.dir, "process.json"), {"pid": run.pid, "startTicks": start_ticks(run.pid), "host": hostname()})
            open(os.path.join(run.dir, "heartbeat"), "ab").close()
        except Exception as e:
            _warn_once("store", "cannot write the run to %s (%s: %s); nothing is recorded" % (store, type(e).__name__, e))
            _core._set_run(None, None, auto)
            return None
        _step("exclude", "the store in .git/info/exclude (runs may show as changes)", lambda: exclude_from_git(store))
        run.info = _describe(run, cwd, folder, shell, started, name, experiment, params, config, tags, datasets, config_files)
        _current = run
        _install_hooks()
        _core._set_run(os.path.join(run.dir, "metrics.jsonl"), os.path.join(run.dir, "heartbeat"), auto)
        run.thread = _core._thread_of(run.finish_inbox, "runlens-inbox")
        try:
            run.thread.start()
        except RuntimeError:  # interpreter shutting down
            run.thread = None
            run.finish_inbox()
        _core._add_helper_thread(run.thread)
        return uid


def _describe(run, cwd, folder, shell, started, name, experiment, params, config, tags, datasets, config_files):
    """The inbox file's content (all but packages); writes patch.diff and notebook.ipynb."""
    git = _step("git", "the git state", lambda: _git.capture(cwd))
    patch = None
    if git and git["patch"]:
        patch = _step("patch", "the patch", lambda: _write_text(os.path.join(run.dir, "patch.diff"), git["patch"]) or "patch.diff")
    notebook = None
    script = None if shell else _provenance.script_path()
    if shell is not None:
        notebook = _step("notebook", "the notebook", lambda: _snapshot(run, _provenance.notebook_path(shell)))
    what = "what runlens.yaml says (its experiment, params files and datasets)"
    project = _step("yaml", what, lambda: _provenance.read_project(folder)) if folder else None
    matched = _step("yaml", what, lambda: _provenance.match_run(project, folder, script, sys.argv[1:])) if project else None

    parts = []
    if matched:
        for f in matched["params"]:
            path = os.path.join(matched["cwd"], f)
            parts.append(_step(("params", path), "params file " + path, lambda: _provenance.read_params_file(path), {}))
    for f in _list(config_files):
        path = os.path.abspath(os.fsdecode(f))
        parts.append(_step(("params", path), "params file " + path, lambda: _provenance.read_params_file(path), {}))
    parts.append(_step("config", "config", lambda: _provenance.as_mapping(config), {}))
    parts.append(_step("params-arg", "params", lambda: _provenance.as_mapping(params), {}))
    flat = _step("params-flat", "params", lambda: _provenance.merge_params(parts), {})

    wanted = []
    if matched:
        wanted += [(d, os.path.join(matched["cwd"], d)) for d in matched["datasets"]]
    wanted += [(os.fsdecode(d), os.path.abspath(os.fsdecode(d))) for d in _list(datasets)]
    hashed = _hash_datasets(run.store, wanted)

    if experiment is None and project:
        experiment = matched["experiment"] if matched else project.get("experiment")
        experiment = experiment.strip() if isinstance(experiment, str) and experiment.strip() else None
    return {
        "format": INBOX_FORMAT,
        "uid": run.uid,
        "name": None if name is None else str(name),
        "experiment": None if experiment is None else str(experiment),
        "startedAt": started,
        "source": _provenance.source(shell is not None),
        "command": _step("command", "the command line", _provenance.command, []),
        "cwd": cwd,
        "script": None if script is None else _provenance.relative_to(script, cwd),
        "interpreter": _provenance.interpreter(),
        "env": _step("env", "the environment", _provenance.environment, {}),
        "params": flat,
        "tags": {
            **_step("tags", "tags", lambda: {str(k): str(v) for k, v in _provenance.as_mapping(tags).items()}, {}),
            **_provenance.slurm_tags(),
        },
        "git": {"commit": git["commit"], "branch": git["branch"], "dirty": git["dirty"]} if git else None,
        "patch": patch,
        "datasets": hashed,
        "packages": None,
        "notebook": notebook,
        # Beyond the contract, as a launched run records them:
        "untracked": git["untracked"] if git else [],
        "os": _step("os", "the OS", _provenance.os_name),
        "hostname": hostname(),
    }


def _list(value):
    if value is None:
        return []
    if isinstance(value, (str, bytes, os.PathLike)):
        return [value]
    return list(value)


def _write_text(path, text):
    with open(path, "wb") as f:
        f.write(text.encode("utf-8", "surrogateescape"))


def _snapshot(run, path):
    if not path:
        return None
    try:
        shutil.copyfile(path, os.path.join(run.dir, "notebook.ipynb"))
        return {"path": path, "snapshot": "notebook.ipynb"}
    except OSError as e:
        _warn_once("notebook", "could not copy the notebook %s (%s)" % (path, e))
        return {"path": path, "snapshot": None}


def _hash_datasets(store, wanted):
    if not wanted:
        return []
    from . import _datasets

    out = []
    seen = set()
    cache = None
    for shown, path in wanted:
        if shown in seen:
            continue
        seen.add(shown)
        if cache is None:
            cache = _datasets.store_cache(store) or False
        h = _step(("dataset", path), "dataset " + path, lambda: _datasets.hash_dataset(path, cache or None))
        if h is not None:
            h["path"] = shown
            out.append(h)
    if cache:
        cache.close()
    return out


def end(code):
    """Ends the current run: writes the rest of its metrics, then exit.json (not in a forked child)."""
    global _current
    with _lock:
        run = _current
        if run is None:
            return
        if os.getpid() != run.pid:  # a forked child: the run is its parent's
            _core._flush_run(False)
            return
        _current = None
        _core._flush_run(True)
        if run.thread is not None:
            run.thread.join(5.0)
        try:
            run.write_inbox(None)  # when the thread could not finish in time
            write_json(os.path.join(run.dir, "exit.json"), {"code": code, "signal": None, "signalled": None, "endedAt": int(time.time() * 1000)}, sync=True)
        except Exception as e:
            _warn_once("exit", "could not record the end of the run (%s: %s)" % (type(e).__name__, e))


def current_uid():
    run = _current
    return run.uid if run is not None else None


def in_kernel():
    run = _current
    return run is not None and run.kernel


# -- how the process ends ---------------------------------------------------------------------------


def exit_code():
    """0, or 1 after an uncaught exception, or the code sys.exit() was called with. In a notebook
    the kernel's end is a normal end."""
    if in_kernel():
        return 0
    last = getattr(sys, "last_value", None)  # set when Python printed an uncaught exception
    if last is not None and not isinstance(last, SystemExit):
        return 1
    return 0 if _exit_code is None else _exit_code


def _code_of(status):
    if status is None:
        return 0
    if isinstance(status, int):
        return status & 0xFF if os.name == "posix" else int(status)
    return 1  # a message: Python prints it and exits with 1


def _install_hooks():
    """Remembers the code sys.exit() is called with (raise SystemExit(n) is not seen: code 0)."""
    global _hooked
    if _hooked:
        return
    _hooked = True
    original = sys.exit

    def exit(status=None):
        global _exit_code
        _exit_code = _code_of(status)
        original(status)

    exit.__doc__ = original.__doc__
    exit.__wrapped__ = original
    sys.exit = exit
