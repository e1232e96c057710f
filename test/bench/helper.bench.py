"""Cost of runlens.log() per call, next to an empty loop and the naive json.dumps + write per call.

    python3 test/bench/helper.bench.py        (BENCH_SCALE=0.1 for a quick run)

Standard library only. Prints a short report and a final `JSON {...}` line for the Node bench runner.
"""

import base64
import gc
import json
import os
import sys
import tempfile
import time
from array import array

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "media", "python"))


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


def main():
    tmp = tempfile.mkdtemp(prefix="runlens-bench-")
    naive_path = os.path.join(tmp, "naive.jsonl")
    helper_path = os.path.join(tmp, "helper.jsonl")

    empty_s = best_of(bench_empty, N)
    naive_s = best_of(lambda: (_rm(naive_path), bench_naive(N, naive_path))[1])
    helper_s = best_of(lambda: (_rm(helper_path), bench_helper(N, helper_path))[1])

    records, values, in_order = count_points(helper_path)
    for p in (naive_path, helper_path):
        _rm(p)
    os.rmdir(tmp)

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
    ok = records == N and values == 2 * N and in_order
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
