#!/usr/bin/env bash
# Simulate -> export sequences -> train the GRU -> ONNX -> parity: `npm run train:neural`.
#
#   npm run train:neural                              # CARDS=20000 DAYS=28 SEED=42 VERSION=1.0.0
#   npm run train:neural -- --version 1.1.0 --epochs 8
#   npm run train:neural -- --reuse-data              # keep models/training/.work/neural
#
# The same simulator stream (cards, days, seed) and the same time split as `npm run train`
# (fraud-gbdt); the tree model's served scores for the stacked combination come from
# TREE_MODEL (default models/fraud-gbdt/1.0.0). Flags: --cards, --days, --seed, --version,
# --reuse-data; every other flag goes to train_neural.py (e.g. --epochs, --hidden,
# --max-queue-delay-us). WORK and MODELS_DIR move the intermediate files and the output.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PY=/usr/bin/python3
WORK=${WORK:-models/training/.work}
MODELS_DIR=${MODELS_DIR:-models}
TREE_MODEL=${TREE_MODEL:-models/fraud-gbdt/1.0.0}
MODEL_NAME=fraud-seq
CARDS=${CARDS:-20000}
DAYS=${DAYS:-28}
SEED=${SEED:-42}
VERSION=${VERSION:-1.0.0}
REUSE=0
TRAIN_EXTRA=()

while (($#)); do
  case "$1" in
    --cards | --days | --seed | --version)
      if (($# < 2)); then
        echo "train-neural.sh: $1 needs a value" >&2
        exit 2
      fi
      case "$1" in
        --cards) CARDS=$2 ;;
        --days) DAYS=$2 ;;
        --seed) SEED=$2 ;;
        --version) VERSION=$2 ;;
      esac
      shift 2
      ;;
    --reuse-data)
      REUSE=1
      shift
      ;;
    *)
      TRAIN_EXTRA+=("$1")
      shift
      ;;
  esac
done

OUT=$MODELS_DIR/$MODEL_NAME/$VERSION
STARTED=$SECONDS
step() { echo "==> [$1/5] $2 ($((SECONDS - STARTED)) s)" >&2; }

step 1 "checking the Python toolchain ($PY with torch, onnx, scikit-learn)"
if ! "$PY" -c 'import torch, onnx, sklearn' 2>/dev/null; then
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update
  "${SUDO[@]}" apt-get install -y python3-torch python3-onnx python3-sklearn
fi

mkdir -p "$WORK/neural"
SIM_ARGS=(--cards "$CARDS" --days "$DAYS" --seed "$SEED" --out "$WORK/events.jsonl")
if ((REUSE)) && [[ -s $WORK/neural/sequences.f32 ]]; then
  step 2 "simulating: skipped (--reuse-data)"
  step 3 "exporting sequences: skipped (--reuse-data)"
else
  step 2 "simulating $CARDS cards over $DAYS days (seed $SEED) -> $WORK/events.jsonl"
  npx tsx models/training/simulate-cli.ts "${SIM_ARGS[@]}"
  step 3 "exporting sequences and tree scores ($TREE_MODEL) -> $WORK/neural"
  npx tsx models/training/export-sequences.ts --events "$WORK/events.jsonl" --out-dir "$WORK/neural" \
    --tree-model "$TREE_MODEL" --generator "npm run data:simulate -- ${SIM_ARGS[*]}"
fi

step 4 "training $MODEL_NAME@$VERSION -> $OUT"
"$PY" models/training/train_neural.py --work "$WORK/neural" --out "$OUT" \
  --model-name "$MODEL_NAME" --model-version "$VERSION" --seed "$SEED" "${TRAIN_EXTRA[@]}"

step 5 "verifying ONNX parity (onnxruntime-node vs torch) on the replay set"
npx tsx models/training/verify-neural-parity.ts "$OUT"
echo "==> done: $OUT in $((SECONDS - STARTED)) s" >&2
