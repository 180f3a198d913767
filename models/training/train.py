#!/usr/bin/python3
"""Trains the fraud model: exported feature table -> calibrated gradient-boosted trees in ONNX,
plus the model card (model.json) and the replay set (replay.jsonl).

    /usr/bin/python3 models/training/train.py --work models/training/.work \\
        --out models/fraud-gbdt/1.0.0 --model-name fraud-gbdt --model-version 1.0.0 --seed 42

Needs only Debian's python3-sklearn, python3-numpy and python3-onnx (run it with /usr/bin/python3).

Input (written by export-features.ts into --work): features.csv, feature-spec.json,
dataset.json, requests.jsonl; see models/training/README.md for the contract.

Steps:
1. Load features.csv (float64 parse, then float32: the model input type, as serving rounds it).
2. Split in time order (train_data.py): by UTC calendar day of ``ts`` by default (the
   earliest ~75 % of the days train, the rest is the holdout), or by rows
   (``--train-fraction``) or at a time (``--holdout-from``). The last ~15 % of the training
   part is a calibration slice that the trees never see.
3. Fit HistGradientBoostingClassifier (fixed random_state, no early stopping).
4. Expected calibration error (ECE) on the holdout, 15 equal-width bins over [0, 1]:
   ECE = sum_b (n_b / n) * |mean score_b - fraud rate_b|. If it is above the goal (0.02),
   fit Platt scaling sigmoid(a * margin + b) on the calibration slice and keep it if it
   lowers the holdout ECE. An equal-mass variant (15 bins of equal row count) is reported
   alongside, because with ~1 % fraud almost every score falls in the first equal-width bin.
5. Metrics, thresholds (review at 1 % FPR, decline at 0.1 % FPR) and a score histogram,
   all from the final calibrated holdout scores.
6. Convert to ONNX (onnx_trees.py), check the converted trees against scikit-learn, write
   model.onnx, model.json and replay.jsonl (train_card.py).
7. With ``--baseline``, fit a plain HistGradientBoostingClassifier on the raw request columns
   of the same split and report both ROC-AUCs (train_report.py).

Modules: train_common.py (constants, log), train_data.py (loading, split),
train_calibration.py (ECE, Platt, thresholds), train_card.py (replay cases, card, files),
train_report.py (baseline, summary), onnx_trees.py (the ONNX converter).

All scores here are float64 computed by scikit-learn/numpy from the float32-cast inputs;
the ONNX model reproduces them within ~1e-6 (float32 arithmetic in onnxruntime).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import onnx_trees  # noqa: E402
from train_calibration import calibrate, ece_equal_mass, ece_equal_width, threshold_at_fpr  # noqa: E402
from train_card import (  # noqa: E402
    calibration_block, choose_replay, dump_holdout, framework, histogram, replay_cases, replay_summary, write_model,
)
from train_common import STARTED, created_timestamp, iso_ms, log  # noqa: E402
from train_data import load_table, period, raw_columns, row_period, split_days, split_from, split_rows  # noqa: E402
from train_report import baseline, summary  # noqa: E402

# The default split (no --train-fraction, no --holdout-from): the first 75 % of the calendar days train.
DAY_TRAIN_FRACTION = 0.75


# --------------------------------------------------------------------------- training


class ProgressFilter(io.TextIOBase):
    """Receives scikit-learn's verbose stdout and forwards every n-th iteration line to stderr."""

    def __init__(self, every: int):
        self.every = every
        self.buffer = ""

    def write(self, text: str) -> int:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            match = re.match(r"\[(\d+)/(\d+)\]", line)
            if match:
                k, n = int(match.group(1)), int(match.group(2))
                if k == 1 or k == n or k % self.every == 0:
                    log(f"  iteration {k}/{n}: {line[match.end():].strip()}")
            elif line.strip() and not line.startswith("Time spent"):
                log(f"  {line.strip()}")
        return len(text)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, type=Path, help="exporter output directory")
    ap.add_argument("--out", required=True, type=Path, help="model directory to write")
    ap.add_argument("--model-name", default="fraud-gbdt")
    ap.add_argument("--model-version", default="1.0.0")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--created", help="ISO-8601 creation time for the card (default SOURCE_DATE_EPOCH, else now)")
    ap.add_argument("--train-fraction", type=float, default=None,
                    help="share of the rows, in time order, used for training (default: split by calendar day, "
                         "the first 75 %% of the days train)")
    ap.add_argument("--holdout-from", metavar="ISO",
                    help="rows at or after this time are the holdout (instead of --train-fraction)")
    ap.add_argument("--baseline", action="store_true",
                    help="also fit a plain HistGradientBoostingClassifier on the raw request columns on the same "
                         "split and report both ROC-AUCs (recorded in the card as training.baseline)")
    ap.add_argument("--calibration-fraction", type=float, default=0.15,
                    help="share of the training days, at the end, kept out of the trees for calibration")
    ap.add_argument("--calibration", choices=["auto", "none", "platt"], default="auto",
                    help="auto: Platt scaling only if the raw holdout ECE misses --ece-goal and Platt improves it")
    ap.add_argument("--ece-goal", type=float, default=0.02)
    ap.add_argument("--max-iter", type=int, default=300)
    ap.add_argument("--learning-rate", type=float, default=0.08)
    ap.add_argument("--max-leaf-nodes", type=int, default=31)
    ap.add_argument("--min-samples-leaf", type=int, default=100)
    ap.add_argument("--l2-regularization", type=float, default=1.0)
    ap.add_argument("--max-bins", type=int, default=255)
    ap.add_argument("--tree-precision", choices=["float32", "float64"], default="float32",
                    help="float32: float thresholds rounded down, float leaf sums (default); float64: Cast to "
                         "double in the graph, exact thresholds and double sums (see onnx_trees.py)")
    ap.add_argument("--replay-cases", type=int, default=256)
    ap.add_argument("--dump-holdout", type=Path, metavar="DIR",
                    help="also write the holdout for parity checks on more rows than the replay set: "
                         "holdout.json (rows, features), holdout-features.f32 (float32 little-endian, "
                         "row-major), holdout-scores.f64 (float64 trainer scores), holdout-labels.u8")
    args = ap.parse_args(argv)
    if args.train_fraction is not None and args.holdout_from is not None:
        ap.error("--train-fraction and --holdout-from are alternatives; give one")

    work, out = args.work, args.out
    spec = json.loads((work / "feature-spec.json").read_text())
    dataset = json.loads((work / "dataset.json").read_text())
    feature_names = [f["name"] for f in spec["features"]]
    if dataset.get("featureSpecVersion", spec["specVersion"]) != spec["specVersion"]:
        raise SystemExit("dataset.json and feature-spec.json disagree on the feature spec version")

    log(f"loading {work / 'features.csv'} ({len(feature_names)} features, spec {spec['specVersion']})")
    ts_file, label_file, X_file = load_table(work, feature_names)
    order = np.argsort(ts_file, kind="stable")  # file row of each time-ordered row
    ts, y, X = ts_file[order], label_file[order], X_file[order]
    del ts_file, label_file, X_file
    n_nan = int(np.isnan(X).sum())
    log(f"loaded {len(y):,} rows, {int(y.sum()):,} labelled fraud ({y.mean():.3%}), {n_nan} missing values")

    if args.train_fraction is None and args.holdout_from is None:
        day, split = split_days(ts, DAY_TRAIN_FRACTION, args.calibration_fraction)
        fit_rows = day < split["fitEnd"]
        cal_rows = (day >= split["fitEnd"]) & (day < split["trainEnd"])
        test_rows = day >= split["trainEnd"]
    else:
        split = (split_rows(ts, args.train_fraction, args.calibration_fraction) if args.holdout_from is None
                 else split_from(ts, args.holdout_from, args.calibration_fraction))
        fit_rows, cal_rows, test_rows = split["fit"], split["calibration"], split["holdout"]
    for name, rows in (("fit", fit_rows), ("calibration", cal_rows), ("holdout", test_rows)):
        log(f"{name:<11} {int(rows.sum()):>9,} rows, {int(y[rows].sum()):>6,} fraud "
            f"({iso_ms(int(ts[rows].min()))[:10]} .. {iso_ms(int(ts[rows].max()))[:10]})")
    if y[test_rows].sum() == 0 or y[fit_rows].sum() == 0:
        raise SystemExit("the fit period and the holdout both need labelled fraud")

    hyperparameters = {
        "estimator": "HistGradientBoostingClassifier",
        "loss": "log_loss",
        "learning_rate": args.learning_rate,
        "max_iter": args.max_iter,
        "max_leaf_nodes": args.max_leaf_nodes,
        "max_depth": None,
        "min_samples_leaf": args.min_samples_leaf,
        "l2_regularization": args.l2_regularization,
        "max_bins": args.max_bins,
        "early_stopping": False,
        "random_state": args.seed,
    }
    model = HistGradientBoostingClassifier(
        loss="log_loss", learning_rate=args.learning_rate, max_iter=args.max_iter,
        max_leaf_nodes=args.max_leaf_nodes, min_samples_leaf=args.min_samples_leaf,
        l2_regularization=args.l2_regularization, max_bins=args.max_bins,
        early_stopping=False, random_state=args.seed, verbose=1,
    )
    log(f"training HistGradientBoostingClassifier: {args.max_iter} iterations on "
        f"{int(fit_rows.sum()):,} rows x {X.shape[1]} features")
    fit_started = time.monotonic()
    with contextlib.redirect_stdout(ProgressFilter(every=max(1, args.max_iter // 10))):
        model.fit(X[fit_rows], y[fit_rows])
    fit_seconds = time.monotonic() - fit_started
    n_leaves = sum(p.get_n_leaf_nodes() for it in model._predictors for p in it)
    log(f"trained {model.n_iter_} trees ({n_leaves:,} leaves) in {fit_seconds:.1f} s")

    # Raw margins of the float32-cast inputs (HistGradientBoosting casts them to float64 exactly).
    margin_test = model.decision_function(X[test_rows])
    margin_cal = model.decision_function(X[cal_rows])
    y_test, y_cal = y[test_rows], y[cal_rows]
    a, b, method, reason, ece_before = calibrate(args.calibration, args.ece_goal, margin_test, y_test,
                                                 margin_cal, y_cal)
    p_test = onnx_trees.reference_scores(margin_test, a, b)
    ece_after = ece_equal_width(p_test, y_test)

    metrics = {
        "rocAuc": float(roc_auc_score(y_test, p_test)),
        "prAuc": float(average_precision_score(y_test, p_test)),
        "recallAt1PctFpr": 0.0,
        "ece": ece_after,
        "eceEqualMass": ece_equal_mass(p_test, y_test),
        "brier": float(brier_score_loss(y_test, p_test)),
        "logLoss": float(np.mean(np.logaddexp(0, -(2 * y_test - 1) * (a * margin_test + b)))),
        "holdoutRows": int(test_rows.sum()),
        "holdoutFraudRate": float(y_test.mean()),
        "meanScore": float(p_test.mean()),
    }
    review = threshold_at_fpr(p_test, y_test, 0.01)
    decline = threshold_at_fpr(p_test, y_test, 0.001)
    metrics["recallAt1PctFpr"] = review["recall"]
    score_histogram = histogram(p_test)

    # ----------------------------------------------------------------- convert and check
    log("converting to ONNX")
    ensemble = onnx_trees.extract(model)
    check_rows = np.flatnonzero(test_rows)[: min(20_000, int(test_rows.sum()))]
    check = onnx_trees.check_against(ensemble, X[check_rows], model.decision_function(X[check_rows]))
    log(f"converter check on {check['rows']:,} holdout rows: same leaves with float32 thresholds, "
        f"max margin difference {check['maxMarginDiff']:.3g}")
    if check["maxMarginDiff"] > 1e-9:
        raise SystemExit("converted trees do not reproduce decision_function")
    description = (
        f"Gradient-boosted trees ({model.n_iter_} trees, HistGradientBoostingClassifier) scoring the probability "
        f"that a card authorization is fraud (a chargeback or confirmed_fraud label follows). "
        f"Calibration: {method}. Trained on {int(fit_rows.sum()):,} authorizations, evaluated on "
        f"{metrics['holdoutRows']:,} later ones."
    )
    onnx_model = onnx_trees.build_model(
        ensemble, a, b, graph_name=args.model_name.replace("-", "_"), doc_string=description,
        metadata={"name": args.model_name, "version": args.model_version,
                  "featureSpecVersion": spec["specVersion"], "calibration": method},
        precision=args.tree_precision,
    )

    # ----------------------------------------------------------------- replay cases
    picks = choose_replay(p_test, y_test, [review["score"], decline["score"]], args.replay_cases, args.seed)
    replay = replay_cases(work, order, test_rows, picks, X, y, p_test)
    comparison = None
    if args.baseline:
        comparison = baseline(raw_columns(work, order, ts), y, fit_rows | cal_rows, test_rows, args.seed,
                              metrics["rocAuc"])

    train_rows = fit_rows | cal_rows
    if "fitEnd" in split:
        fit_days = (split["first"], split["fitEnd"])
        cal_days = (split["fitEnd"], split["trainEnd"])
        train_days = (split["first"], split["trainEnd"])
        test_days = (split["trainEnd"], split["end"])
        split_description = (
            f"by UTC calendar day of ts: the first {split['trainDays']} of {split['days']} days train "
            f"(the last {split['calibrationDays']} of them are the calibration slice, not seen by the "
            f"trees), the remaining {split['days'] - split['trainDays']} days are the holdout; "
            f"periods are [start, end)")
        periods = {
            "trainPeriod": period(*train_days, ts[train_rows]),
            "fitPeriod": period(*fit_days, ts[fit_rows]),
            "calibrationPeriod": period(*cal_days, ts[cal_rows]),
            "testPeriod": period(*test_days, ts[test_rows]),
        }
    else:
        split_description = split["description"]
        next_start = {name: int(ts[rows].min()) for name, rows in (("cal", cal_rows), ("test", test_rows))}
        periods = {
            "trainPeriod": row_period(ts, train_rows, next_start["test"]),
            "fitPeriod": row_period(ts, fit_rows, next_start["cal"]),
            "calibrationPeriod": row_period(ts, cal_rows, next_start["test"]),
            "testPeriod": row_period(ts, test_rows, None),
        }
    card = {
        "schemaVersion": 1,
        "name": args.model_name,
        "version": args.model_version,
        "created": created_timestamp(args.created),
        "description": description,
        "framework": framework(args.tree_precision),
        "training": {
            "seed": args.seed,
            "data": {
                **dataset,
                "rows": int(len(y)),
                "positives": int(y.sum()),
                "split": split_description,
                **periods,
                "trainRows": int(train_rows.sum()),
                "trainPositives": int(y[train_rows].sum()),
                "fitRows": int(fit_rows.sum()),
                "fitPositives": int(y[fit_rows].sum()),
                "calibrationRows": int(cal_rows.sum()),
                "calibrationPositives": int(y_cal.sum()),
                "testRows": int(test_rows.sum()),
                "testPositives": int(y_test.sum()),
                "missingValues": n_nan,
            },
            "hyperparameters": {**hyperparameters, "trees": int(model.n_iter_), "leaves": int(n_leaves)},
            "fitSeconds": round(fit_seconds, 1),
            "durationSeconds": round(time.monotonic() - STARTED, 1),
        },
        "featureSpecVersion": spec["specVersion"],
        "features": spec["features"],
        "input": {"name": "features", "dtype": "float32", "shape": [None, len(feature_names)]},
        "output": {
            "name": "score",
            "dtype": "float32",
            "shape": [None, 1],
            "description": "calibrated probability that the authorization is fraud, in [0, 1]",
        },
        "calibration": calibration_block(a, b, method, ece_before, ece_after, args.ece_goal, reason),
        "thresholds": {"review": review, "decline": decline},
        "metrics": metrics,
        "scoreHistogram": score_histogram,
        "replay": replay_summary(replay),
    }
    if comparison is not None:
        card["training"]["baseline"] = comparison
    write_model(out, onnx_model, replay, card)
    if args.dump_holdout:
        dump_holdout(args.dump_holdout, X[test_rows], p_test, y_test)

    size_kb = (out / "model.onnx").stat().st_size / 1024
    summary(args.model_name, args.model_version, model.n_iter_, size_kb, metrics, ece_before, ece_after, method,
            review, decline, len(replay), card["replay"]["positives"], comparison)


if __name__ == "__main__":
    main(sys.argv[1:])
