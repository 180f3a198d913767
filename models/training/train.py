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
2. Split by UTC calendar day of ``ts``: the earliest ~75 % of the days are the training
   period, the rest the holdout. The last ~15 % of the training days (at least one) are a
   calibration slice that the trees never see; the trees are fitted on the days before it.
3. Fit HistGradientBoostingClassifier (fixed random_state, no early stopping).
4. Expected calibration error (ECE) on the holdout, 15 equal-width bins over [0, 1]:
   ECE = sum_b (n_b / n) * |mean score_b - fraud rate_b|. If it is above the goal (0.02),
   fit Platt scaling sigmoid(a * margin + b) on the calibration slice and keep it if it
   lowers the holdout ECE. An equal-mass variant (15 bins of equal row count) is reported
   alongside, because with ~1 % fraud almost every score falls in the first equal-width bin.
5. Metrics, thresholds (review at 1 % FPR, decline at 0.1 % FPR) and a score histogram,
   all from the final calibrated holdout scores.
6. Convert to ONNX (onnx_trees.py), check the converted trees against scikit-learn, write
   model.onnx, model.json and replay.jsonl.

All scores here are float64 computed by scikit-learn/numpy from the float32-cast inputs;
the ONNX model reproduces them within ~1e-6 (float32 arithmetic in onnxruntime).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import onnx
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import onnx_trees  # noqa: E402

DAY_MS = 86_400_000
ECE_BINS = 15
HISTOGRAM_EDGES = [
    0.0, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03,
    0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0,
]
REPLAY_TOLERANCE = 1e-5
STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[train {time.monotonic() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def iso_ms(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def iso_day(day: int) -> str:
    return datetime.fromtimestamp(day * 86_400, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def created_timestamp(arg: str | None) -> str:
    """--created, else SOURCE_DATE_EPOCH, else now; always UTC, second precision, 'Z'."""
    if arg:
        parsed = datetime.fromisoformat(arg.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
    elif os.environ.get("SOURCE_DATE_EPOCH"):
        parsed = datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), tz=timezone.utc)
    else:
        parsed = datetime.now(timezone.utc)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- loading


def load_table(work: Path, feature_names: list[str]):
    path = work / "features.csv"
    with path.open() as f:
        header = f.readline().rstrip("\r\n").split(",")
        expected = ["transactionId", "ts", "label", *feature_names]
        if header != expected:
            raise SystemExit(
                f"{path}: header does not match feature-spec.json\n  got      {header}\n  expected {expected}"
            )
        table = np.loadtxt(f, delimiter=",", usecols=range(1, len(header)), dtype=np.float64, ndmin=2)
    ts = table[:, 0].astype(np.int64)
    label = table[:, 1].astype(np.int8)
    if not np.isin(label, (0, 1)).all():
        raise SystemExit(f"{path}: label must be 0 or 1")
    X = table[:, 2:].astype(np.float32)  # what the model sees: the double rounded to float32
    return ts, label, X


def transaction_ids(work: Path, rows: set[int]) -> dict[int, str]:
    """transactionId of the given data rows (0-based, file order), read by streaming the CSV."""
    found = {}
    with (work / "features.csv").open() as f:
        f.readline()
        for i, line in enumerate(f):
            if i in rows:
                found[i] = line.split(",", 1)[0]
                if len(found) == len(rows):
                    break
    return found


ID_PREFIX = re.compile(r'^\{\s*"transactionId"\s*:\s*"((?:[^"\\]|\\.)*)"')


def original_requests(work: Path, ids: set[str]) -> dict[str, dict]:
    """Streams requests.jsonl and keeps the requests of the given transactions."""
    found = {}
    with (work / "requests.jsonl").open() as f:
        for line in f:
            match = ID_PREFIX.match(line)
            if match and "\\" not in match.group(1) and match.group(1) not in ids:
                continue
            if not line.strip():
                continue
            entry = json.loads(line)
            if entry["transactionId"] in ids:
                found[entry["transactionId"]] = entry["request"]
                if len(found) == len(ids):
                    break
    return found


# --------------------------------------------------------------------------- metrics


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def ece_equal_width(p: np.ndarray, y: np.ndarray, bins: int = ECE_BINS) -> float:
    idx = np.minimum((p * bins).astype(np.int64), bins - 1)
    n = np.bincount(idx, minlength=bins)
    sum_p = np.bincount(idx, weights=p, minlength=bins)
    sum_y = np.bincount(idx, weights=y.astype(np.float64), minlength=bins)
    return float(np.sum(np.abs(sum_p - sum_y)) / len(p))


def ece_equal_mass(p: np.ndarray, y: np.ndarray, bins: int = ECE_BINS) -> float:
    order = np.argsort(p, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, bins):
        total += abs(p[chunk].sum() - y[chunk].sum())
    return float(total / len(p))


def threshold_at_fpr(p: np.ndarray, y: np.ndarray, target: float) -> dict:
    """Lowest threshold t with FPR(score >= t) <= target, as serving decides (score >= t).

    At most k = floor(target * negatives) negatives may be flagged; v is the (k+1)-th highest
    negative score, so t must be above v. Every row tied with v stays below t, whatever the
    ties. t is the midpoint between v and the next higher score in the holdout, which keeps
    the decisions stable under the ~1e-7 difference between float32 ONNX scores and these.
    """
    neg = np.sort(p[y == 0])[::-1]
    k = int(np.floor(target * len(neg) + 1e-9))
    if k >= len(neg):
        t = float(neg[-1])
    else:
        v = float(neg[k])
        above = p[p > v]
        t = (v + float(above.min())) / 2 if above.size else float(np.nextafter(v, np.inf))
    flagged = p >= t
    return {
        "score": t,
        "fpr": float(np.sum(flagged & (y == 0)) / max(1, np.sum(y == 0))),
        "recall": float(np.sum(flagged & (y == 1)) / max(1, np.sum(y == 1))),
        "targetFpr": target,
    }


def fit_platt(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood a, b of P(fraud) = sigmoid(a * margin + b): Newton with step halving."""
    m = margin.astype(np.float64)
    t = y.astype(np.float64)

    def nll(a: float, b: float) -> float:
        z = a * m + b
        return float(np.sum(np.logaddexp(0.0, z) - t * z))

    a, b = 1.0, 0.0
    current = nll(a, b)
    for _ in range(100):
        p = sigmoid(a * m + b)
        w = p * (1 - p)
        grad = np.array([np.sum((p - t) * m), np.sum(p - t)])
        hess = np.array([[np.sum(w * m * m), np.sum(w * m)], [np.sum(w * m), np.sum(w)]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-6:
            na, nb = a - scale * step[0], b - scale * step[1]
            candidate = nll(na, nb)
            if candidate <= current:
                break
            scale /= 2
        else:
            break
        converged = abs(current - candidate) < 1e-10 * max(1.0, abs(current))
        a, b, current = na, nb, candidate
        if converged:
            break
    return a, b


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


def split_days(ts: np.ndarray, train_fraction: float, calibration_fraction: float):
    day = ts // DAY_MS
    first, last = int(day.min()), int(day.max())
    n_days = last - first + 1
    if n_days < 3:
        raise SystemExit(f"need at least 3 calendar days of data for a time split, got {n_days}")
    train_days = min(n_days - 1, max(2, int(round(train_fraction * n_days))))
    calibration_days = min(train_days - 1, max(1, int(round(calibration_fraction * train_days))))
    fit_end = first + train_days - calibration_days  # exclusive day numbers
    train_end = first + train_days
    return day, {
        "first": first, "fitEnd": fit_end, "trainEnd": train_end, "end": last + 1,
        "days": n_days, "trainDays": train_days, "calibrationDays": calibration_days,
    }


def period(first_day: int, end_day: int, ts: np.ndarray) -> dict:
    return {
        "start": iso_day(first_day),
        "end": iso_day(end_day),
        "days": end_day - first_day,
        "firstTransaction": iso_ms(int(ts.min())) if ts.size else None,
        "lastTransaction": iso_ms(int(ts.max())) if ts.size else None,
    }


def choose_replay(p: np.ndarray, y: np.ndarray, thresholds: list[float], n_cases: int, seed: int) -> np.ndarray:
    """Indices (into the holdout) of the replay cases: all positives up to half the cases
    (a seeded sample if there are more), the negatives closest to each threshold on either
    side, and seeded negatives spread round-robin over the score-histogram bins so every
    score range is covered, not only the low scores that dominate traffic."""
    rng = np.random.default_rng(seed)
    pos = np.flatnonzero(y == 1)
    neg = np.flatnonzero(y == 0)
    n_pos = min(len(pos), n_cases // 2)
    chosen = list(rng.choice(pos, n_pos, replace=False)) if n_pos < len(pos) else list(pos)
    taken = set(int(i) for i in chosen)
    for t in thresholds:
        below = neg[p[neg] < t]
        at_or_above = neg[p[neg] >= t]
        for group, pick in ((below, np.argmax), (at_or_above, np.argmin)):
            if group.size and len(taken) < n_cases:
                i = int(group[pick(p[group])])
                if i not in taken:
                    taken.add(i)
                    chosen.append(i)
    bins = np.clip(np.searchsorted(HISTOGRAM_EDGES, p[neg], side="right") - 1, 0, len(HISTOGRAM_EDGES) - 2)
    pools = []
    for b in range(len(HISTOGRAM_EDGES) - 1):
        members = [int(i) for i in neg[bins == b] if int(i) not in taken]
        if members:
            pools.append(list(rng.permutation(members)))
    while len(chosen) < min(n_cases, len(p)) and any(pools):
        for pool in pools:
            if pool and len(chosen) < n_cases:
                i = int(pool.pop())
                taken.add(i)
                chosen.append(i)
    return np.array(sorted(chosen), dtype=np.int64)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, type=Path, help="exporter output directory")
    ap.add_argument("--out", required=True, type=Path, help="model directory to write")
    ap.add_argument("--model-name", default="fraud-gbdt")
    ap.add_argument("--model-version", default="1.0.0")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--created", help="ISO-8601 creation time for the card (default SOURCE_DATE_EPOCH, else now)")
    ap.add_argument("--train-fraction", type=float, default=0.75, help="share of calendar days used for training")
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

    day, split = split_days(ts, args.train_fraction, args.calibration_fraction)
    fit_rows = day < split["fitEnd"]
    cal_rows = (day >= split["fitEnd"]) & (day < split["trainEnd"])
    test_rows = day >= split["trainEnd"]
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
    raw_test = sigmoid(margin_test)
    ece_before = ece_equal_width(raw_test, y_test)
    log(f"raw holdout ECE {ece_before:.5f} (equal-mass {ece_equal_mass(raw_test, y_test):.5f}), goal {args.ece_goal}")

    a, b, method = 1.0, 0.0, "none"
    reason = f"raw holdout ECE {ece_before:.5f} meets the goal {args.ece_goal}"
    if args.calibration == "platt" or (args.calibration == "auto" and ece_before > args.ece_goal):
        pa, pb = fit_platt(margin_cal, y_cal)
        pa, pb = float(np.float32(pa)), float(np.float32(pb))  # exactly what the graph stores
        ece_platt = ece_equal_width(onnx_trees.reference_scores(margin_test, pa, pb), y_test)
        log(f"Platt scaling on the calibration slice: a={pa:.6f} b={pb:.6f}, holdout ECE {ece_platt:.5f}")
        if args.calibration == "platt" or ece_platt < ece_before:
            a, b, method = pa, pb, "platt"
            reason = (f"raw holdout ECE {ece_before:.5f} misses the goal {args.ece_goal}; Platt scaling fitted "
                      f"on the calibration slice brings it to {ece_platt:.5f}") if args.calibration == "auto" \
                else "Platt scaling requested (--calibration platt)"
        else:
            reason = (f"raw holdout ECE {ece_before:.5f} misses the goal {args.ece_goal}, but Platt scaling "
                      f"fitted on the calibration slice does not improve it ({ece_platt:.5f}); kept raw")
    elif args.calibration == "none":
        reason = "calibration disabled (--calibration none)"
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
    counts, _ = np.histogram(p_test, bins=HISTOGRAM_EDGES)
    histogram = {
        "edges": HISTOGRAM_EDGES,
        "counts": [int(c) for c in counts],
        "fractions": [float(c) / len(p_test) for c in counts],
        "bins": "[edge_i, edge_i+1), the last bin closed at 1; holdout scores",
    }

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
    test_index = np.flatnonzero(test_rows)
    picks = choose_replay(p_test, y_test, [review["score"], decline["score"]], args.replay_cases, args.seed)
    file_rows = {int(order[test_index[i]]): int(i) for i in picks}
    ids = transaction_ids(work, set(file_rows))
    requests = original_requests(work, set(ids.values()))
    missing = [tid for tid in ids.values() if tid not in requests]
    if missing:
        raise SystemExit(f"requests.jsonl has no request for {len(missing)} replay cases, e.g. {missing[0]}")
    replay = []
    for file_row, i in sorted(file_rows.items(), key=lambda kv: kv[1]):
        row = test_index[i]
        tid = ids[file_row]
        replay.append({
            "transactionId": tid,
            "request": requests[tid],
            "features": [float(v) for v in X[row]],
            "score": float(p_test[i]),
            "label": int(y[row]),
        })

    # ----------------------------------------------------------------- write
    out.mkdir(parents=True, exist_ok=True)
    log(f"writing {out}/model.onnx, model.json, replay.jsonl")
    onnx.save(onnx_model, str(out / "model.onnx"))
    with (out / "replay.jsonl").open("w") as f:
        for case in replay:
            f.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")

    fit_days = (split["first"], split["fitEnd"])
    cal_days = (split["fitEnd"], split["trainEnd"])
    train_days = (split["first"], split["trainEnd"])
    test_days = (split["trainEnd"], split["end"])
    train_rows = fit_rows | cal_rows
    card = {
        "schemaVersion": 1,
        "name": args.model_name,
        "version": args.model_version,
        "created": created_timestamp(args.created),
        "description": description,
        "framework": {
            "trainer": "models/training/train.py",
            "estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "converter": f"{onnx_trees.CONVERTER} v{onnx_trees.CONVERTER_VERSION}",
            "onnx": onnx.__version__,
            "onnxIrVersion": onnx_trees.IR_VERSION,
            "onnxOpsets": {"ai.onnx": onnx_trees.OPSET_AI_ONNX, "ai.onnx.ml": onnx_trees.OPSET_AI_ONNX_ML},
            "graph": ("Cast(double) -> " if args.tree_precision == "float64" else "")
            + "TreeEnsembleClassifier(post_transform=NONE) -> Slice[:,1] (margin) -> Mul(a) -> Add(b) -> Sigmoid",
            "treePrecision": args.tree_precision,
        },
        "training": {
            "seed": args.seed,
            "data": {
                **dataset,
                "rows": int(len(y)),
                "positives": int(y.sum()),
                "split": (f"by UTC calendar day of ts: the first {split['trainDays']} of {split['days']} days train "
                          f"(the last {split['calibrationDays']} of them are the calibration slice, not seen by the "
                          f"trees), the remaining {split['days'] - split['trainDays']} days are the holdout; "
                          f"periods are [start, end)"),
                "trainPeriod": period(*train_days, ts[train_rows]),
                "fitPeriod": period(*fit_days, ts[fit_rows]),
                "calibrationPeriod": period(*cal_days, ts[cal_rows]),
                "testPeriod": period(*test_days, ts[test_rows]),
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
        "calibration": {
            "method": method,
            "a": a,
            "b": b,
            "formula": "score = sigmoid(a * margin + b), margin = raw tree ensemble output (log-odds)",
            "eceBefore": ece_before,
            "eceAfter": ece_after,
            "ece": f"{ECE_BINS} equal-width bins over [0, 1] on the holdout",
            "goal": args.ece_goal,
            "decision": reason,
            "fittedOn": "calibrationPeriod" if method == "platt" else None,
        },
        "thresholds": {"review": review, "decline": decline},
        "metrics": metrics,
        "scoreHistogram": histogram,
        "replay": {
            "file": "replay.jsonl",
            "cases": len(replay),
            "tolerance": REPLAY_TOLERANCE,
            "positives": int(sum(c["label"] for c in replay)),
        },
    }
    (out / "model.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    if args.dump_holdout:
        dump = args.dump_holdout
        dump.mkdir(parents=True, exist_ok=True)
        X[test_rows].astype("<f4").tofile(dump / "holdout-features.f32")
        p_test.astype("<f8").tofile(dump / "holdout-scores.f64")
        y_test.astype(np.uint8).tofile(dump / "holdout-labels.u8")
        (dump / "holdout.json").write_text(json.dumps({"rows": int(test_rows.sum()), "features": X.shape[1]}) + "\n")
        log(f"wrote the holdout ({int(test_rows.sum()):,} rows) to {dump}")

    size_kb = (out / "model.onnx").stat().st_size / 1024
    log(
        f"done in {time.monotonic() - STARTED:.1f} s: {args.model_name}@{args.model_version}, "
        f"{model.n_iter_} trees, model.onnx {size_kb:.0f} KiB\n"
        f"  holdout {metrics['holdoutRows']:,} rows, fraud rate {metrics['holdoutFraudRate']:.4%}\n"
        f"  ROC-AUC {metrics['rocAuc']:.4f}  PR-AUC {metrics['prAuc']:.4f}  recall@1%FPR {metrics['recallAt1PctFpr']:.4f}"
        f"  Brier {metrics['brier']:.5f}\n"
        f"  ECE {ece_before:.5f} -> {ece_after:.5f} (calibration {method})\n"
        f"  review  >= {review['score']:.6f}: FPR {review['fpr']:.4%}, recall {review['recall']:.4f}\n"
        f"  decline >= {decline['score']:.6f}: FPR {decline['fpr']:.4%}, recall {decline['recall']:.4f}\n"
        f"  replay {len(replay)} cases ({card['replay']['positives']} fraud)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
