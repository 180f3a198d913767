"""Constants and helpers shared by the training modules (train.py and train_*.py)."""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timezone

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
