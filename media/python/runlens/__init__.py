"""RunLens helper: log metrics, hyperparameters, tags, artifacts and models from a training script.

    import runlens
    runlens.log_params({"lr": 0.1, "model": {"depth": 3}})
    for step in range(1000):
        runlens.log({"loss": loss, "acc": acc}, step=step)
    runlens.log_model("clf", "outputs/model.pt", {"framework": "torch"})

Writes JSON lines to $RUNLENS_METRICS_FILE (set by RunLens when it launches the run; see
src/core/ingest/FORMAT.md in the extension). Without it, writes ./runlens-metrics.jsonl and says so
once on stderr. Standard library only; Python 3.8+.

`log()` only buffers; the buffer is written every 250 ms ($RUNLENS_FLUSH_MS, also by a background
thread when the script is idle), every 2000 records, before any other record, on `flush()` /
`finish()` and at exit (not on SIGKILL or os._exit: call `finish()` first there). Each run of
records with the same keys becomes one `columns` line (base64 float64 columns); the rest, a `batch`
line. Values are checked when written: non-numeric ones are skipped then, with one warning per key.
Writing problems never raise: they are reported once on stderr and the data stays buffered for the
next attempt.
"""

from ._core import configure, finish, flush, log, log_artifact, log_model, log_params, set_tags

__version__ = "0.1.0"
__all__ = ["log", "log_params", "set_tags", "log_artifact", "log_model", "flush", "finish", "configure"]
