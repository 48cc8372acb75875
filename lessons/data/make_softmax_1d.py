"""Make the small 1-D classification data sets of lesson 02 (softmax).

    python lessons/data/make_softmax_1d.py

writes, next to this script,

- ``inusarukiji_1d.csv``: 3 classes, dog / monkey / pheasant (イヌ・サル・キジ), 100 points each,
  x drawn around 2, 5 and 8 (normal, sd 0.8, so neighbouring classes overlap a little);
- ``ten_classes_1d.csv``: 10 classes, 60 points each, class k uniform in [k, k+1).

The lecture (seed 003) used its own ``sample-inusarukiji.csv``; these are made-up numbers of
the same kind. Lesson 02 derives the 5-class "wrap-around" labels as ``label % 5``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NAMES = ("dog", "monkey", "pheasant")


def main(seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for label, centre in enumerate((2.0, 5.0, 8.0)):
        for x in rng.normal(centre, 0.8, size=100):
            rows.append((round(float(x), 4), label, NAMES[label]))
    rows.sort()
    with open(HERE / "inusarukiji_1d.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["x", "label", "name"])
        writer.writerows(rows)

    rows = []
    for label in range(10):
        for x in rng.uniform(label, label + 1, size=60):
            rows.append((round(float(x), 4), label))
    rows.sort()
    with open(HERE / "ten_classes_1d.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["x", "label"])
        writer.writerows(rows)


if __name__ == "__main__":
    main()
    print("wrote", HERE / "inusarukiji_1d.csv", "and", HERE / "ten_classes_1d.csv")
