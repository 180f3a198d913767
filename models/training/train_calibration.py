"""Calibration and the figures computed from scores: ECE, Platt scaling, thresholds at a
target false-positive rate. See models/training/README.md ("Calibration", "Metrics")."""

from __future__ import annotations

import numpy as np

import onnx_trees
from train_common import ECE_BINS, log

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


def calibrate(mode: str, ece_goal: float, margin_test: np.ndarray, y_test: np.ndarray,
              margin_cal: np.ndarray, y_cal: np.ndarray) -> tuple[float, float, str, str, float]:
    """Chooses the calibration (``mode`` auto|none|platt): returns a, b, method, the reason
    recorded in the card, and the raw holdout ECE."""
    raw_test = sigmoid(margin_test)
    ece_before = ece_equal_width(raw_test, y_test)
    log(f"raw holdout ECE {ece_before:.5f} (equal-mass {ece_equal_mass(raw_test, y_test):.5f}), goal {ece_goal}")

    a, b, method = 1.0, 0.0, "none"
    reason = f"raw holdout ECE {ece_before:.5f} meets the goal {ece_goal}"
    if mode == "platt" or (mode == "auto" and ece_before > ece_goal):
        pa, pb = fit_platt(margin_cal, y_cal)
        pa, pb = float(np.float32(pa)), float(np.float32(pb))  # exactly what the graph stores
        ece_platt = ece_equal_width(onnx_trees.reference_scores(margin_test, pa, pb), y_test)
        log(f"Platt scaling on the calibration slice: a={pa:.6f} b={pb:.6f}, holdout ECE {ece_platt:.5f}")
        if mode == "platt" or ece_platt < ece_before:
            a, b, method = pa, pb, "platt"
            reason = (f"raw holdout ECE {ece_before:.5f} misses the goal {ece_goal}; Platt scaling fitted "
                      f"on the calibration slice brings it to {ece_platt:.5f}") if mode == "auto" \
                else "Platt scaling requested (--calibration platt)"
        else:
            reason = (f"raw holdout ECE {ece_before:.5f} misses the goal {ece_goal}, but Platt scaling "
                      f"fitted on the calibration slice does not improve it ({ece_platt:.5f}); kept raw")
    elif mode == "none":
        reason = "calibration disabled (--calibration none)"
    return a, b, method, reason, ece_before
