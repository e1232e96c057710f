"""What a run the helper starts records about its process: how it started (source), the notebook,
the command line and script, the interpreter, the redacted environment, params (init arguments,
argparse, params files) and the runlens.yaml run configuration that names the script.
"""

import json
import os
import shlex
import sys

from . import _yaml
from ._encode import jsonable
from ._redact import redact_args, redact_env


def kernel_shell():
    """The IPython shell when this process is a Jupyter kernel, else None."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
    except Exception:
        return None
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def source(in_kernel):
    if in_kernel:
        return "notebook"
    given = os.environ.get("RUNLENS_SOURCE", "")
    if given == "debug" or "debugpy" in sys.modules or "pydevd" in sys.modules:
        return "debug"
    if given == "terminal":
        return "terminal"
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return "ci"
    return "script"


def notebook_path(shell):
    """$RUNLENS_NOTEBOOK, else VS Code's __vsc_ipynb_file__, else $JPY_SESSION_NAME (Jupyter)."""
    path = os.environ.get("RUNLENS_NOTEBOOK")
    if not path:
        try:
            path = shell.user_ns.get("__vsc_ipynb_file__")
        except Exception:
            path = None
    if not path:
        path = os.environ.get("JPY_SESSION_NAME")
        if path and not os.path.isabs(path) and not os.path.exists(path):
            path = os.path.basename(path)  # relative to the server's root; the kernel runs in its folder
    return os.path.abspath(os.fsdecode(path)) if path else None


def command():
    argv = getattr(sys, "orig_argv", None) or [sys.executable] + list(sys.argv)
    return redact_args([os.fsdecode(a) for a in argv])


def script_path():
    """The absolute path of the script being run (also for `-m`), or None (-c, a REPL, a kernel)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path and sys.argv and sys.argv[0] not in ("", "-c", "-m", "-"):
        path = sys.argv[0]
    if not path:
        return None
    path = os.path.abspath(os.fsdecode(path))
    return path if os.path.isfile(path) else None


def relative_to(path, cwd):
    rel = os.path.relpath(path, cwd)
    return path if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel


def interpreter():
    return {"path": sys.executable, "version": sys.version.split()[0]}


def environment():
    return redact_env(dict(os.environ))


def slurm_tags():
    """Inside a Slurm job: its id as the extension's tag `runlens.slurm.job` (`<array>_<task>` for an
    array task), so the window follows the job's state; else no tags."""
    job = os.environ.get("SLURM_JOB_ID", "").strip()
    if not job:
        return {}
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID", "").strip(), os.environ.get("SLURM_ARRAY_TASK_ID", "").strip()
    return {"runlens.slurm.job": "%s_%s" % (array, task) if array and task else job}


_ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "i686": "ia32", "i386": "ia32", "armv7l": "arm"}


def os_name():
    """Like the extension's `${platform()} ${release()} ${arch()}` (linux 6.1.0 x64)."""
    try:
        u = os.uname()
        return "%s %s %s" % (sys.platform, u.release, _ARCH.get(u.machine.lower(), u.machine.lower()))
    except AttributeError:
        import platform

        return "%s %s %s" % (sys.platform, platform.release(), _ARCH.get(platform.machine().lower(), platform.machine().lower()))


# -- params -------------------------------------------------------------------------------------


def flatten(value, out, prefix=""):
    """Nested params as dotted keys, like the extension's src/core/flatten.ts: numbers, strings and
    booleans kept, None left out, lists and anything else as JSON text. `value` is jsonable()."""
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(v, out, prefix + "." + k if prefix else k)
    elif isinstance(value, (bool, int, float, str)):
        out[prefix] = value
    elif value is not None:
        out[prefix] = js_json(value)
    return out


def js_json(value):
    """JSON.stringify's text for a jsonable() value (floats like 1.0 written as 1)."""
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + js_json(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(js_json(v) for v in value) + "]"
    if isinstance(value, float):
        return _yaml.js_number(value)
    return json.dumps(value, ensure_ascii=False)


def as_mapping(config):
    """A dict from an argparse.Namespace, a dict or another object with attributes."""
    if config is None:
        return {}
    if isinstance(config, dict) or hasattr(config, "keys"):
        return config
    if hasattr(config, "__dict__"):
        return vars(config)
    raise TypeError("expected a dict or an argparse.Namespace, got %s" % type(config).__name__)


def read_params_file(path):
    """A params file's content (YAML or JSON)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.lower().endswith(".json"):
        return json.loads(text)
    try:
        return _yaml.parse(text)
    except _yaml.YamlError:
        return json.loads(text)  # JSON is YAML; a file this reader cannot read may still be JSON


def merge_params(parts):
    """One flat dict from (kind, value) parts, later keys winning."""
    out = {}
    for value in parts:
        flatten(jsonable(value), out)
    return out


# -- runlens.yaml ---------------------------------------------------------------------------------


def read_project(folder):
    """runlens.yaml in `folder`, parsed, or None when there is none. Raises YamlError / OSError."""
    path = os.path.join(folder, "runlens.yaml")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        project = _yaml.parse(f.read())
    return project if isinstance(project, dict) else None


def _strings(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return []


def match_run(project, folder, script, argv):
    """The run configuration whose command runs `script` (an absolute path) as a dict with name,
    cwd, params, datasets and experiment; the one whose arguments match argv best, else the first."""
    runs = project.get("runs") if project else None
    if not isinstance(runs, dict) or not script:
        return None
    best, best_score = None, 0
    for name, run in runs.items():
        if not isinstance(run, dict):
            continue
        cmd = run.get("command")
        try:
            args = shlex.split(cmd) if isinstance(cmd, str) else [a if isinstance(a, str) else _yaml.key_text(a) for a in cmd]
        except (TypeError, ValueError):
            continue
        cwd = run.get("cwd")
        base = os.path.join(folder, cwd) if isinstance(cwd, str) else folder
        for i, arg in enumerate(args):
            if not arg.endswith(".py"):
                continue
            if _same(os.path.join(base, arg), script):
                rest = args[i + 1 :]
                score = 3 if rest == argv else 2 if rest == argv[: len(rest)] else 1
                if score > best_score:
                    experiment = run.get("experiment", project.get("experiment"))
                    best, best_score = {
                        "name": name, "cwd": base, "params": _strings(run.get("params")),
                        "datasets": _strings(run.get("datasets")),
                        "experiment": experiment.strip() if isinstance(experiment, str) and experiment.strip() else None,
                    }, score
            break
    return best


def _same(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
