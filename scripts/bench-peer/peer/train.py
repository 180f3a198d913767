#!/usr/bin/python3
"""Trains the peer's model: a HistGradientBoostingClassifier with fraud-gbdt's hyperparameters
(read from its model card), on a feature table the bench exports with the project's own
feature code. Pickles the estimator and prints its size as JSON on stdout.

    /usr/bin/python3 train.py --features FILE.csv --card models/fraud-gbdt/1.0.0/model.json --out model.pkl
"""

from __future__ import annotations

import argparse
import json
import pickle
import time

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--features", required=True, help="CSV: label, then the 21 features")
    parser.add_argument("--card", required=True, help="model.json of the model to match in size")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    with open(args.card, encoding="utf-8") as f:
        hp = json.load(f)["training"]["hyperparameters"]
    table = np.loadtxt(args.features, delimiter=",", skiprows=1, dtype=np.float64)
    y = table[:, 0].astype(np.int64)
    x = table[:, 1:].astype(np.float32)
    model = HistGradientBoostingClassifier(
        loss="log_loss", learning_rate=hp["learning_rate"], max_iter=hp["max_iter"],
        max_leaf_nodes=hp["max_leaf_nodes"], min_samples_leaf=hp["min_samples_leaf"],
        l2_regularization=hp["l2_regularization"], max_bins=hp["max_bins"], early_stopping=False,
        random_state=hp.get("random_state", 42),
    )
    started = time.monotonic()
    model.fit(x, y)
    fit_seconds = time.monotonic() - started
    with open(args.out, "wb") as f:
        pickle.dump(model, f)
    leaves = sum(p.get_n_leaf_nodes() for iteration in model._predictors for p in iteration)
    print(json.dumps({
        "trees": model.n_iter_, "leaves": int(leaves), "rows": int(len(y)), "positives": int(y.sum()),
        "fitSeconds": round(fit_seconds, 1), "sklearn": sklearn.__version__,
        "target": {"trees": hp["trees"], "leaves": hp["leaves"]},
    }))


if __name__ == "__main__":
    main()
