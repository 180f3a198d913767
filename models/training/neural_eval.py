"""How the sequence model is judged and combined with the tree model (train_neural.py): the
logistic stacker and the holdout metrics, overall and per fraud pattern. The card's score
histogram is fraud-gbdt's (`train_card.histogram`). Pure numpy / scikit-learn; nothing here
trains or exports.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from train_calibration import ece_equal_mass, ece_equal_width, sigmoid, threshold_at_fpr

PATTERNS = ["card_testing", "account_takeover", "bust_out"]


def logit(p: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    p = np.clip(p, eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


def fit_stacker(features: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Logistic regression by Newton's method: weights for [1, features...]."""
    X = np.hstack([np.ones((len(y), 1)), features])
    w = np.zeros(X.shape[1])
    for _ in range(50):
        p = sigmoid(X @ w)
        grad = X.T @ (p - y) + l2 * np.r_[0, w[1:]]
        hess = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.diag(np.r_[0, np.ones(len(w) - 1)]) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w


def metrics_of(p: np.ndarray, y: np.ndarray) -> dict:
    review, decline = threshold_at_fpr(p, y, 0.01), threshold_at_fpr(p, y, 0.001)
    return {
        "rocAuc": float(roc_auc_score(y, p)),
        "prAuc": float(average_precision_score(y, p)),
        "recallAt1PctFpr": review["recall"],
        "recallAt01PctFpr": decline["recall"],
        "ece": ece_equal_width(p, y),
        "eceEqualMass": ece_equal_mass(p, y),
        "brier": float(brier_score_loss(y, p)),
        "thresholds": {"review": review, "decline": decline},
    }


def per_pattern(p: np.ndarray, y: np.ndarray, pattern: np.ndarray, thresholds: dict) -> dict:
    """Each pattern's frauds against all legitimate rows; recall at the overall thresholds."""
    out = {}
    for name in PATTERNS:
        rows = (pattern == name) | (y == 0)
        positives = (pattern == name) & (y == 1)
        if positives.sum() == 0:
            continue
        yp, pp = y[rows], p[rows]
        out[name] = {
            "positives": int(positives.sum()),
            "prAuc": float(average_precision_score(yp, pp)),
            "recallAt1PctFpr": float((p[positives] >= thresholds["review"]["score"]).mean()),
            "recallAt01PctFpr": float((p[positives] >= thresholds["decline"]["score"]).mean()),
            "ece": ece_equal_width(pp, yp),
            "meanScore": float(p[positives].mean()),
        }
    return out
