#!/usr/bin/env python3
"""RunLens demo: train a tiny MLP classifier on data/train.csv, evaluate on data/val.csv.

Standard library only. Deterministic for a given seed: two runs with the same
params print identical metrics.

    python3 train.py                                  # params.yaml as is
    python3 train.py --lr 0.2 --epochs 5              # argparse-style overrides
    python3 train.py train.lr=0.2 model.hidden=8      # Hydra-style overrides

Precedence: params.yaml < key=value overrides < --flags.
"""
import argparse
import csv
import json
import math
import os
import random
import sys

from params_reader import ParamsError, load as load_params, parse_scalar

try:  # optional: the RunLens Python helper, put on PYTHONPATH by the extension
    import runlens
except ImportError:
    runlens = None

HERE = os.path.dirname(os.path.abspath(__file__))

# Every accepted parameter (dotted key -> type). Unknown keys are errors, to catch typos.
SCHEMA = {
    "seed": int,
    "train.lr": float,
    "train.epochs": int,
    "train.batch_size": int,
    "train.l2": float,
    "model.hidden": int,
}
# --flag -> dotted key
FLAGS = {"seed": "seed", "lr": "train.lr", "epochs": "train.epochs",
         "batch_size": "train.batch_size", "l2": "train.l2", "hidden": "model.hidden"}


class DemoError(Exception):
    """A user-facing problem (bad params/data): one line on stderr, exit code 2."""


# ---------------------------------------------------------------- params

def flatten(tree, prefix=""):
    flat = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            flat.update(flatten(v, prefix + k + "."))
        else:
            flat[prefix + k] = v
    return flat


def set_dotted(tree, key, value):
    *parents, last = key.split(".")
    for p in parents:
        tree = tree.setdefault(p, {})
    tree[last] = value


def check_value(key, value, where):
    if key not in SCHEMA:
        raise DemoError(f"{where}: unknown param '{key}' (known: {', '.join(SCHEMA)})")
    want = SCHEMA[key]
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not want:
        raise DemoError(f"{where}: '{key}' must be {want.__name__}, got {value!r}")
    return value


def resolve_params(args):
    try:
        tree = load_params(args.params)
    except FileNotFoundError:
        raise DemoError(f"params file not found: {args.params}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DemoError(f"cannot read params file {args.params}: {e}") from None
    except ParamsError as e:
        raise DemoError(f"bad params file: {e}") from None

    for key, value in flatten(tree).items():
        set_dotted(tree, key, check_value(key, value, args.params))

    for item in args.overrides:                  # Hydra-style key=value
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise DemoError(f"bad override '{item}': expected key=value, e.g. train.lr=0.1")
        try:
            value = parse_scalar(text)
        except ParamsError as e:
            raise DemoError(f"bad override '{item}': {e}") from None
        set_dotted(tree, key, check_value(key, value, f"override '{item}'"))

    for flag, key in FLAGS.items():              # --flags win
        value = getattr(args, flag)
        if value is not None:
            set_dotted(tree, key, check_value(key, value, f"--{flag.replace('_', '-')}"))

    flat = flatten(tree)
    missing = [k for k in SCHEMA if k not in flat]
    if missing:
        raise DemoError(f"{args.params}: missing param(s): {', '.join(missing)}")
    for key, ok, rule in (("train.lr", flat["train.lr"] > 0, "> 0"),
                          ("train.epochs", flat["train.epochs"] >= 1, ">= 1"),
                          ("train.batch_size", flat["train.batch_size"] >= 1, ">= 1"),
                          ("train.l2", flat["train.l2"] >= 0, ">= 0"),
                          ("model.hidden", flat["model.hidden"] >= 1, ">= 1")):
        if not ok or not math.isfinite(flat[key]):
            raise DemoError(f"'{key}' must be {rule}, got {flat[key]!r}")
    return tree, flat


# ---------------------------------------------------------------- data

def read_csv(path):
    """Return (feature_names, rows) with rows = [(features, label)]."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if not header or "label" not in header:
                raise DemoError(f"{path}: expected a header row with a 'label' column")
            li = header.index("label")
            names = [h for i, h in enumerate(header) if i != li]
            if not names:
                raise DemoError(f"{path}: no feature columns")
            rows = []
            for record in reader:
                if not record:
                    continue
                line = reader.line_num
                if len(record) != len(header):
                    raise DemoError(f"{path}:{line}: expected {len(header)} columns, got {len(record)}")
                try:
                    x = [float(v) for i, v in enumerate(record) if i != li]
                except ValueError:
                    raise DemoError(f"{path}:{line}: non-numeric feature value") from None
                if not all(math.isfinite(v) for v in x):
                    raise DemoError(f"{path}:{line}: non-finite feature value")
                if record[li].strip() not in ("0", "1"):
                    raise DemoError(f"{path}:{line}: label must be 0 or 1, got {record[li]!r}")
                rows.append((x, int(record[li])))
    except FileNotFoundError:
        raise DemoError(f"data file not found: {path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DemoError(f"cannot read {path}: {e}") from None
    if not rows:
        raise DemoError(f"{path}: no data rows")
    return names, rows


def standardize(train, val):
    """Scale features with the training set's mean/std. Returns (train, val, mean, std)."""
    d, n = len(train[0][0]), len(train)
    mean = [sum(x[j] for x, _ in train) / n for j in range(d)]
    std = [math.sqrt(sum((x[j] - mean[j]) ** 2 for x, _ in train) / n) or 1.0 for j in range(d)]

    def scale(rows):
        return [([(v - m) / s for v, m, s in zip(x, mean, std)], y) for x, y in rows]
    return scale(train), scale(val), mean, std


# ---------------------------------------------------------------- model

class MLP:
    """d inputs -> `hidden` tanh units -> 1 sigmoid output."""

    def __init__(self, d, hidden, rng):
        a1, a2 = math.sqrt(6 / (d + hidden)), math.sqrt(6 / (hidden + 1))  # Xavier uniform
        self.W1 = [[rng.uniform(-a1, a1) for _ in range(d)] for _ in range(hidden)]
        self.b1 = [0.0] * hidden
        self.w2 = [rng.uniform(-a2, a2) for _ in range(hidden)]
        self.b2 = 0.0

    def forward(self, x):
        h = [math.tanh(sum(w * v for w, v in zip(row, x)) + b) for row, b in zip(self.W1, self.b1)]
        z = sum(w * v for w, v in zip(self.w2, h)) + self.b2
        return h, z

    @staticmethod
    def loss(z, y):
        """Numerically stable binary cross-entropy on the logit z."""
        return max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))

    @staticmethod
    def prob(z):
        return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))

    def sgd_step(self, batch, lr, l2):
        """One mini-batch SGD step with L2 weight decay (not on biases). Returns mean loss."""
        hidden, d = len(self.W1), len(self.W1[0])
        gW1 = [[0.0] * d for _ in range(hidden)]
        gb1 = [0.0] * hidden
        gw2 = [0.0] * hidden
        gb2 = total = 0.0
        for x, y in batch:
            h, z = self.forward(x)
            total += self.loss(z, y)
            dz = self.prob(z) - y
            gb2 += dz
            for j in range(hidden):
                gw2[j] += dz * h[j]
                dh = dz * self.w2[j] * (1 - h[j] * h[j])
                gb1[j] += dh
                row = gW1[j]
                for k in range(d):
                    row[k] += dh * x[k]
        n = len(batch)
        for j in range(hidden):
            W, G = self.W1[j], gW1[j]
            for k in range(d):
                W[k] -= lr * (G[k] / n + l2 * W[k])
            self.b1[j] -= lr * gb1[j] / n
            self.w2[j] -= lr * (gw2[j] / n + l2 * self.w2[j])
        self.b2 -= lr * gb2 / n
        return total / n

    def evaluate(self, rows):
        loss = correct = 0
        for x, y in rows:
            _, z = self.forward(x)
            loss += self.loss(z, y)
            correct += (z >= 0) == (y == 1)
        return loss / len(rows), correct / len(rows)


# ---------------------------------------------------------------- main

def write_json(path, obj):
    # a temp name of this process's own: trials of a sweep running together write the same path
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def shown(path):
    """Path relative to the cwd when it is inside it (keeps output stable), else absolute."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # different drive on Windows
        return path
    return path if rel.startswith("..") else rel


def parse_args(argv):
    p = argparse.ArgumentParser(description="Train the RunLens demo classifier.")
    p.add_argument("--params", default=os.path.join(HERE, "params.yaml"), help="params file (default: params.yaml next to train.py)")
    p.add_argument("--data-dir", default=os.path.join(HERE, "data"), help="folder with train.csv and val.csv")
    p.add_argument("--out-dir", default=os.path.join(HERE, "outputs"), help="where model.json and metrics.json go")
    p.add_argument("--seed", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--l2", type=float)
    p.add_argument("--hidden", type=int)
    p.add_argument("overrides", nargs="*", metavar="key=value", help="Hydra-style overrides, e.g. train.lr=0.1")
    return p.parse_intermixed_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tree, flat = resolve_params(args)
    print("resolved params: " + json.dumps(tree), flush=True)

    names, train_rows = read_csv(os.path.join(args.data_dir, "train.csv"))
    val_names, val_rows = read_csv(os.path.join(args.data_dir, "val.csv"))
    if val_names != names:
        raise DemoError(f"val.csv columns {val_names} do not match train.csv columns {names}")
    train_rows, val_rows, mean, std = standardize(train_rows, val_rows)

    if runlens is not None:
        runlens.log_params(flat)

    rng = random.Random(flat["seed"])
    model = MLP(len(names), flat["model.hidden"], rng)
    lr, l2, bs = flat["train.lr"], flat["train.l2"], flat["train.batch_size"]
    order = list(range(len(train_rows)))
    global_step, history = 0, []
    for epoch in range(1, flat["train.epochs"] + 1):
        rng.shuffle(order)
        losses = []
        for start in range(0, len(order), bs):
            batch = [train_rows[i] for i in order[start:start + bs]]
            batch_loss = model.sgd_step(batch, lr, l2)
            global_step += 1
            losses.append(batch_loss * len(batch))
            if runlens is not None:
                runlens.log({"batch_loss": batch_loss}, step=global_step)
        train_loss = sum(losses) / len(order)
        val_loss, val_acc = model.evaluate(val_rows)
        if not math.isfinite(train_loss):
            raise DemoError(f"training diverged at epoch {epoch} (loss is {train_loss}); try a smaller lr")
        metrics = {"train_loss": train_loss, "val_loss": val_loss, "val_acc": val_acc}
        history.append({"epoch": epoch, **metrics})
        print(f"epoch={epoch} step={epoch} train_loss={train_loss:.4f} "
              f"val_loss={val_loss:.4f} val_acc={val_acc:.4f}", flush=True)
        if runlens is not None:
            runlens.log(metrics, step=epoch)

    best = max(history, key=lambda h: h["val_acc"])  # first epoch with the highest val_acc
    os.makedirs(args.out_dir, exist_ok=True)
    model_path = os.path.join(args.out_dir, "model.json")
    metrics_path = os.path.join(args.out_dir, "metrics.json")
    write_json(model_path, {
        "format": "runlens-demo-mlp/1",
        "features": names,
        "standardize": {"mean": mean, "std": std},
        "activation": "tanh",
        "output": "sigmoid",
        "W1": model.W1, "b1": model.b1, "w2": model.w2, "b2": model.b2,
        "params": flat,
    })
    write_json(metrics_path, {**history[-1], "best_val_acc": best["val_acc"], "best_epoch": best["epoch"]})
    if runlens is not None and hasattr(runlens, "log_model"):
        runlens.log_model("demo-classifier", shown(model_path))
    print(f"done: best val_acc={best['val_acc']:.4f} at epoch {best['epoch']}; "
          f"wrote {shown(model_path)} and {shown(metrics_path)}", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DemoError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # e.g. `python3 train.py | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
