"""Cost of runlens.log() per call, next to an empty loop and the naive json.dumps + write per call;
and the cost of runlens.init() starting a run by itself (git, patch, environment, params, packages)
on a git copy of the demo workspace, with and without datasets, next to `import runlens` alone.

    python3 test/bench/helper.bench.py        (BENCH_SCALE=0.1 for a quick run)

Standard library only. Prints a short report and a final `JSON {...}` line for the Node bench runner.
"""

import base64
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from array import array

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
HELPER = os.path.abspath(os.path.join(ROOT, "media", "python"))
sys.path.insert(0, HELPER)


def scale():
    try:
        return float(os.environ.get("BENCH_SCALE", "1") or 1)
    except ValueError:
        return 1.0


N = max(1000, int(1000000 * scale()))


def logged(i):
    # Floats that vary per call and need a full 17-digit repr, like real losses and accuracies
    # (the same expressions are inlined in the loops below).
    return 1.0 / (i + 1) + 0.25, (i % 1000) / 1001.0


def bench_empty(n):
    t0 = time.perf_counter()
    for i in range(n):
        x, y = 1.0 / (i + 1) + 0.25, (i % 1000) / 1001.0
        d = {"loss": x, "acc": y}
    return time.perf_counter() - t0


def bench_naive(n, path):
    dumps, now = json.dumps, time.time
    t0 = time.perf_counter()
    with open(path, "w") as f:
        write = f.write
        for i in range(n):
            x, y = 1.0 / (i + 1) + 0.25, (i % 1000) / 1001.0
            d = {"loss": x, "acc": y}
            write(dumps({"step": i, "t": now(), "metrics": d}) + "\n")
    return time.perf_counter() - t0


def bench_helper(n, path):
    os.environ["RUNLENS_METRICS_FILE"] = path
    import runlens

    log = runlens.log
    t0 = time.perf_counter()
    for i in range(n):
        x, y = 1.0 / (i + 1) + 0.25, (i % 1000) / 1001.0
        d = {"loss": x, "acc": y}
        log(d, step=i)
    runlens.finish()
    return time.perf_counter() - t0


def _float64s(b64, n):
    """The n little-endian float64 values in a base64 string of a `columns` line."""
    a = array("d", base64.b64decode(b64, validate=True))
    if sys.byteorder == "big":
        a.byteswap()
    if len(a) != n:
        raise ValueError("a column holds %d values, not n = %d" % (len(a), n))
    return a


def entries(obj):
    """[step, t, {key: value}] for each metric record of one parsed line."""
    c = obj.get("columns")
    if c is not None:
        n = c["n"]
        steps, times = _float64s(c["step"], n), _float64s(c["time"], n)
        cols = {k: _float64s(v, n) for k, v in c["values"].items()}
        return [[steps[i], times[i], {k: col[i] for k, col in cols.items()}] for i in range(n)]
    if "batch" in obj:
        return obj["batch"]
    if "metrics" in obj:
        return [[obj.get("step"), obj.get("t"), obj["metrics"]]]
    return []


def count_points(path):
    """(records, values) in a metrics file, and whether the steps are exactly 0..N-1 in order
    with exactly the logged values."""
    records, values, expected_step, in_order = 0, 0, 0, True
    with open(path) as f:
        for line in f:
            for step, t, metrics in entries(json.loads(line)):
                if step != expected_step or not isinstance(t, float):
                    in_order = False
                elif in_order:
                    x, y = logged(expected_step)
                    if metrics != {"loss": x, "acc": y}:
                        in_order = False
                expected_step += 1
                records += 1
                values += len(metrics)
    return records, values, in_order


def best_of(fn, *args):
    """Best of a few runs (less noise from other processes), N calls each."""
    runs = 3 if N <= 2000000 else 1
    best = None
    for _ in range(runs):
        gc.collect()
        best = min(best, fn(*args)) if best is not None else fn(*args)
    return best


# -- init() -------------------------------------------------------------------------------------

# Runs in a fresh interpreter each time (init() happens once per process, imports included).
INIT_CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import runlens
t1 = time.perf_counter()
uid = None
if sys.argv[1] != "import":
    uid = runlens.init(datasets=["data"] if sys.argv[1] == "datasets" else None)
t2 = time.perf_counter()
inbox = os.path.join(".runlens", "inbox", "%s.json" % uid)
while uid and not os.path.exists(inbox) and time.perf_counter() - t2 < 30:
    time.sleep(0.0005)
t3 = time.perf_counter()
print(json.dumps({"import": (t1 - t0) * 1e3, "init": (t2 - t1) * 1e3, "inbox": (t3 - t1) * 1e3, "uid": uid}))
"""


def demo_workspace(tmp):
    """A git copy of the demo workspace (with one uncommitted change), as `npm start` makes it."""
    ws = os.path.join(tmp, "demo")
    shutil.copytree(os.path.join(ROOT, "demo"), ws, ignore=shutil.ignore_patterns(".runlens", "outputs", "__pycache__"))
    git = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench"]
    subprocess.run(git + ["init", "-q"], cwd=ws, check=True)
    subprocess.run(git + ["add", "-A"], cwd=ws, check=True)
    subprocess.run(git + ["commit", "-qm", "demo"], cwd=ws, check=True)
    with open(os.path.join(ws, "train.py"), "a") as f:
        f.write("# an uncommitted change\n")
    return ws


def bench_init(ws, kind, n, env):
    out = []
    for _ in range(n):
        r = subprocess.run([sys.executable, "-c", INIT_CHILD, kind], cwd=ws, env=env, capture_output=True, text=True, timeout=120)
        if r.returncode != 0 or r.stderr:
            raise RuntimeError("init bench child failed: %s" % r.stderr)
        out.append(json.loads(r.stdout))
    return out


def init_figures(scale_n):
    """Median and best of n fresh interpreters: import alone, init() without and with datasets."""
    tmp = tempfile.mkdtemp(prefix="runlens-bench-init-")
    try:
        ws = demo_workspace(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLENS_") and k not in ("CI", "PYTHONDONTWRITEBYTECODE")}
        env["PYTHONPATH"] = HELPER
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")  # byte code, as an installed helper has it
        bench_init(ws, "plain", 1, env)  # warm the byte code and the OS caches
        figures = {}
        for kind in ("import", "plain", "datasets"):
            runs = bench_init(ws, kind, scale_n, env)
            for key in ("import", "init", "inbox"):
                values = [r[key] for r in runs]
                figures["%s_%s" % (kind, key)] = (statistics.median(values), min(values))
        inbox_dir = os.path.join(ws, ".runlens", "inbox")
        count = len(os.listdir(inbox_dir))
        data_files = sum(len(f) for _, _, f in os.walk(os.path.join(ws, "data")))
        return figures, count, data_files
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    tmp = tempfile.mkdtemp(prefix="runlens-bench-")
    naive_path = os.path.join(tmp, "naive.jsonl")
    helper_path = os.path.join(tmp, "helper.jsonl")

    empty_s = best_of(bench_empty, N)
    naive_s = best_of(lambda: (_rm(naive_path), bench_naive(N, naive_path))[1])
    helper_s = best_of(lambda: (_rm(helper_path), bench_helper(N, helper_path))[1])

    records, values, in_order = count_points(helper_path)
    shutil.rmtree(tmp, ignore_errors=True)  # also the packages.json the helper writes beside its file

    empty_us = empty_s / N * 1e6
    naive_us = naive_s / N * 1e6
    helper_us = helper_s / N * 1e6
    # The loop, the two floats and the dict are the caller's cost in all three: report the helper's
    # own share (what a training loop pays extra) and compare it to the naive way's own share.
    helper_own = helper_us - empty_us
    naive_own = naive_us - empty_us
    print("Python helper (python %s, N=%d)" % (sys.version.split()[0], N))
    print(
        "helper overhead: %.2f µs per runlens.log call   (target < 1 µs amortized)" % helper_own
    )
    print(
        "  vs naive json.dumps + write per call: %.2f µs  ->  %.2fx better"
        % (naive_own, naive_own / helper_own if helper_own > 0 else float("inf"))
    )
    print("  vs empty loop: %.2f µs" % empty_us)
    print("  (loop included: helper %.2f µs, naive %.2f µs per iteration)" % (helper_us, naive_us))
    init_n = max(3, int(15 * scale()))
    init, inbox_files, data_files = init_figures(init_n)
    print("runlens.init() starting a run itself, demo workspace in git (median / best of %d fresh interpreters):" % init_n)
    print("  import runlens alone:           %6.1f / %6.1f ms   (baseline)" % init["import_import"])
    print("  init() without datasets:        %6.1f / %6.1f ms   (target < 200 ms)" % init["plain_init"])
    print("    until the inbox file is in:   %6.1f / %6.1f ms   (packages listed in the background)" % init["plain_inbox"])
    print("  init(datasets=['data']):        %6.1f / %6.1f ms   (%d files, hashed; no extension cache)" % (init["datasets_init"] + (data_files,)))
    print("    until the inbox file is in:   %6.1f / %6.1f ms" % init["datasets_inbox"])
    ok = records == N and values == 2 * N and in_order and inbox_files == 1 + 2 * init_n
    if inbox_files != 1 + 2 * init_n:
        print("  ERROR: %d inbox files, expected %d" % (inbox_files, 1 + 2 * init_n))
    if not ok:
        print(
            "  ERROR: the helper's file has %d records / %d values (expected %d / %d), steps and values as logged: %s"
            % (records, values, N, 2 * N, in_order)
        )
    print(
        "JSON "
        + json.dumps(
            {
                "helper_us": round(helper_own, 4),
                "naive_us": round(naive_own, 4),
                "empty_us": round(empty_us, 4),
                "helper_loop_us": round(helper_us, 4),
                "naive_loop_us": round(naive_us, 4),
                "n": N,
                "records": records,
                "import_ms": round(init["import_import"][0], 2),
                "init_ms": round(init["plain_init"][0], 2),
                "init_inbox_ms": round(init["plain_inbox"][0], 2),
                "init_datasets_ms": round(init["datasets_init"][0], 2),
                "init_datasets_inbox_ms": round(init["datasets_inbox"][0], 2),
                "ok": ok,
            }
        )
    )
    return 0 if ok else 1


def _rm(path):
    try:
        os.remove(path)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
