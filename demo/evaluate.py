#!/usr/bin/env python3
"""RunLens demo: evaluate a saved model (outputs/model.json, as train.py writes it) on a CSV and
record the result as an evaluation of a registered version of demo-classifier (runlens.log_eval).

Standard library only. Meant to run from cron or CI, not from the editor:

    python3 data/make_data.py --month 1
    python3 evaluate.py --ref production --data data/monthly/month-1.csv --at 2026-02-01

Without the runlens helper on PYTHONPATH it only prints the metrics.
"""
import argparse
import datetime
import json
import math
import os
import sys

from train import MLP, DemoError, read_csv

try:
    import runlens
except ImportError:
    runlens = None

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = "demo-classifier"


def load_model(path):
    """(feature names, mean, std, MLP) from a model.json file."""
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except FileNotFoundError:
        raise DemoError(f"model file not found: {path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise DemoError(f"cannot read model file {path}: {e}") from None
    if not isinstance(m, dict) or m.get("format") != "runlens-demo-mlp/1":
        raise DemoError(f"{path}: not a runlens-demo-mlp/1 model file")
    net = MLP.__new__(MLP)
    net.W1, net.b1, net.w2, net.b2 = m["W1"], m["b1"], m["w2"], m["b2"]
    return m["features"], m["standardize"]["mean"], m["standardize"]["std"], net


def parse_args(argv):
    p = argparse.ArgumentParser(description="Evaluate the demo classifier on a CSV and log it with runlens.log_eval.")
    p.add_argument("--ref", default="production", help="version (3, v3) or alias evaluated (default: production)")
    p.add_argument("--model-file", default=os.path.join(HERE, "outputs", "model.json"), help="the model.json to evaluate")
    p.add_argument("--data", default=os.path.join(HERE, "data", "val.csv"), help="CSV with the training columns")
    p.add_argument("--at", help="when the evaluation counts as made (ISO date or time, UTC); default: now")
    return p.parse_args(argv)


def parse_at(text):
    if text is None:
        return None
    try:
        at = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise DemoError(f"--at: not an ISO date or time: {text!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=datetime.timezone.utc)


def main(argv=None):
    args = parse_args(argv)
    at = parse_at(args.at)
    features, mean, std, net = load_model(args.model_file)
    names, rows = read_csv(args.data)
    if names != features:
        raise DemoError(f"{args.data}: columns {names} do not match the model's {features}")
    scaled = [([(v - m) / s for v, m, s in zip(x, mean, std)], y) for x, y in rows]
    loss, acc = net.evaluate(scaled)
    if not math.isfinite(loss):
        raise DemoError(f"the model's loss on {args.data} is {loss}")
    metrics = {"val_acc": acc, "val_loss": loss}
    print(f"{MODEL}@{args.ref} on {args.data}: val_acc={acc:.4f} val_loss={loss:.4f}", flush=True)
    if runlens is not None:
        ref = int(args.ref) if args.ref.isdigit() else args.ref
        runlens.log_eval(MODEL, ref, metrics, dataset=args.data, at=at)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DemoError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
