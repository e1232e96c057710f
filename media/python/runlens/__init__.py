"""RunLens helper: log metrics, hyperparameters, tags, artifacts and models from a training script,
however it starts: launched by RunLens, in a terminal, under a debugger, in a notebook, in CI.

    import runlens
    runlens.init(params={"lr": 0.1}, config=args, datasets=["data"])   # optional
    for step in range(1000):
        runlens.log({"loss": loss, "acc": acc}, step=step)
    runlens.log_model("clf", "outputs/model.pt", {"framework": "torch"})
    runlens.log_eval("clf", "production", {"val_acc": 0.91}, dataset="data/2024-06")  # an evaluation run

Inside a RunLens launch, records go to $RUNLENS_METRICS_FILE (see src/core/ingest/FORMAT.md in the
extension), and the installed packages to packages.json beside it. Anywhere else the helper starts
a run by itself, at init() or at the first log / log_params / set_tags / log_artifact / log_model:
it finds the workspace store ($RUNLENS_STORE, else .runlens/ in the nearest folder at or above the
working directory that holds .runlens/ or runlens.yaml), writes the run's folder there and an inbox
file the extension adopts (the contract is in _run.py). It records the commit, branch and patch of
uncommitted changes, the command line, script, interpreter, environment (secrets redacted as the
extension does), params (init arguments, an argparse Namespace, params files, and the params files
of the runlens.yaml run configuration that names the script), dataset hashes (init and runlens.yaml),
the installed packages and, in a Jupyter kernel, the notebook's path and a snapshot. No store found:
one warning, nothing is written.

The run ends at finish() (exit code 0), at interpreter exit (1 after an uncaught exception, the
code given to sys.exit()) or, in a notebook or script, at the next init(), which starts a new run.
After finish(), log() records nothing (with one warning) until init() starts another run; a process
killed with SIGKILL or os._exit leaves no exit record and RunLens marks the run crashed.

`log()` only buffers; the buffer is written every 250 ms ($RUNLENS_FLUSH_MS, also by a background
thread when the script is idle), every 2000 records, before any other record, on `flush()` /
`finish()` and at exit (not on SIGKILL or os._exit: call `finish()` first there). Each run of
records with the same keys becomes one `columns` line (base64 float64 columns); the rest, a `batch`
line. Values are checked when written: non-numeric ones are skipped then, with one warning per key.
The helper never raises into your script because of writing or provenance problems: they are
reported once on stderr. Standard library only; Python 3.8+.
"""

from ._core import configure, finish, flush, init, log, log_artifact, log_model, log_params, set_tags
from ._eval import log_eval

__version__ = "0.1.0"
__all__ = ["init", "log", "log_params", "set_tags", "log_artifact", "log_model", "flush", "finish", "configure", "log_eval"]
