#!/usr/bin/env bash
# Simulate -> export features -> train -> verify parity: `npm run train`.
#
#   npm run train                                  # CARDS=20000 DAYS=28 SEED=42 VERSION=1.0.0
#   npm run train -- --cards 5000 --days 14        # flags override the environment
#   CARDS=5000 VERSION=1.1.0 npm run train
#   npm run train -- --reuse-data --calibration platt
#   npm run train -- --events history.jsonl.gz --train-fraction 0.7   # your own labelled history
#
# Flags: --cards N, --days N, --seed N, --start ISO, --merchants N, --fraud-rate R go to the
# simulator (--seed also to the exporter and the trainer); --version V names the output
# models/fraud-gbdt/V; --reuse-data skips steps 2-3 when models/training/.work/features.csv
# exists; every other flag is passed to train.py (e.g. --created, --calibration,
# --tree-precision, --max-iter, --train-fraction F, --holdout-from ISO).
# --events PATH trains on a labelled history in the /v1/events format instead of the
# simulator (a JSONL file, .gz, or a directory of them; see event-source.ts): it is sorted if
# needed, bad lines are reported and skipped up to --max-bad-fraction (default 0.01), and
# train.py also fits the raw-column baseline (--baseline) for the report. SOURCE_DATE_EPOCH, if set, fixes the card's `created`.
# WORK (default models/training/.work) and MODELS_DIR (default models) move the
# intermediate files and the output, e.g. for a smoke run outside the repository.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PY=/usr/bin/python3
WORK=${WORK:-models/training/.work}
MODELS_DIR=${MODELS_DIR:-models}
MODEL_NAME=fraud-gbdt
CARDS=${CARDS:-20000}
DAYS=${DAYS:-28}
SEED=${SEED:-42}
VERSION=${VERSION:-1.0.0}
REUSE=0
EVENTS=
MAX_BAD_FRACTION=0.01
SIM_EXTRA=()
TRAIN_EXTRA=()

while (($#)); do
  case "$1" in
    --cards | --days | --seed | --version | --start | --merchants | --fraud-rate)
      if (($# < 2)); then
        echo "train.sh: $1 needs a value" >&2
        exit 2
      fi
      case "$1" in
        --cards) CARDS=$2 ;;
        --days) DAYS=$2 ;;
        --seed) SEED=$2 ;;
        --version) VERSION=$2 ;;
        *) SIM_EXTRA+=("$1" "$2") ;;
      esac
      shift 2
      ;;
    --cards=* | --days=* | --seed=* | --version=* | --start=* | --merchants=* | --fraud-rate=*)
      set -- "${1%%=*}" "${1#*=}" "${@:2}"
      ;;
    --reuse-data)
      REUSE=1
      shift
      ;;
    --events | --max-bad-fraction)
      if (($# < 2)); then
        echo "train.sh: $1 needs a value" >&2
        exit 2
      fi
      case "$1" in
        --events) EVENTS=$2 ;;
        *) MAX_BAD_FRACTION=$2 ;;
      esac
      shift 2
      ;;
    --events=* | --max-bad-fraction=*)
      set -- "${1%%=*}" "${1#*=}" "${@:2}"
      ;;
    *)
      TRAIN_EXTRA+=("$1")
      shift
      ;;
  esac
done

OUT=$MODELS_DIR/$MODEL_NAME/$VERSION
STARTED=$SECONDS
STEP_STARTED=$SECONDS
step() {
  if (($1 > 1)); then echo "    (step $(($1 - 1)) took $((SECONDS - STEP_STARTED)) s)" >&2; fi
  STEP_STARTED=$SECONDS
  echo "==> [$1/5] $2" >&2
}

step 1 "checking the Python toolchain ($PY with scikit-learn, onnx, numpy)"
if ! "$PY" -c 'import sklearn, onnx, numpy' 2>/dev/null; then
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
  echo "    installing python3-sklearn python3-onnx from Debian" >&2
  "${SUDO[@]}" apt-get update
  "${SUDO[@]}" apt-get install -y python3-sklearn python3-onnx
fi
"$PY" -c 'import sklearn, onnx, numpy; print(f"    scikit-learn {sklearn.__version__}, onnx {onnx.__version__}, numpy {numpy.__version__}")' >&2

mkdir -p "$WORK"
# The export runs with 64 MB semi-spaces: most of what a row allocates dies young, and the
# default young generation made garbage collection a third of its CPU time (export-pipeline.ts).
SIM_ARGS=(--cards "$CARDS" --days "$DAYS" --seed "$SEED" "${SIM_EXTRA[@]}" --out "$WORK/events.jsonl")
if ((REUSE)) && [[ -s $WORK/features.csv ]]; then
  step 2 "simulating: skipped (--reuse-data, $WORK/features.csv exists)"
  step 3 "exporting features: skipped (--reuse-data)"
elif [[ -n $EVENTS ]]; then
  if [[ ! -e $EVENTS ]]; then
    echo "train.sh: --events $EVENTS does not exist" >&2
    exit 2
  fi
  step 2 "reading the history $EVENTS (no simulation)"
  step 3 "exporting features from $EVENTS -> $WORK"
  npx tsx --max-semi-space-size=64 models/training/export-features.ts --events "$EVENTS" --out-dir "$WORK" \
    --max-bad-fraction "$MAX_BAD_FRACTION"
  TRAIN_EXTRA+=(--baseline)
else
  step 2 "simulating $CARDS cards over $DAYS days (seed $SEED) -> $WORK/events.jsonl"
  npx tsx models/training/simulate-cli.ts "${SIM_ARGS[@]}"

  step 3 "exporting features -> $WORK"
  npx tsx --max-semi-space-size=64 models/training/export-features.ts --events "$WORK/events.jsonl" --out-dir "$WORK" \
    --seed "$SEED" --generator "npm run data:simulate -- ${SIM_ARGS[*]}"
fi

step 4 "training $MODEL_NAME@$VERSION -> $OUT"
"$PY" models/training/train.py --work "$WORK" --out "$OUT" \
  --model-name "$MODEL_NAME" --model-version "$VERSION" --seed "$SEED" "${TRAIN_EXTRA[@]}"
npx tsx models/training/card-monitoring.ts --work "$WORK" --model "$OUT" --seed "$SEED" # top features + training histograms for drift

step 5 "verifying ONNX parity on the replay set"
if [[ ! -f models/training/verify-parity.ts ]]; then
  echo "train.sh: models/training/verify-parity.ts is missing; $OUT was written but not verified" >&2
  exit 1
fi
npx tsx models/training/verify-parity.ts "$OUT"

echo "    (step 5 took $((SECONDS - STEP_STARTED)) s)" >&2
echo "==> done: $OUT (model.onnx, model.json, replay.jsonl) in $((SECONDS - STARTED)) s" >&2
