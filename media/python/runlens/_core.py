"""The buffer, the writer and the public functions of the runlens helper.

`log()` only copies the dict and appends `step, time, metrics` to a flat list (one C-level
`extend`, so other threads never see a partial record); everything else (checking values, encoding,
writing) happens in batches from `_flush_locked`, called when the buffer is full, when the flush
interval has passed (noticed by `log()` itself or by a daemon timer thread), before any other
record, in `flush()` / `finish()` and at exit.

Where records go is decided at first use (`_begin`): the file of a RunLens launch
($RUNLENS_METRICS_FILE, mode "launched"), a file given to configure() ("file"), or a run this
process starts itself (_run.py, mode "run"; "ended" after finish(), "off" when there is no store).
The timer thread also touches the run's heartbeat file.
"""

import atexit
import operator
import os
import stat
import sys
import threading
import time

from ._encode import encode_metrics, encode_record, jsonable

BATCH_SIZE = 2000  # records encoded at a time (log() flushes when this many are buffered)
MAX_PENDING = 1000000  # records kept in memory while the file cannot be written
HEARTBEAT_S = 10.0  # how often a run's heartbeat file is touched

_time = time.time
_dict = dict
_int = int


def _env_interval():
    """$RUNLENS_FLUSH_MS in seconds (0 = write on every log() call); 250 ms by default."""
    try:
        ms = float(os.environ.get("RUNLENS_FLUSH_MS", "").strip() or 250)
    except ValueError:
        ms = 250.0
    if not (0 <= ms < 1e12):  # also NaN
        ms = 250.0
    return max(1, int(ms * 1e6)) / 1e9


# -- state (module globals: the fastest thing for log() to reach) ---------------------------

_buf = []  # step, time (s), {key: value}, step, time, ... not yet encoded; extended without a lock
_extend = _buf.extend  # _buf is never rebound, only emptied in place
_last_step = -1
_deadline = 0.0  # time() after which log() flushes (0 until the first log() in this process)
_started = False  # log() ran in this process (and started the timer thread)
_batch_size = BATCH_SIZE
_batch_len = 3 * BATCH_SIZE  # len(_buf) that triggers a flush
_interval = _env_interval()  # seconds

_lock = threading.Lock()  # guards everything below
_pending = []  # encoded bytes waiting to be written, oldest first
_pending_records = []  # metric records in each _pending entry
_path = None  # resolved target, absolute
_configured_path = None
_fd = None
_midline = False  # the file may end in a partly written line: start the next write with "\n"
_head_partial = False  # _pending[0] is the rest of a line whose start is already in the file
_failing = False
_thread = None
_stop = threading.Event()
_warned = set()
_mode = None  # None until first use, then "launched", "file", "run", "ended" or "off"
_begin_lock = threading.RLock()  # taken before _lock, never after it
_beat = None  # the run's heartbeat file
_beat_next = 0.0
_helpers = []  # short-lived background threads (inbox, packages.json), joined before a fork


def _warn_once(key, message):
    if key in _warned:
        return
    _warned.add(key)
    try:
        sys.stderr.write("runlens: " + message + "\n")
        sys.stderr.flush()
    except Exception:
        pass


# -- log() ------------------------------------------------------------------------------------


def log(metrics, step=None):
    """Record numeric metrics at `step` (default: the previous step + 1, starting at 0).

    The call itself only copies and buffers (a few hundred nanoseconds); checking, encoding and
    writing happen in batches. Non-numeric values are skipped with one warning per key (when the
    batch is written). Implicit steps are per process: threads that log at the same time should
    pass `step` explicitly.
    """
    global _last_step
    m = _dict(metrics)
    if step is None:
        step = _last_step + 1
    elif step.__class__ is not _int:
        step = _coerce_step(step)
    _last_step = step
    t = _time()
    _extend((step, t, m))
    if t >= _deadline or len(_buf) >= _batch_len:
        _due(t)


def _coerce_step(step):
    if isinstance(step, int) and not isinstance(step, bool):
        return int(step)
    try:
        return operator.index(step)
    except TypeError:
        pass
    try:
        f = float(step)
    except (TypeError, ValueError):
        f = None
    if f is not None and f == f and f not in (float("inf"), float("-inf")) and f == int(f):
        return int(f)
    raise TypeError("runlens.log: step must be an integer, got %r" % (step,))


def _due(t):
    """log() noticed the interval passed or the buffer is full (or this is the first call)."""
    global _deadline, _started
    if not _started:
        # First call in this process: start the timer and wait for the interval before writing.
        _begin()
        _started = True
        _deadline = t + _interval
        _start_timer()
        if len(_buf) < _batch_len:
            return
    lock = _lock
    if not lock.acquire(False):
        return  # another thread is writing; it or a later call will take these records too
    try:
        _flush_locked()
    except Exception as e:  # never let a metrics call fail because of the writer
        _warn_once("internal", "could not write metrics (%s: %s)" % (type(e).__name__, e))
    finally:
        lock.release()


# -- writing ----------------------------------------------------------------------------------


def _flush_locked(extra=None, sync=False):
    """Encode the buffered metrics (plus an optional encoded record after them) and write all
    pending bytes. Must be called with _lock held. Never raises on I/O errors."""
    global _deadline
    if _path is None and _resolve_path() is None:
        _drop(extra)
        return
    n = len(_buf)  # a multiple of 3: log() adds a whole record in one extend()
    if n:
        chunk = _buf[:n]
        del _buf[:n]  # log() only appends at the end, so this removes exactly `chunk`
        now = _time()
        size = 3 * _batch_size
        for i in range(0, n, size):
            part = chunk[i : i + size]
            data = encode_metrics(part[0::3], part[1::3], part[2::3], now, _warn_once)
            if data:
                _pending.append(data)
                _pending_records.append(len(part) // 3)
    if extra is not None:
        _pending.append(extra)
        _pending_records.append(0)
    if _pending:
        _write_pending(sync)
    elif sync and _fd is not None:
        try:
            os.fsync(_fd)
        except OSError:
            pass
    if _started:
        _deadline = _time() + _interval


def _resolve_path():
    """The file records go to, or None when they are not recorded (no run)."""
    global _path
    if _path is None:
        target = _configured_path or (os.environ.get("RUNLENS_METRICS_FILE") if _mode == "launched" else None)
        if target:
            _path = os.path.abspath(os.fsdecode(target))
    return _path


def _drop(extra):
    """Records with nowhere to go: forgotten (the reason was said once)."""
    global _deadline
    if (_buf or extra is not None) and _mode == "ended":
        _warn_once("ended", "the run ended with finish(); records logged after it are not kept (call runlens.init() to start another run)")
    del _buf[:]
    del _pending[:], _pending_records[:]
    if _started:
        _deadline = _time() + _interval


# -- where records go -------------------------------------------------------------------------


def _begin():
    """First use in this process: a RunLens launch, a configured file, or a run started here."""
    global _mode
    if _mode is not None:
        return
    with _begin_lock:
        if _mode is not None:
            return
        try:
            if _configured_path:
                _mode = "file"
            elif os.environ.get("RUNLENS_METRICS_FILE"):
                _mode = "launched"
                _start_packages_file(os.environ["RUNLENS_METRICS_FILE"])
            else:
                from . import _run

                _run.start(auto=True)
        except Exception as e:
            _mode = _mode or "off"
            _warn_once("internal", "could not start recording (%s: %s)" % (type(e).__name__, e))


def _set_run(path, heartbeat, auto):
    """Called by _run.start: records now go to `path` (None: nowhere). An explicit init() forgets
    records logged while no run was going and restarts implicit steps at 0."""
    global _mode, _path, _beat, _beat_next, _last_step, _midline, _head_partial, _failing
    with _lock:
        if not auto:
            del _buf[:]
            del _pending[:], _pending_records[:]
            _last_step = -1
        _close()
        _path = path
        _mode = "run" if path else "off"
        _midline = _head_partial = _failing = False
        _warned.discard("ended")
        _beat = heartbeat
        _beat_next = _time() + HEARTBEAT_S
    if heartbeat:
        _start_timer()


def _flush_run(last):
    """Called by _run.end: writes and closes the run's file; `last` (not in a forked child): the
    run is over, later records go nowhere."""
    global _mode, _path, _beat
    with _lock:
        _flush_locked(sync=True)
        _close()
        if last:
            if _pending:
                _warn_once("lost", "%d metric records could not be written to %s and are lost" % (sum(_pending_records), _path))
                del _pending[:], _pending_records[:]
            _path = None
            _beat = None
            _mode = "ended"


def _add_helper_thread(t):
    if t is not None:
        _helpers[:] = [h for h in _helpers if h.is_alive()] + [t]


def _join_helpers(timeout):
    for t in list(_helpers):
        if t is not threading.current_thread():
            t.join(timeout)


def _start_packages_file(metrics_file):
    """A launched run: packages.json next to the metrics file, once per run folder, in the background."""
    target = os.path.join(os.path.dirname(os.path.abspath(os.fsdecode(metrics_file))), "packages.json")
    if os.path.exists(target):
        return

    def work():
        try:
            from ._packages import packages
            from ._run import write_json

            if not os.path.exists(target):
                write_json(target, packages())
        except Exception as e:
            _warn_once("packages", "could not record the installed packages (%s: %s)" % (type(e).__name__, e))

    t = _thread_of(work, "runlens-packages")
    try:
        t.start()
        _add_helper_thread(t)
    except RuntimeError:
        pass


def _open():
    """The file's descriptor, opened on first use (right before a write). A file that does not end
    in a newline holds a line cut by a killed writer: the first write then starts with "\n", in the
    same os.write as the data, so that fragment stays a line of its own."""
    global _fd, _midline
    if _fd is None:
        path = _resolve_path()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        try:
            _fd = os.open(path, flags, 0o666)
        except FileNotFoundError:
            parent = os.path.dirname(path)
            if parent and not os.path.isdir(parent):
                os.makedirs(parent, exist_ok=True)
            _fd = os.open(path, flags, 0o666)
        if not _head_partial and not _midline and _torn_tail(path, _fd):
            _midline = True  # (not after our own cut write: its rest continues that line)
    return _fd


def _torn_tail(path, fd):
    """The regular file at `fd` is not empty and does not end in a newline."""
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            return False
        rfd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
        try:
            os.lseek(rfd, st.st_size - 1, os.SEEK_SET)
            return os.read(rfd, 1) not in (b"\n", b"")
        finally:
            os.close(rfd)
    except OSError:
        return False  # unreadable (write-only): append as before


def _close():
    global _fd
    fd, _fd = _fd, None
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass


def _write_pending(sync):
    global _midline, _failing, _head_partial
    data = b""
    written = 0
    try:
        fd = _open()  # may set _midline
        data = b"".join(_pending)
        if _midline:
            data = b"\n" + data
        view = memoryview(data)
        while written < len(data):
            written += os.write(fd, view[written:])
        if sync:
            os.fsync(fd)
    except Exception as e:
        _close()
        if written:
            # Keep only what did not reach the file; it continues the line that was cut.
            rest = data[written:]
            total = sum(_pending_records)
            del _pending[:], _pending_records[:]
            _pending.append(rest)
            _pending_records.append(total)
            _midline = False
            _head_partial = True
        _bound_pending()
        if not _failing:
            _failing = True
            _warn_once(
                "io",
                "cannot write to %s (%s: %s); keeping metrics in memory and retrying"
                % (_path or "the metrics file", type(e).__name__, e),
            )
        return
    del _pending[:], _pending_records[:]
    _midline = False
    _head_partial = False
    if _failing:
        _failing = False
        _warned.discard("io")
        _warned.discard("lost")


def _bound_pending():
    global _midline, _head_partial
    total = sum(_pending_records)
    while total > MAX_PENDING and len(_pending) > 1:
        del _pending[0]
        total -= _pending_records.pop(0)
        if _head_partial:
            _midline = True  # the cut line stays cut; the next write starts on a new line
            _head_partial = False
        _warn_once(
            "dropped",
            "more than %d metric records could not be written; dropping the oldest" % MAX_PENDING,
        )


# -- the timer thread, exit and fork --------------------------------------------------------


def _thread_of(target, name, args=()):
    """A daemon thread the debugger leaves running at a breakpoint (pydevd / debugpy skip threads
    marked as their own), so the run's heartbeat and writes go on while the script is paused."""
    t = threading.Thread(target=target, args=args, name=name, daemon=True)
    t.is_pydev_daemon_thread = True
    t.pydev_do_not_trace = True
    return t


def _start_timer():
    global _thread
    if _thread is not None and _thread.is_alive():
        return
    _thread = _thread_of(_timer_loop, "runlens-flush", (_stop,))
    try:
        _thread.start()
    except RuntimeError:  # interpreter shutting down
        _thread = None


def _timer_loop(stop):
    global _beat_next
    while not stop.wait(max(_interval, 0.005)):
        try:
            if (_buf or _pending) and _time() >= _deadline:
                with _lock:
                    _flush_locked()
            if _beat is not None and _time() >= _beat_next:
                _beat_next = _time() + HEARTBEAT_S
                _touch(_beat)
        except Exception:
            pass


def _touch(path):
    try:
        os.utime(path, None)
    except FileNotFoundError:
        try:
            open(path, "ab").close()
        except OSError:
            pass
    except OSError:
        pass


def _at_exit():
    _stop.set()
    try:
        if _mode == "run":
            from . import _run

            _run.end(_run.exit_code())
        else:
            finish()
        _join_helpers(5.0)
    except Exception:
        pass
    n = sum(_pending_records)
    if _pending:
        _warn_once("lost", "%d metric records could not be written to %s and are lost" % (n, _path))


def _before_fork():
    """Stop the timer thread for the fork (restarted by the next log()): a fork with no other
    threads running is safe, and Python 3.12+ warns about forking a multi-threaded process."""
    global _paused
    _paused = False
    _join_helpers(5.0)  # a fork while they list packages could leave locks held in the child
    t = _thread
    if t is not None and t.is_alive() and t is not threading.current_thread():
        _paused = True
        _stop.set()
        t.join(1.0)


def _after_fork_in_parent():
    global _thread, _stop, _started, _deadline, _paused
    if _paused:
        _paused = False
        _thread = None
        _stop = threading.Event()
        _started = False
        _deadline = 0.0  # the next log() restarts the timer
        if _beat is not None:
            _start_timer()  # the run's heartbeat goes on without waiting for a log()


_paused = False


def _after_fork_in_child():
    """The child starts with an empty buffer (the parent writes its own records), a fresh lock,
    no file descriptor and no timer thread (threads do not survive fork)."""
    global _lock, _thread, _stop, _deadline, _started, _fd, _midline, _failing, _head_partial
    del _buf[:]
    _lock = threading.Lock()
    del _pending[:], _pending_records[:]
    if _fd is not None:
        try:
            os.close(_fd)
        except OSError:
            pass
    _fd = None
    _midline = False
    _head_partial = False
    _failing = False
    _thread = None
    _stop = threading.Event()
    _deadline = 0.0
    _started = False
    _helpers[:] = []


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)


# -- the other public functions -------------------------------------------------------------


def _write_record(kind, value):
    _begin()
    line = encode_record(kind, value, time.time())
    try:
        with _lock:
            _flush_locked(line)
    except Exception as e:
        _warn_once("internal", "could not write a %s record (%s: %s)" % (kind, type(e).__name__, e))


def log_params(params):
    """Record hyperparameters. Nested dicts are kept nested (RunLens shows them as `a.b`)."""
    if not isinstance(params, dict) and not hasattr(params, "keys") and hasattr(params, "__dict__"):
        params = vars(params)  # argparse.Namespace and similar
    if not isinstance(params, dict) and not hasattr(params, "keys"):
        raise TypeError("runlens.log_params expects a dict, got %s" % type(params).__name__)
    _write_record("params", jsonable(params))


def set_tags(tags):
    """Attach string tags to the run (values are str()-ed)."""
    if not isinstance(tags, dict) and not hasattr(tags, "keys"):
        raise TypeError("runlens.set_tags expects a dict, got %s" % type(tags).__name__)
    _write_record("tags", {str(k): str(tags[k]) for k in list(tags.keys())})


def log_artifact(path):
    """Attach a file or folder (path as given, relative to the run's working directory).

    The call hashes the path (a large folder takes as long as reading it); if it has changed by the
    time RunLens copies it (a log that still grows), it is kept as it is then and the log says so."""
    _begin()
    record = {"path": os.fsdecode(path)}
    _add_digest(record)
    _write_record("artifact", record)


def log_model(name, path, metadata=None):
    """Register a model version stored at `path`, with optional JSON-able metadata.

    The version is the bytes `path` has now: the call hashes them, and if another process changes
    the file or folder before RunLens copies it, no version is registered and the run says so."""
    _begin()
    record = {"name": str(name), "path": os.fsdecode(path)}
    if metadata is not None:
        record["metadata"] = jsonable(metadata)
    _add_digest(record)
    _write_record("model", record)


def _add_digest(record):
    """Adds "sha256", the digest the extension's collector computes (src/core/artifacts/collect.ts),
    when the path can be read now; otherwise the record goes without it (never raises)."""
    if _mode in ("off", "ended") or os.path.isabs(record["path"]):
        return  # nothing is recorded, or the collector refuses the path anyway
    try:
        from ._datasets import hash_dataset

        path = os.path.join(_run_cwd(), record["path"])
        record["sha256"] = hash_dataset(path, skip_unsafe_names=True)["digest"]
    except Exception:
        pass


def _run_cwd():
    """The folder the extension resolves logged paths in: the run's working directory."""
    if _mode == "run":
        from . import _run

        run = _run._current
        cwd = run.info.get("cwd") if run is not None and run.info else None
        if isinstance(cwd, str) and os.path.isabs(cwd):
            return cwd
    return os.getcwd()


def flush():
    """Write everything buffered now."""
    try:
        with _lock:
            _flush_locked()
    except Exception as e:
        _warn_once("internal", "could not write metrics (%s: %s)" % (type(e).__name__, e))


def finish():
    """End the run: write everything buffered, fsync and close the file. A run the helper started
    itself gets its exit.json (code 0) and is over: records logged after it are dropped with a
    warning until init() starts another. In a RunLens launch, logging afterwards still works."""
    if _mode == "run":
        try:
            from . import _run

            _run.end(0)
        except Exception as e:
            _warn_once("internal", "could not end the run (%s: %s)" % (type(e).__name__, e))
        return
    try:
        with _lock:
            _flush_locked(sync=True)
            if not _pending:
                _close()
    except Exception as e:
        _warn_once("internal", "could not write metrics (%s: %s)" % (type(e).__name__, e))


def init(name=None, experiment=None, params=None, config=None, tags=None, datasets=None, config_files=None):
    """Start a run with these details (all optional) and return its uid, or None when nothing is
    recorded. Outside a RunLens launch it ends the run going in this process (if any) and starts a
    new one (see the package docstring). Inside a launch (`$RUNLENS_METRICS_FILE`) the run already
    exists: params, config, config_files and tags are logged to it; name, experiment and datasets
    come from the launch. Problems are reported once on stderr, never raised."""
    try:
        with _begin_lock:
            if _mode is None and (_configured_path or os.environ.get("RUNLENS_METRICS_FILE")):
                _begin()
            if _mode in ("launched", "file"):
                return _init_launched(params, config, tags, config_files)
            from . import _run

            return _run.start(name, experiment, params, config, tags, datasets, config_files)
    except Exception as e:
        _warn_once("internal", "could not start a run (%s: %s)" % (type(e).__name__, e))
        return None


def _init_launched(params, config, tags, config_files):
    from . import _provenance

    parts = [_provenance.read_params_file(os.fsdecode(f)) for f in ([config_files] if isinstance(config_files, (str, os.PathLike)) else config_files or [])]
    parts += [_provenance.as_mapping(config), _provenance.as_mapping(params)]
    flat = _provenance.merge_params(parts)
    if flat:
        _write_record("params", flat)
    if tags:
        set_tags(tags)
    return None


def configure(path=None, flush_interval_ms=None, batch_size=None):
    """Optional settings: target file (default $RUNLENS_METRICS_FILE), flush interval (default
    $RUNLENS_FLUSH_MS or 250 ms) and records encoded per flush (default 2000)."""
    global _configured_path, _path, _interval, _batch_size, _batch_len
    with _lock:
        _flush_locked()
        if path is not None:
            _close()
            _configured_path = os.fsdecode(path)
            _path = None
        if flush_interval_ms is not None:
            _interval = max(1, int(float(flush_interval_ms) * 1e6)) / 1e9
        if batch_size is not None:
            _batch_size = max(1, int(batch_size))
            _batch_len = 3 * _batch_size
