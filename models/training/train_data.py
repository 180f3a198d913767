"""Training data: the exported table (features.csv, requests.jsonl) and the time split.

Three ways to split, all in time order (rows sorted by ``ts``), each leaving the newest
rows as the holdout and the last ``calibration_fraction`` of the training part as the
calibration slice the trees never see:

- by UTC calendar day (the default, as the committed simulator model was trained): the
  earliest ``train_fraction`` of the days train;
- by rows (``--train-fraction`` given): the earliest ``train_fraction`` of the rows train;
- from a time (``--holdout-from ISO``): rows at or after it are the holdout.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from train_common import DAY_MS, iso_day, iso_ms

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


def split_rows(ts: np.ndarray, train_fraction: float, calibration_fraction: float) -> dict:
    """Masks for a split by rows in time order (``ts`` sorted): the first ``train_fraction``
    of the rows train, the last ``calibration_fraction`` of those calibrate."""
    n = len(ts)
    if not 0 < train_fraction < 1:
        raise SystemExit(f"--train-fraction must be in (0, 1), got {train_fraction}")
    train_end = int(round(train_fraction * n))
    return _row_masks(ts, train_end, calibration_fraction,
                      f"by rows in time order: the first {train_fraction:.0%} of the rows ({train_end:,} of {n:,})")


def split_from(ts: np.ndarray, holdout_from: str, calibration_fraction: float) -> dict:
    """Masks for a split at a time: rows with ``ts`` at or after ``holdout_from`` (ISO) are the holdout."""
    parsed = datetime.fromisoformat(holdout_from.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    cut = int(parsed.timestamp() * 1000)
    train_end = int(np.searchsorted(ts, cut, side="left"))
    return _row_masks(ts, train_end, calibration_fraction,
                      f"at {iso_ms(cut)}: the {train_end:,} rows before it")


def _row_masks(ts: np.ndarray, train_end: int, calibration_fraction: float, how: str) -> dict:
    n = len(ts)
    if train_end < 2 or train_end >= n:
        raise SystemExit(f"the split leaves {train_end:,} training rows and {n - train_end:,} holdout rows; "
                         "both must be non-empty")
    calibration_rows = min(train_end - 1, max(1, int(round(calibration_fraction * train_end))))
    fit_end = train_end - calibration_rows
    index = np.arange(n)
    return {
        "fit": index < fit_end,
        "calibration": (index >= fit_end) & (index < train_end),
        "holdout": index >= train_end,
        "description": (f"{how} train (the last {calibration_rows:,} of them, {calibration_fraction:.0%}, are the "
                        f"calibration slice, not seen by the trees), the remaining {n - train_end:,} rows are the "
                        "holdout; periods run from the first row's time to the next period's first row (exclusive)"),
    }


def row_period(ts: np.ndarray, rows: np.ndarray, end_ms: int | None) -> dict:
    """A period of a row split, shaped like :func:`period`: [first row, ``end_ms``) or to the last row."""
    selected = ts[rows]
    start = int(selected.min())
    end = end_ms if end_ms is not None else int(selected.max())
    return {
        "start": iso_ms(start),
        "end": iso_ms(end),
        "days": round((end - start) / DAY_MS, 3),
        "firstTransaction": iso_ms(start),
        "lastTransaction": iso_ms(int(selected.max())),
    }


RAW_COLUMNS = ["amount", "hourOfDay", "dayOfWeek", "channel", "mcc", "country", "currency", "hasDevice"]


def raw_columns(work: Path, order: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """The request's own fields as plain columns (no history), rows in the time order of
    ``order`` (file row of each sorted row): the input of the baseline model. Strings are
    coded by first appearance; mcc is its number."""
    codes: dict[str, dict[str, int]] = {"channel": {}, "country": {}, "currency": {}}
    rows = []
    with (work / "requests.jsonl").open() as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)["request"]
            coded = [float(codes[k].setdefault(r[k], len(codes[k]))) for k in ("channel", "country", "currency")]
            rows.append([float(r["amount"]), 0.0, 0.0, coded[0], float(r["mcc"]), coded[1], coded[2],
                         1.0 if "deviceId" in r else 0.0])
    X = np.asarray(rows, dtype=np.float64)[order]
    X[:, 1] = (ts // 3_600_000) % 24
    X[:, 2] = ((ts // DAY_MS) + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    return X
