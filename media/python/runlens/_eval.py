"""runlens.log_eval: an evaluation of a registered model version is a run of its own, written whole at
once to the store's inbox (the contract is in _run.py), with the metrics at step 0 and the inbox
file's "eval": {"model", "ref", "metrics"}. The extension links it to the version `ref` names when it
adopts the file (an alias: the version it points to then) and compares the values with the version's
registration and earlier evaluations.

Outside a launch the store is found as for any run the helper starts; inside a RunLens launch
($RUNLENS_METRICS_FILE = S/runs/<uid>/metrics.jsonl) it is S, and the launched run goes on untouched.
"""

import math
import os
import time

from ._core import _warn_once
from ._encode import clean, encode_metrics


def _store(cwd):
    """(store, folder with runlens.yaml or None), or None."""
    from . import _run

    launched = os.environ.get("RUNLENS_METRICS_FILE")
    if launched:
        runs = os.path.dirname(os.path.dirname(os.path.abspath(launched)))
        if os.path.basename(runs) == "runs":
            store = os.path.dirname(runs)
            beside = os.path.dirname(store)
            return store, beside if os.path.isfile(os.path.join(beside, "runlens.yaml")) else None
    return _run.find_store(cwd)


def _millis(at):
    """`at` (None: now; epoch seconds; a datetime, naive ones in local time) as epoch milliseconds."""
    import datetime

    if at is None:
        return int(time.time() * 1000)
    if isinstance(at, datetime.datetime):
        return int(at.timestamp() * 1000)
    if isinstance(at, datetime.date):
        return int(datetime.datetime(at.year, at.month, at.day).timestamp() * 1000)
    if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at) or at <= 0:
        raise TypeError("runlens.log_eval: `at` must be epoch seconds or a datetime, got %r" % (at,))
    return int(at * 1000)


def log_eval(model, version_or_alias, metrics, dataset=None, at=None, name=None, experiment=None, tags=None):
    """Record an evaluation of `model` at a version number (3, "v3") or alias ("production", "latest"):
    `metrics` ({name: number}) at step 0, `dataset` (a file or folder, hashed like the datasets of a
    run), at time `at` (epoch seconds or a datetime; default now) for evaluations recorded later.
    Returns the evaluation run's uid, or None when nothing is recorded (said once on stderr)."""
    if not isinstance(model, str) or not model:
        raise TypeError("runlens.log_eval: `model` must be a model name, got %r" % (model,))
    if isinstance(version_or_alias, bool) or not isinstance(version_or_alias, (int, str)) or version_or_alias == "":
        raise TypeError("runlens.log_eval: `version_or_alias` must be a version number or an alias, got %r" % (version_or_alias,))
    if not isinstance(metrics, dict) and not hasattr(metrics, "keys"):
        raise TypeError("runlens.log_eval expects a dict of metrics, got %s" % type(metrics).__name__)
    started = _millis(at)
    values = {str(k): v for k, v in clean({k: metrics[k] for k in list(metrics.keys())}, _warn_once).items()}
    for k in [k for k, v in values.items() if not math.isfinite(v)]:
        _warn_once(("eval", k), "log_eval: metric %r is %r; it is not recorded" % (k, values.pop(k)))
    try:
        return _write(model, version_or_alias, values, dataset, started, name, experiment, tags)
    except Exception as e:
        _warn_once("eval", "could not record the evaluation (%s: %s)" % (type(e).__name__, e))
        return None


def _write(model, ref, values, dataset, started, name, experiment, tags):
    from . import _provenance, _run

    cwd = os.getcwd()
    found = _store(cwd)
    if found is None:
        _warn_once("nostore", "no RunLens workspace found from %s; set RUNLENS_STORE to a store folder. The evaluation is not recorded." % cwd)
        return None
    store, folder = found
    shell = _provenance.kernel_shell()
    run = _run.Run(store, _run.new_uid(), shell is not None)
    os.makedirs(run.dir)
    pid = os.getpid()
    _run.write_json(os.path.join(run.dir, "process.json"), {"pid": pid, "startTicks": _run.start_ticks(pid), "host": _run.hostname()})
    open(os.path.join(run.dir, "heartbeat"), "ab").close()
    _run._step("exclude", "the store in .git/info/exclude (runs may show as changes)", lambda: _run.exclude_from_git(store))
    if values:
        data = encode_metrics([0], [started / 1000.0], [values], time.time(), _warn_once)
        with open(os.path.join(run.dir, "metrics.jsonl"), "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    label = name if name is not None else "eval %s@%s" % (model, ref)
    datasets = None if dataset is None else [dataset]
    run.info = _run._describe(run, cwd, folder, shell, started, label, experiment, None, None, tags, datasets, None)
    run.info["eval"] = {"model": model, "ref": ref, "metrics": values}
    run.finish_inbox()  # lists the packages, then writes the inbox file: before exit.json, as the contract says
    _run.write_json(os.path.join(run.dir, "exit.json"), {"code": 0, "signal": None, "signalled": None, "endedAt": started}, sync=True)
    return run.uid
