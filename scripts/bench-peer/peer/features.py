"""Python port of `featureVector` in functions/shared/domain/features.ts (feature spec
fs-2026-11-23.1): the 21 model inputs from a card item, a merchant item and the request.

Written the way a Python team would port it, line by line; `npm run bench:peer` checks it
against the TypeScript original on real requests before it measures anything.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal

FEATURE_SPEC_VERSION = "fs-2026-11-23.1"

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

M5 = (5 * MINUTE, 12)
H1 = (HOUR, 24)
D1 = (DAY, 7)
MERCHANT_D1 = (DAY, 30)

CHANNELS = ["card_present", "ecommerce", "moto", "contactless"]
HIGH_RISK_MCC = {"4829", "6051", "6211", "7995", "5967", "5816", "5732", "7801", "7802"}
MEDIUM_RISK_MCC = {"5942", "5999", "4511", "4722", "5045", "5094", "5944", "7011", "5311"}

# Defaults of the card features (in order) and of the merchant features, from the spec.
CARD_DEFAULTS = [0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, 0, -1]
MERCHANT_DEFAULTS = [0, -1]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def epoch_ms(iso: str) -> int:
    """Milliseconds since the epoch of an ISO-8601 time with offset or Z."""
    parsed = datetime.fromisoformat(iso.replace("Z", "+00:00").replace("z", "+00:00"))
    return (parsed - EPOCH) // timedelta(milliseconds=1)


def plain(value):
    """boto3 hands numbers back as Decimal; the TypeScript side sees IEEE doubles."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _num(value, fallback):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else fallback


def _arr(value):
    return value if isinstance(value, list) else []


# The compact list text of functions/shared/domain/compact-lists.ts: base-36 numbers, strings as
# <length>:<chars>, fields separated by ",", entries by ";". Malformed text reads as empty.
class _Malformed(Exception):
    pass


def _int36(text: str) -> int:
    digits = text[1:] if text.startswith("-") else text
    if not 1 <= len(digits) <= 11 or not all(c in "0123456789abcdefghijklmnopqrstuvwxyz" for c in digits):
        raise _Malformed(text)
    value = int(digits, 36)
    if value > 2**53 - 1:
        raise _Malformed(text)
    return -value if text.startswith("-") else value


def _ints(text: str) -> list:
    return [] if text == "" else [_int36(part) for part in text.split(",")]


def _entries(text: str, strings: bool) -> list:
    """Entries of fields; with `strings`, each entry starts with a length-prefixed string."""
    entries, at = [], 0
    while at < len(text):
        fields = []
        if strings:
            colon = text.index(":", at)
            length = _int36(text[at:colon])
            fields.append(text[colon + 1 : colon + 1 + length])
            at = colon + 1 + length
            if length < 0 or at > len(text) or text[at : at + 1] != ",":
                raise _Malformed(text)
            at += 1
        end = text.find(";", at)
        end = len(text) if end < 0 else end
        fields.extend(_int36(part) for part in text[at:end].split(","))
        entries.append(fields)
        at = end + 1
        if end + 1 == len(text):
            raise _Malformed(text)
    return entries


def _decode(value, decode, fallback):
    if not isinstance(value, str):
        return value if isinstance(value, list) else fallback
    try:
        return decode(value)
    except (_Malformed, ValueError):
        return fallback


def _buckets(width, fields):
    def decode(text):
        buckets, previous = [], 0
        for i, entry in enumerate(_entries(text, False)):
            if len(entry) != fields:
                raise _Malformed(text)
            units = entry[0] if i == 0 else previous + entry[0]
            previous = units
            buckets.append([units * width, *entry[1:]])
        return buckets

    return decode


def _times(text):
    values = _ints(text)
    for i in range(1, len(values)):
        values[i] += values[i - 1]
    return values


def _uses(text):
    uses, previous = [], 0
    for i, entry in enumerate(_entries(text, True)):
        if len(entry) not in (2, 3):
            raise _Malformed(text)
        last = entry[1] if i == 0 else previous + entry[1]
        previous = last
        uses.append([entry[0], last] if len(entry) == 2 else [entry[0], last, last - entry[2]])
    return uses


def card_from_item(item: dict) -> dict:
    total = _decode(item.get("total"), _ints, [])
    hours = _decode(item.get("hours"), _ints, [])
    return {
        "firstSeen": _num(item.get("firstSeen"), math.inf),
        "lastSeen": _num(item.get("lastSeen"), -math.inf),
        "total": total if len(total) == 2 else [0, 0],
        # Recency lists hold [value, lastUseMs]; items written before that hold bare values.
        "countries": [[e, 0] if isinstance(e, str) else e for e in _decode(item.get("countries"), _uses, [])],
        "devices": [[e, 0] if isinstance(e, str) else e for e in _decode(item.get("devices"), _uses, [])],
        "merchants": _decode(item.get("merchants"), _uses, []),
        "hours": hours if len(hours) == 24 else [0] * 24,
        "recent": _decode(item.get("recent"), _times, []),
        "m5": _decode(item.get("m5"), _buckets(M5[0], 3), []),
        "h1": _decode(item.get("h1"), _buckets(H1[0], 3), []),
        "d1": _decode(item.get("d1"), _buckets(D1[0], 3), []),
    }


def merchant_from_item(item: dict) -> dict:
    return {
        "firstSeen": _num(item.get("firstSeen"), math.inf),
        "lastSeen": _num(item.get("lastSeen"), -math.inf),
        "h1": _decode(item.get("h1"), _buckets(H1[0], 3), []),
        "d1": _decode(item.get("d1"), _buckets(MERCHANT_D1[0], 4), []),
    }


def mcc_risk_tier(mcc: str) -> int:
    if mcc in HIGH_RISK_MCC:
        return 2
    if mcc in MEDIUM_RISK_MCC:
        return 1
    return 0


def window_sum(buckets, window, now):
    width, keep = window
    newest = (now // width) * width
    oldest = newest - (keep - 1) * width
    count = amount = extra = 0
    for b in buckets:
        if b[0] < oldest or b[0] > newest:
            continue
        count += b[1]
        amount += b[2]
        extra += b[3] if len(b) > 3 else 0
    return count, amount, extra


# LIMITS.recentTimes of functions/shared/domain/features-state.ts
RECENT_TIMES = 4


def card_features(card, request, now, hour):
    if card is None or card["total"][0] == 0:
        return list(CARD_DEFAULTS)
    m5_count, m5_amount, _ = window_sum(card["m5"], M5, now)
    h1_count, h1_amount, _ = window_sum(card["h1"], H1, now)
    d1_count, d1_amount, _ = window_sum(card["d1"], D1, now)

    def use_at_or_before(use):
        # [merchantId, lastMs, previousMs?]: a future-dated last use falls back to the one before.
        if use[1] <= now:
            return use[1]
        return use[2] if len(use) > 2 and use[2] <= now else None

    def distinct_since(since):
        times = (use_at_or_before(use) for use in card["merchants"])
        return sum(1 for t in times if t is not None and t > since)

    previous = None
    for t in reversed(card["recent"]):
        if t <= now:
            previous = t
            break
    if previous is None and len(card["recent"]) < RECENT_TIMES and card["lastSeen"] <= now:
        previous = card["lastSeen"]

    hours = card["hours"]
    total = sum(hours)
    near = sum(hours[(hour + d + 24) % 24] for d in (-1, 0, 1))
    mean = card["total"][1] / card["total"][0]
    device = request.get("deviceId")
    return [
        m5_count,
        m5_amount,
        h1_count,
        h1_amount,
        d1_count,
        d1_amount,
        distinct_since(now - HOUR),
        distinct_since(now - DAY),
        -1 if previous is None else (now - previous) / 1000,
        request["amount"] / mean if mean > 0 else -1,
        0 if any(c == request["country"] for c, _ in card["countries"]) else 1,
        -1 if device is None else (0 if any(d == device for d, _ in card["devices"]) else 1),
        max(0, (now - card["firstSeen"]) / DAY),
        near / total if total > 0 else -1,
    ]


def merchant_features(merchant, now):
    if merchant is None or len(merchant["d1"]) == 0:
        return list(MERCHANT_DEFAULTS)
    h1_count, _, _ = window_sum(merchant["h1"], H1, now)
    d30_count, _, d30_fraud = window_sum(merchant["d1"], MERCHANT_D1, now)
    return [h1_count, d30_fraud / d30_count if d30_count > 0 else -1]


def feature_vector(card, merchant, request, now):
    """The 21 model inputs, in spec order; `now` is the request's timestamp in epoch ms."""
    hour = (now // HOUR) % 24
    channel = CHANNELS.index(request["channel"]) if request["channel"] in CHANNELS else 0
    return [
        math.log1p(request["amount"]),
        hour,
        channel,
        mcc_risk_tier(request["mcc"]),
        1 if request.get("deviceId") else 0,
        *card_features(card, request, now, hour),
        *merchant_features(merchant, now),
    ]
