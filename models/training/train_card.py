"""What training writes: the replay cases, the model card (model.json), model.onnx,
replay.jsonl and, on request, the whole holdout for parity checks."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import onnx
import sklearn

import onnx_trees
from train_common import ECE_BINS, HISTOGRAM_EDGES, REPLAY_TOLERANCE, log
from train_data import original_requests, transaction_ids

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


def replay_cases(work: Path, order: np.ndarray, test_rows: np.ndarray, picks: np.ndarray,
                 X: np.ndarray, y: np.ndarray, p_test: np.ndarray) -> list[dict]:
    """The chosen holdout rows as replay cases, each with its original request."""
    test_index = np.flatnonzero(test_rows)
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
    return replay


def framework(tree_precision: str) -> dict:
    """The card's ``framework`` block: trainer, library versions and the graph's shape."""
    return {
        "trainer": "models/training/train.py",
        "estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "converter": f"{onnx_trees.CONVERTER} v{onnx_trees.CONVERTER_VERSION}",
        "onnx": onnx.__version__,
        "onnxIrVersion": onnx_trees.IR_VERSION,
        "onnxOpsets": {"ai.onnx": onnx_trees.OPSET_AI_ONNX, "ai.onnx.ml": onnx_trees.OPSET_AI_ONNX_ML},
        "graph": ("Cast(double) -> " if tree_precision == "float64" else "")
        + "TreeEnsembleClassifier(post_transform=NONE) -> Slice[:,1] (margin) -> Mul(a) -> Add(b) -> Sigmoid",
        "treePrecision": tree_precision,
    }


def calibration_block(a: float, b: float, method: str, ece_before: float, ece_after: float,
                      goal: float, reason: str) -> dict:
    return {
        "method": method,
        "a": a,
        "b": b,
        "formula": "score = sigmoid(a * margin + b), margin = raw tree ensemble output (log-odds)",
        "eceBefore": ece_before,
        "eceAfter": ece_after,
        "ece": f"{ECE_BINS} equal-width bins over [0, 1] on the holdout",
        "goal": goal,
        "decision": reason,
        "fittedOn": "calibrationPeriod" if method == "platt" else None,
    }


def histogram(p_test: np.ndarray) -> dict:
    counts, _ = np.histogram(p_test, bins=HISTOGRAM_EDGES)
    return {
        "edges": HISTOGRAM_EDGES,
        "counts": [int(c) for c in counts],
        "fractions": [float(c) / len(p_test) for c in counts],
        "bins": "[edge_i, edge_i+1), the last bin closed at 1; holdout scores",
    }


def write_model(out: Path, onnx_model, replay: list[dict], card: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    log(f"writing {out}/model.onnx, model.json, replay.jsonl")
    onnx.save(onnx_model, str(out / "model.onnx"))
    with (out / "replay.jsonl").open("w") as f:
        for case in replay:
            f.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")
    (out / "model.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")


def dump_holdout(dump: Path, X_test: np.ndarray, p_test: np.ndarray, y_test: np.ndarray) -> None:
    dump.mkdir(parents=True, exist_ok=True)
    X_test.astype("<f4").tofile(dump / "holdout-features.f32")
    p_test.astype("<f8").tofile(dump / "holdout-scores.f64")
    y_test.astype(np.uint8).tofile(dump / "holdout-labels.u8")
    (dump / "holdout.json").write_text(json.dumps({"rows": int(len(y_test)), "features": X_test.shape[1]}) + "\n")
    log(f"wrote the holdout ({int(len(y_test)):,} rows) to {dump}")


def replay_summary(replay: list[dict]) -> dict:
    return {
        "file": "replay.jsonl",
        "cases": len(replay),
        "tolerance": REPLAY_TOLERANCE,
        "positives": int(sum(c["label"] for c in replay)),
    }
