"""The peer: the scoring service a Python team would write from the same design in an
afternoon. Flask + boto3 + scikit-learn, run under gunicorn with 2 sync workers:

    DYNAMODB_ENDPOINT=http://127.0.0.1:8000 FEATURE_TABLE=features MODEL_PATH=model.pkl \\
    MODEL_CARD=models/fraud-gbdt/1.0.0/model.json \\
        gunicorn --workers 2 --bind 127.0.0.1:8080 --chdir scripts/bench-peer/peer app:app

Per request: one BatchGetItem (card + merchant item), the same 21 features as the project
(features.py), one HistGradientBoostingClassifier row, the model card's thresholds.
What it does not do, compared with functions/score: no reason codes (the project scores up to
21 perturbed rows per request for them), no idempotency (no answer stored or read back), no PAN
check and no strict schema (only the fields it reads are checked), no policy rules, no
feature-freshness check, no metrics, logs or Server-Timing.
"""

from __future__ import annotations

import json
import os
import pickle

import boto3
import numpy as np
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from flask import Flask, jsonify, request

from features import card_from_item, epoch_ms, feature_vector, merchant_from_item, plain

TABLE = os.environ["FEATURE_TABLE"]
with open(os.environ["MODEL_PATH"], "rb") as f:
    MODEL = pickle.load(f)
with open(os.environ["MODEL_CARD"], encoding="utf-8") as f:
    CARD = json.load(f)
REVIEW = CARD["thresholds"]["review"]["score"]
DECLINE = CARD["thresholds"]["decline"]["score"]
MODEL_INFO = {"name": "peer-sklearn-hgb", "version": CARD["version"]}

# One client per worker process, created at import (gunicorn imports the app in each worker).
dynamodb = boto3.client(
    "dynamodb",
    endpoint_url=os.environ["DYNAMODB_ENDPOINT"],
    region_name="us-east-1",
    aws_access_key_id="local",
    aws_secret_access_key="local",
    config=Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1}),
)
deserializer = TypeDeserializer()

REQUIRED = {"transactionId": str, "cardId": str, "merchantId": str, "mcc": str, "amount": int,
            "country": str, "channel": str, "timestamp": str}

app = Flask(__name__)


def read_items(card_id: str, merchant_id: str):
    keys = [{"pk": {"S": f"card#{card_id}"}}, {"pk": {"S": f"merchant#{merchant_id}"}}]
    result = dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": keys}})
    items = {}
    for raw in result["Responses"].get(TABLE, []):
        item = plain({k: deserializer.deserialize(v) for k, v in raw.items()})
        items[item["pk"]] = item
    card = items.get(f"card#{card_id}")
    merchant = items.get(f"merchant#{merchant_id}")
    return (card_from_item(card) if card else None, merchant_from_item(merchant) if merchant else None)


def features_for(body: dict):
    """The vector and whether the feature read failed (then the spec's defaults are used)."""
    try:
        card, merchant = read_items(body["cardId"], body["merchantId"])
        degraded = []
    except Exception:  # noqa: BLE001 - any store failure scores with defaults, like the project
        card, merchant, degraded = None, None, ["features_unavailable"]
    return feature_vector(card, merchant, body, epoch_ms(body["timestamp"])), degraded


def parse():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None, (jsonify(error={"code": "INVALID_JSON", "message": "body is not a JSON object"}), 400)
    for field, kind in REQUIRED.items():
        if not isinstance(body.get(field), kind):
            return None, (jsonify(error={"code": "INVALID_FIELD", "message": f"{field} is missing or invalid",
                                         "field": field}), 400)
    try:
        epoch_ms(body["timestamp"])
    except ValueError:
        return None, (jsonify(error={"code": "INVALID_FIELD", "message": "bad timestamp", "field": "timestamp"}), 400)
    return body, None


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.post("/v1/score")
def score():
    body, error = parse()
    if error:
        return error
    vector, degraded = features_for(body)
    probability = float(MODEL.predict_proba(np.asarray([vector], dtype=np.float32))[0, 1])
    decision = "decline" if probability >= DECLINE else "review" if probability >= REVIEW else "approve"
    return jsonify(transactionId=body["transactionId"], score=round(probability, 6), decision=decision,
                   reasons=[], model=MODEL_INFO, degraded=degraded)


@app.post("/v1/features")
def features():
    """Bench-only: the vector /v1/score would use, so the bench can check the port."""
    body, error = parse()
    if error:
        return error
    vector, degraded = features_for(body)
    return jsonify(features=vector, degraded=degraded)
