#!/usr/bin/python3
"""Trains the sequence model `fraud-seq`: the card's last 32 authorizations plus the current
one -> a small GRU -> a calibrated fraud probability, exported to ONNX with a dynamic batch
axis; then a logistic stacker combining it with the tree model (`fraud-gbdt`).

    /usr/bin/python3 models/training/train_neural.py --work models/training/.work/neural \\
        --out models/fraud-seq/1.0.0 --model-version 1.0.0 --seed 42

Needs Debian's python3-torch, python3-onnx, python3-sklearn, python3-numpy (/usr/bin/python3).

Input (written by export-sequences.ts into --work): sequences.f32, rows.csv,
replay-candidates.jsonl, sequence-spec.json, dataset.json.

Steps:
1. Load rows and tensors; split by UTC calendar day with train.py's own split_days (fit /
   calibration / holdout), and check it against the exporter's split.
2. Fit the GRU on the fit period (legitimate rows sampled by the exporter, weighted back).
3. Platt scaling of the GRU's logit on the calibration slice, baked into the graph.
4. Logistic stacker on the calibration slice: combined = sigmoid(c0 + c1 logit(tree) +
   c2 logit(neural)); its thresholds, like the tree's, at 1 % and 0.1 % FPR on the holdout.
5. Holdout metrics for tree alone, neural alone, combined, overall and per fraud pattern.
6. Export ONNX (opset 17), check onnx.checker, write model.onnx, the Triton repository,
   model.json and replay.jsonl (torch float32 scores; serving must match within 1e-4).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import torch
from sklearn.metrics import average_precision_score
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from neural_eval import fit_stacker, logit, metrics_of, per_pattern  # noqa: E402
from train_calibration import fit_platt, sigmoid  # noqa: E402
from train_card import choose_replay, histogram  # noqa: E402
from train_common import created_timestamp, iso_ms  # noqa: E402
from train_data import period, split_days  # noqa: E402
from triton_config import TRITON_CONFIG  # noqa: E402

OPSET = 17
REPLAY_TOLERANCE = 1e-4
STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[train-neural {time.monotonic() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


class FraudSeq(nn.Module):
    """Per-step projection -> one GRU layer -> head over [last hidden state, current step].

    The current step goes to the head directly as well: the GRU carries the history, the
    head compares the request with it. Platt scaling (a, b) is part of the graph, so the
    ONNX output is the calibrated probability.
    """

    def __init__(self, width: int, hidden: int, head: int):
        super().__init__()
        self.project = nn.Linear(width, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden + width, head), nn.ReLU(), nn.Linear(head, 1))
        self.register_buffer("platt", torch.tensor([1.0, 0.0]))

    def logit(self, sequence: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(torch.relu(self.project(sequence)))
        return self.head(torch.cat([out[:, -1, :], sequence[:, -1, :]], dim=1))

    def forward(self, sequence: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.platt[0] * self.logit(sequence) + self.platt[1])


def load(work: Path):
    spec = json.loads((work / "sequence-spec.json").read_text())
    dataset = json.loads((work / "dataset.json").read_text())
    ids, ts, label, pattern, weight, length, tree = [], [], [], [], [], [], []
    with (work / "rows.csv").open() as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != ["transactionId", "ts", "label", "pattern", "weight", "length", "treeScore"]:
            raise SystemExit(f"rows.csv: unexpected header {header}")
        for row in reader:
            ids.append(row[0])
            ts.append(int(row[1]))
            label.append(int(row[2]))
            pattern.append(row[3])
            weight.append(float(row[4]))
            length.append(int(row[5]))
            tree.append(float(row[6]))
    n = len(ids)
    seq = np.memmap(work / "sequences.f32", dtype="<f4", mode="r", shape=(n, spec["steps"], spec["width"]))
    return spec, dataset, {
        "ids": ids, "ts": np.array(ts, dtype=np.int64), "y": np.array(label, dtype=np.int8),
        "pattern": np.array(pattern), "weight": np.array(weight, dtype=np.float32),
        "length": np.array(length, dtype=np.int16), "tree": np.array(tree, dtype=np.float64), "seq": seq,
    }


def predict_logit(model: FraudSeq, seq: np.ndarray, rows: np.ndarray, batch: int = 4096) -> np.ndarray:
    model.eval()
    out = np.empty(len(rows), dtype=np.float64)
    with torch.no_grad():
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            x = torch.from_numpy(np.ascontiguousarray(seq[chunk]))
            out[start:start + len(chunk)] = model.logit(x)[:, 0].double().numpy()
    return out


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--model-name", default="fraud-seq")
    ap.add_argument("--model-version", default="1.0.0")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--created")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--head", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--fit-legit-keep", type=float, default=0.5,
                    help="share of the exporter's (already sampled) legitimate fit rows to train on, weighted back; "
                         "the GRU is slow on Debian's reference-BLAS torch with 2 shared cores")
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--learning-rate", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-batch-size", type=int, default=64)
    ap.add_argument("--preferred-batch-sizes", default="",
                    help="comma-separated; empty (Triton's advice for most models) lets the max batch size be the only one")
    ap.add_argument("--max-queue-delay-us", type=int, default=0)
    ap.add_argument("--replay-cases", type=int, default=256)
    args = ap.parse_args(argv)
    preferred_sizes = [int(s) for s in args.preferred_batch_sizes.split(",") if s.strip()]
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)

    spec, dataset, d = load(args.work)
    n, steps, width = d["seq"].shape
    y, ts = d["y"], d["ts"]
    log(f"loaded {n:,} rows x {steps} steps x {width} values, {int(y.sum()):,} fraud; spec {spec['specVersion']}")
    day, split = split_days(ts, 0.75, 0.15)
    expected = dataset["split"]
    if iso_ms(split["fitEnd"] * 86_400_000)[:10] != expected["fitEnd"][:10] or \
            iso_ms(split["trainEnd"] * 86_400_000)[:10] != expected["trainEnd"][:10]:
        raise SystemExit(f"split differs from the exporter's: {split} vs {expected}")
    fit_rows = np.flatnonzero(day < split["fitEnd"])
    weight = d["weight"].copy()
    if args.fit_legit_keep < 1:
        legit = fit_rows[y[fit_rows] == 0]
        dropped = legit[rng.random(len(legit)) >= args.fit_legit_keep]
        fit_rows = np.setdiff1d(fit_rows, dropped)
        weight[legit] /= args.fit_legit_keep
    cal_rows = np.flatnonzero((day >= split["fitEnd"]) & (day < split["trainEnd"]))
    test_rows = np.flatnonzero(day >= split["trainEnd"])
    for name, rows in (("fit", fit_rows), ("calibration", cal_rows), ("holdout", test_rows)):
        log(f"{name:<11} {len(rows):>9,} rows, {int(y[rows].sum()):>6,} fraud "
            f"({iso_ms(int(ts[rows].min()))[:10]} .. {iso_ms(int(ts[rows].max()))[:10]})")

    # ------------------------------------------------------------------ fit
    model = FraudSeq(width, args.hidden, args.head)
    params = sum(p.numel() for p in model.parameters())
    log(f"FraudSeq: Linear({width}->{args.hidden}) -> GRU({args.hidden}) -> "
        f"MLP({args.hidden + width}->{args.head}->1), {params:,} parameters")
    opt = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    X_fit = torch.from_numpy(np.ascontiguousarray(d["seq"][fit_rows]))
    y_fit = torch.from_numpy(y[fit_rows].astype(np.float32))
    w_fit = torch.from_numpy(weight[fit_rows])
    # Per-epoch progress on the calibration slice's fraud and a tenth of its legitimate rows (cheap).
    cal_probe = cal_rows[(y[cal_rows] == 1) | (rng.random(len(cal_rows)) < 0.1)]
    fit_started = time.monotonic()
    history = []
    for epoch in range(args.epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(fit_rows)))
        total, seen = 0.0, 0.0
        for start in range(0, len(order), args.batch_size):
            idx = order[start:start + args.batch_size]
            opt.zero_grad()
            loss = (loss_fn(model.logit(X_fit[idx])[:, 0], y_fit[idx]) * w_fit[idx]).sum() / w_fit[idx].sum()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += float(loss) * float(w_fit[idx].sum())
            seen += float(w_fit[idx].sum())
        sched.step()
        probe_logit = predict_logit(model, d["seq"], cal_probe)
        ap_cal = float(average_precision_score(y[cal_probe], probe_logit))
        history.append({"epoch": epoch + 1, "fitLoss": total / seen, "calibrationProbePrAuc": ap_cal})
        log(f"epoch {epoch + 1}/{args.epochs}: weighted fit loss {total / seen:.5f}, calibration-probe PR-AUC {ap_cal:.4f}")
    fit_seconds = time.monotonic() - fit_started
    del X_fit

    # ------------------------------------------------------------------ calibrate and stack
    cal_logit = predict_logit(model, d["seq"], cal_rows)
    a, b = fit_platt(cal_logit, y[cal_rows].astype(np.float64))
    a, b = float(np.float32(a)), float(np.float32(b))
    model.platt.copy_(torch.tensor([a, b]))
    log(f"Platt scaling on the calibration slice: a={a:.5f} b={b:.5f}")
    neural_cal = sigmoid(a * cal_logit + b)
    test_logit = predict_logit(model, d["seq"], test_rows)
    neural_test = sigmoid(a * test_logit + b)
    tree_cal, tree_test = d["tree"][cal_rows], d["tree"][test_rows]
    stack = fit_stacker(np.c_[logit(tree_cal), logit(neural_cal)], y[cal_rows].astype(np.float64))
    log(f"stacker on the calibration slice: combined = sigmoid({stack[0]:.4f} + {stack[1]:.4f} logit(tree) "
        f"+ {stack[2]:.4f} logit(neural))")
    combined_test = sigmoid(stack[0] + stack[1] * logit(tree_test) + stack[2] * logit(neural_test))

    y_test, pattern_test = y[test_rows].astype(np.int64), d["pattern"][test_rows]
    results = {}
    for name, p in (("tree", tree_test), ("neural", neural_test), ("combined", combined_test)):
        m = metrics_of(p, y_test)
        m["perPattern"] = per_pattern(p, y_test, pattern_test, m["thresholds"])
        results[name] = m
        log(f"{name:<8} PR-AUC {m['prAuc']:.4f}  ROC-AUC {m['rocAuc']:.4f}  recall@1% {m['recallAt1PctFpr']:.4f}  "
            f"recall@0.1% {m['recallAt01PctFpr']:.4f}  ECE {m['ece']:.5f}")
        for pat, pm in m["perPattern"].items():
            log(f"    {pat:<17} n={pm['positives']:>5}  PR-AUC {pm['prAuc']:.4f}  recall@1% {pm['recallAt1PctFpr']:.4f}  "
                f"recall@0.1% {pm['recallAt01PctFpr']:.4f}")

    # ------------------------------------------------------------------ export
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    example = torch.from_numpy(np.ascontiguousarray(d["seq"][test_rows[:4]]))
    onnx_path = out / "model.onnx"
    torch.onnx.export(
        model, example, str(onnx_path), opset_version=OPSET, input_names=["sequence"], output_names=["score"],
        dynamic_axes={"sequence": {0: "batch"}, "score": {0: "batch"}}, do_constant_folding=True,
    )
    proto = onnx.load(str(onnx_path))
    onnx.checker.check_model(proto, full_check=True)
    proto.doc_string = f"{args.model_name} {args.model_version}: GRU over the card's last {spec['ringSize']} authorizations"
    for key, value in {"name": args.model_name, "version": args.model_version,
                       "sequenceSpecVersion": spec["specVersion"]}.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(onnx_path))
    triton = out / "triton" / args.model_name
    (triton / "1").mkdir(parents=True, exist_ok=True)
    (triton / "1" / "model.onnx").write_bytes(onnx_path.read_bytes())
    (triton / "config.pbtxt").write_text(TRITON_CONFIG.format(
        name=args.model_name, version=args.model_version, max_batch=args.max_batch_size, steps=steps, width=width,
        preferred=f"\n  preferred_batch_size: [ {', '.join(str(s) for s in preferred_sizes)} ]" if preferred_sizes else "",
        delay_us=args.max_queue_delay_us))

    # ------------------------------------------------------------------ replay
    candidates = {}
    with (args.work / "replay-candidates.jsonl").open() as f:
        for line in f:
            if line.strip():
                c = json.loads(line)
                candidates[c["transactionId"]] = c
    test_index = {d["ids"][r]: i for i, r in enumerate(test_rows)}
    cand_ids = [t for t in candidates if t in test_index]
    cand_pos = np.array([test_index[t] for t in cand_ids])
    picks = choose_replay(neural_test[cand_pos], y_test[cand_pos],
                          [results["neural"]["thresholds"]["review"]["score"]], args.replay_cases, args.seed)
    replay_rows = test_rows[cand_pos[picks]]
    with torch.no_grad():
        torch_scores = model(torch.from_numpy(np.ascontiguousarray(d["seq"][replay_rows])))[:, 0].numpy()
    replay = []
    for k, i in enumerate(picks):
        pos = cand_pos[i]
        c = candidates[cand_ids[i]]
        replay.append({
            "transactionId": c["transactionId"],
            "request": c["request"],
            "ring": c["ring"],
            "score": float(torch_scores[k]),
            "treeScore": float(tree_test[pos]),
            "combinedScore": float(combined_test[pos]),
            "label": int(y_test[pos]),
            "pattern": str(pattern_test[pos]),
        })
    with (out / "replay.jsonl").open("w") as f:
        for case in replay:
            f.write(json.dumps(case, separators=(",", ":")) + "\n")

    # ------------------------------------------------------------------ card
    def band(m: dict) -> dict:
        return {"review": m["thresholds"]["review"], "decline": m["thresholds"]["decline"]}

    def public(m: dict) -> dict:
        return {k: v for k, v in m.items() if k != "thresholds"}

    train_rows = np.r_[fit_rows, cal_rows]
    card = {
        "schemaVersion": 1,
        "name": args.model_name,
        "version": args.model_version,
        "created": created_timestamp(args.created),
        "description": (f"GRU over a card's last {spec['ringSize']} authorizations plus the current one, scoring the "
                        f"probability that the authorization is fraud. Platt-calibrated on the calibration slice. "
                        f"Combined with {dataset['treeModel']['name']} {dataset['treeModel']['version']} by a logistic "
                        f"stacker with its own thresholds."),
        "framework": {
            "trainer": "models/training/train_neural.py",
            "torch": torch.__version__, "onnx": onnx.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "onnxOpset": OPSET, "onnxIrVersion": proto.ir_version,
            "architecture": {
                "layers": [f"Linear({width}->{args.hidden}) + ReLU per step", f"GRU(hidden={args.hidden}, 1 layer)",
                           f"concat(last hidden, current step) -> Linear({args.hidden + width}->{args.head}) + ReLU "
                           f"-> Linear({args.head}->1)", "sigmoid(a * logit + b) (Platt)"],
                "parameters": int(params),
                "onnxBytes": onnx_path.stat().st_size,
            },
        },
        "training": {
            "seed": args.seed,
            "data": {
                **{k: dataset[k] for k in ("generator", "authorizations", "labelledFraud", "legitSample", "cards")},
                "rows": int(n),
                "sampling": (f"legitimate rows of the fit period sampled at {dataset['legitSample']} by a hash of the "
                             f"transaction id, then {args.fit_legit_keep:g} of those (seeded), weighted back "
                             f"(weight {1 / dataset['legitSample'] / args.fit_legit_keep:g}); every fraud row and "
                             f"every calibration and holdout row kept"),
                "fitRowsTrainedOn": int(len(fit_rows)),
                "split": "train.py split_days: the same UTC-day time split as fraud-gbdt (fit / calibration / holdout)",
                "fitPeriod": period(split["first"], split["fitEnd"], ts[fit_rows]),
                "calibrationPeriod": period(split["fitEnd"], split["trainEnd"], ts[cal_rows]),
                "testPeriod": period(split["trainEnd"], split["end"], ts[test_rows]),
                "trainPeriod": period(split["first"], split["trainEnd"], ts[train_rows]),
                "fitRows": int(len(fit_rows)), "fitPositives": int(y[fit_rows].sum()),
                "calibrationRows": int(len(cal_rows)), "calibrationPositives": int(y[cal_rows].sum()),
                "testRows": int(len(test_rows)), "testPositives": int(y_test.sum()),
            },
            "hyperparameters": {
                "hidden": args.hidden, "head": args.head, "epochs": args.epochs, "batchSize": args.batch_size,
                "optimizer": "Adam", "learningRate": args.learning_rate, "schedule": "cosine",
                "loss": "weighted binary cross-entropy", "gradientClip": 1.0, "threads": args.threads,
            },
            "history": history,
            "fitSeconds": round(fit_seconds, 1),
            "durationSeconds": round(time.monotonic() - STARTED, 1),
        },
        "sequenceSpecVersion": spec["specVersion"],
        "sequence": {k: spec[k] for k in ("ringSize", "steps", "width", "features")},
        "inputs": [{
            "name": "sequence", "dtype": "float32", "shape": [None, steps, width],
            "default": ("no default vector: an unknown card (or an unreadable ring) sends the request alone, "
                        "sequenceTensor(undefined, request, now): one real step, the rest zero padding"),
        }],
        "output": {"name": "score", "dtype": "float32", "shape": [None, 1],
                   "description": "calibrated probability that the authorization is fraud, in [0, 1]"},
        "calibration": {"method": "platt", "a": a, "b": b, "fittedOn": "calibrationPeriod",
                        "formula": "score = sigmoid(a * logit + b), in the graph"},
        "thresholds": band(results["neural"]),
        "metrics": {**public(results["neural"]), "holdoutRows": int(len(test_rows)),
                    "holdoutFraudRate": float(y_test.mean())},
        "scoreHistogram": histogram(neural_test),
        "combination": {
            "method": "logistic-stacker",
            "treeModel": {"name": dataset["treeModel"]["name"], "version": dataset["treeModel"]["version"]},
            "formula": "combined = sigmoid(intercept + tree * logit(treeScore) + neural * logit(neuralScore)), "
                       "logit(p) = ln(p / (1 - p)) with p clipped to [clip, 1 - clip]",
            "intercept": float(stack[0]), "tree": float(stack[1]), "neural": float(stack[2]), "clip": 1e-6,
            "fittedOn": "calibrationPeriod",
            "thresholds": band(results["combined"]),
            "metrics": public(results["combined"]),
            "scoreHistogram": histogram(combined_test),
            "whenNeuralMissing": "use the tree model's score and the tree model card's thresholds",
        },
        "comparison": {
            "tree": public(results["tree"]),
            "treeThresholds": band(results["tree"]),
            "note": "tree = fraud-gbdt's served score (onnxruntime-node) on the same holdout rows",
        },
        "serving": {
            "triton": f"triton/{args.model_name}",
            "maxBatchSize": args.max_batch_size,
            "preferredBatchSizes": preferred_sizes,
            "maxQueueDelayMicroseconds": args.max_queue_delay_us,
        },
        "replay": {"file": "replay.jsonl", "cases": len(replay), "tolerance": REPLAY_TOLERANCE,
                   "positives": int(sum(c["label"] for c in replay))},
    }
    (out / "model.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    log(f"done: {out} (model.onnx {onnx_path.stat().st_size / 1024:.0f} KiB, {len(replay)} replay cases)")


if __name__ == "__main__":
    main(sys.argv[1:])
