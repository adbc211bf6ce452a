#!/usr/bin/env bash
# The CUDA path in one prepared run, for a session lent a GPU machine (the workplace's device tool).
#
#   bash recommender/gpu_check.sh fetch   # here: wheels the GPU image lacks -> .whl/ (git-ignored), ~26 MB
#   bash recommender/gpu_check.sh run     # there, with carry [".whl", "var/shop.db"] (~46 MB with the tree)
#
# `run` trains the `base` preset on the demo store under bf16 autocast for a few capped minutes
# (tokens/s per epoch land in train_log.json), then measures the model server with and without
# micro-batching (recommender.serving.bench) and the engine in-process (bench_engine), and
# writes everything to $OUT (or ./gpu-check when OUT is unset). The GPU image's python3 (3.12)
# holds torch; the wheels add this project's pins of the rest. It also runs on a CPU, which is how
# it is checked here:
#   PY=.venv/bin/python PRESET=tiny TRAIN_MINUTES=0.2 OUT=/tmp/gpu-check \
#   BENCH_ARGS="--sequential 10 --level-seconds 2 --clients 1 8 --evidence off" \
#   ENGINE_ARGS="--requests 32 --repeats 1" bash recommender/gpu_check.sh run
set -euo pipefail
cd "$(dirname "$0")/.."

WHEELS=(SQLAlchemy==2.1.9 alembic==1.20.1 Mako==1.4.3 pydantic==2.13.5 pydantic_core==2.46.5
        pydantic-settings==2.16.3 python-dotenv==1.2.4 typing-inspection==0.4.5 annotated-types==0.8.0
        transformers==5.24.0 huggingface_hub==2.4.0 httpx2==2.16.2 httpcore2==2.16.2 truststore==0.10.5
        tokenizers==0.23.3 peft==0.21.2 PyJWT==2.15.1 tenacity==9.2.1)
PY=${PY:-python3}
PRESET=${PRESET:-base}
TRAIN_MINUTES=${TRAIN_MINUTES:-3}
DB=${DB:-var/shop.db}
OUT=${OUT:-gpu-check}
BENCH_ARGS=${BENCH_ARGS:---sequential 100 --level-seconds 20}
ENGINE_ARGS=${ENGINE_ARGS:---threads 1}

case "${1:-}" in
fetch)
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${WHEELS[@]}"
    du -sh .whl
    ;;
run)
    [[ -f $DB ]] || { echo "error: no demo store at $DB (make demo)" >&2; exit 2; }
    if [[ -d .whl ]]; then
        $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
        export PYTHONPATH=/tmp/site
    fi
    export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD" PYTHONUNBUFFERED=1 SHOP_DATABASE_URL="sqlite:///$PWD/$DB"
    mkdir -p "$OUT"
    model=$(mktemp -d)/model
    { nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"
      $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu',
'bf16', torch.cuda.is_available() and torch.cuda.is_bf16_supported())"; } | tee "$OUT/device.txt"
    half=$($PY -c "print($TRAIN_MINUTES / 2)")
    $PY -m recommender.train --preset "$PRESET" --out "$model" --set "max_pretrain_minutes=$half" \
        --set "max_finetune_minutes=$half" 2>&1 | tr '\r' '\n' | grep -v "it/s\]$" | tail -20
    cp "$model/train_log.json" "$OUT/train_log.json"
    # shellcheck disable=SC2086  # the argument lists are meant to split
    $PY -m recommender.serving.bench --model-dir "$model" --out "$OUT" $BENCH_ARGS | tail -5
    # shellcheck disable=SC2086
    $PY -m recommender.serving.bench_engine --model-dir "$model" --out "$OUT" $ENGINE_ARGS 2>&1 | tail -5
    ls -l "$OUT"
    ;;
*)
    echo "usage: bash recommender/gpu_check.sh fetch|run" >&2
    exit 2
    ;;
esac
