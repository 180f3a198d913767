"""The training report: the baseline comparison and the closing summary on stderr."""

from __future__ import annotations

import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, roc_auc_score

from train_common import STARTED, log
from train_data import RAW_COLUMNS


def baseline(X_raw: np.ndarray, y: np.ndarray, train_rows: np.ndarray, test_rows: np.ndarray, seed: int,
             model_roc_auc: float) -> dict:
    """A plain ``HistGradientBoostingClassifier`` (library defaults, same seed) on the
    request's raw columns, fitted on the same training rows (fit + calibration) and scored
    on the same holdout: what the stack's history features must beat."""
    log(f"baseline: HistGradientBoostingClassifier() on raw columns {RAW_COLUMNS}")
    started = time.monotonic()
    model = HistGradientBoostingClassifier(random_state=seed)
    model.fit(X_raw[train_rows], y[train_rows])
    p = model.predict_proba(X_raw[test_rows])[:, 1]
    auc = float(roc_auc_score(y[test_rows], p))
    return {
        "estimator": "sklearn.ensemble.HistGradientBoostingClassifier() (defaults, random_state=seed)",
        "columns": RAW_COLUMNS,
        "trainedOn": "trainPeriod (fit + calibration rows)",
        "rocAuc": auc,
        "prAuc": float(average_precision_score(y[test_rows], p)),
        "modelRocAuc": model_roc_auc,
        "modelBeatsBaseline": model_roc_auc >= auc,
        "fitSeconds": round(time.monotonic() - started, 1),
    }


def summary(model_name: str, model_version: str, trees: int, size_kb: float, metrics: dict, ece_before: float,
            ece_after: float, method: str, review: dict, decline: dict, replay_cases: int, replay_positives: int,
            comparison: dict | None) -> None:
    lines = [
        f"done in {time.monotonic() - STARTED:.1f} s: {model_name}@{model_version}, "
        f"{trees} trees, model.onnx {size_kb:.0f} KiB",
        f"  holdout {metrics['holdoutRows']:,} rows, fraud rate {metrics['holdoutFraudRate']:.4%}",
        f"  ROC-AUC {metrics['rocAuc']:.4f}  PR-AUC {metrics['prAuc']:.4f}  recall@1%FPR {metrics['recallAt1PctFpr']:.4f}"
        f"  Brier {metrics['brier']:.5f}",
        f"  ECE {ece_before:.5f} -> {ece_after:.5f} (calibration {method})",
        f"  review  >= {review['score']:.6f}: FPR {review['fpr']:.4%}, recall {review['recall']:.4f}",
        f"  decline >= {decline['score']:.6f}: FPR {decline['fpr']:.4%}, recall {decline['recall']:.4f}",
        f"  replay {replay_cases} cases ({replay_positives} fraud)",
    ]
    if comparison is not None:
        verdict = "model >= baseline" if comparison["modelBeatsBaseline"] else "MODEL BELOW BASELINE"
        lines.append(f"  baseline (plain HGB on raw columns, same split): ROC-AUC {comparison['rocAuc']:.4f} "
                     f"PR-AUC {comparison['prAuc']:.4f} vs model ROC-AUC {metrics['rocAuc']:.4f}: {verdict}")
    log("\n".join(lines))
