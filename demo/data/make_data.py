#!/usr/bin/env python3
"""Regenerate demo/data/train.csv and demo/data/val.csv (deterministic, stdlib only).

Synthetic "sensor" data: five numeric features on different scales and one 0/1
label. The label depends on a curved (roughly elliptical) boundary in two of
the features plus an interaction term, so a linear model barely beats chance
(~0.63 val accuracy) while a small MLP reaches ~0.86. About 6% of labels are
flipped, so 100% accuracy is not reachable.

    python3 data/make_data.py        # run from demo/
    python3 data/make_data.py --month 3   # data/monthly/month-3.csv: new data, three months on

Later months drift: temp's mean rises 3 per month, humidity spreads wider, and
the boundary itself moves (the ellipse's centre follows temp by 2 per month), so a
model trained on train.csv scores lower each month. Same header, 160 rows each.
"""
import argparse
import csv
import math
import os
import random

SEED = 7
N_TRAIN, N_VAL = 480, 160
FLIP = 0.06
HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = ["temp", "pressure", "vibration", "humidity", "load", "label"]


def sample(rng, month=0):
    temp = rng.gauss(60.0 + 3.0 * month, 8.0)          # informative (curved boundary)
    pressure = rng.gauss(1.0, 0.25)          # informative (curved boundary)
    vibration = rng.uniform(0.0, 10.0)       # weakly informative (interaction)
    humidity = rng.gauss(45.0, 12.0 + 4.0 * month)     # pure noise
    load = 0.6 * (temp - 60.0) / 8.0 + rng.gauss(0.0, 0.8)  # correlated with temp
    a, b = (temp - 60.0 - 2.0 * month) / 8.0, (pressure - 1.0) / 0.25
    score = a * a + b * b + 0.35 * a * b * (vibration - 5.0) / 5.0
    return [temp, pressure, vibration, humidity, load], score


def labelled(rng, rows, threshold):
    out = []
    for x, s in rows:
        y = 1 if s < threshold else 0                       # "inside the ellipse"
        if rng.random() < FLIP:
            y = 1 - y
        out.append([f"{v:.3f}" for v in x] + [y])
    return out


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)


def main(argv=None):
    p = argparse.ArgumentParser(description="Write the demo's data (train.csv and val.csv, or a later month).")
    p.add_argument("--month", type=int, help="write data/monthly/month-N.csv (N >= 1) instead")
    args = p.parse_args(argv)
    rng = random.Random(SEED)
    rows = [sample(rng) for _ in range(N_TRAIN + N_VAL)]
    threshold = sorted(s for _, s in rows)[len(rows) // 2]  # median -> ~50/50 classes
    if args.month is None:
        out = labelled(rng, rows, threshold)
        write(os.path.join(HERE, "train.csv"), out[:N_TRAIN])
        write(os.path.join(HERE, "val.csv"), out[N_TRAIN:])
        print(f"wrote {N_TRAIN} train / {N_VAL} val rows to {HERE}")
        return
    if args.month < 1:
        p.error("--month must be 1 or more")
    rng = random.Random(SEED * 1000 + args.month)
    out = labelled(rng, [sample(rng, args.month) for _ in range(N_VAL)], threshold)
    folder = os.path.join(HERE, "monthly")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"month-{args.month}.csv")
    write(path, out)
    print(f"wrote {N_VAL} rows of month {args.month} to {path}")


if __name__ == "__main__":
    main()
