#!/usr/bin/env python3
"""Regenerate demo/data/train.csv and demo/data/val.csv (deterministic, stdlib only).

Synthetic "sensor" data: five numeric features on different scales and one 0/1
label. The label depends on a curved (roughly elliptical) boundary in two of
the features plus an interaction term, so a linear model barely beats chance
(~0.63 val accuracy) while a small MLP reaches ~0.86. About 6% of labels are
flipped, so 100% accuracy is not reachable.

    python3 data/make_data.py        # run from demo/
"""
import csv
import math
import os
import random

SEED = 7
N_TRAIN, N_VAL = 480, 160
FLIP = 0.06
HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = ["temp", "pressure", "vibration", "humidity", "load", "label"]


def sample(rng):
    temp = rng.gauss(60.0, 8.0)              # informative (curved boundary)
    pressure = rng.gauss(1.0, 0.25)          # informative (curved boundary)
    vibration = rng.uniform(0.0, 10.0)       # weakly informative (interaction)
    humidity = rng.gauss(45.0, 12.0)         # pure noise
    load = 0.6 * (temp - 60.0) / 8.0 + rng.gauss(0.0, 0.8)  # correlated with temp
    a, b = (temp - 60.0) / 8.0, (pressure - 1.0) / 0.25
    score = a * a + b * b + 0.35 * a * b * (vibration - 5.0) / 5.0
    return [temp, pressure, vibration, humidity, load], score


def main():
    rng = random.Random(SEED)
    rows = [sample(rng) for _ in range(N_TRAIN + N_VAL)]
    threshold = sorted(s for _, s in rows)[len(rows) // 2]  # median -> ~50/50 classes
    out = []
    for x, s in rows:
        y = 1 if s < threshold else 0                       # "inside the ellipse"
        if rng.random() < FLIP:
            y = 1 - y
        out.append([f"{v:.3f}" for v in x] + [y])
    for name, part in (("train.csv", out[:N_TRAIN]), ("val.csv", out[N_TRAIN:])):
        with open(os.path.join(HERE, name), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(HEADER)
            w.writerows(part)
    print(f"wrote {N_TRAIN} train / {N_VAL} val rows to {HERE}")


if __name__ == "__main__":
    main()
