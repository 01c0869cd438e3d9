#!/usr/bin/env bash
# Train the base model on a lent GPU machine (see docs/RESULTS.md for the run that
# produced the shipped model). Expects .carry/pack (scripts/pack_device.py) and .whl
# (soundfile + cffi + pycparser wheels for the machine's Python). Writes the fp16
# inference checkpoint in 15 MiB parts, the train log and the metrics to $OUT.
#   usage: scripts/device_train.sh TIME_BUDGET_SECONDS [extra train args...]
set -uo pipefail
BUDGET=${1:-360}; shift || true
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
RUN=/tmp/run
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl || exit 3
export PYTHONPATH=/tmp/site:$PWD/src
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, soundfile; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'sndfile', soundfile.__libsndfile_version__)"

finish() {
  # an inference checkpoint comes back even when training stopped early
  if [ ! -f $RUN/model.pt ] && [ -f $RUN/last.pt ]; then
    python3 - <<'PY'
from ctcbias.model.checkpoint import load_model, save_checkpoint
src = "/tmp/run/best.pt" if __import__("os").path.exists("/tmp/run/best.pt") else "/tmp/run/last.pt"
model, tok, meta = load_model(src)
save_checkpoint("/tmp/run/model.pt", model, tok, meta, step=meta.get("step", 0), half=True)
PY
  fi
  [ -f $RUN/model.pt ] && split -b 15m $RUN/model.pt "$OUT/model.pt.part-"
  cp $RUN/train.log $RUN/metrics.jsonl "$OUT/" 2>/dev/null
  ls -la "$OUT"
}
trap finish EXIT

python3 -m ctcbias train base \
  --train .carry/pack/real.jsonl .carry/pack/synth.jsonl \
  --dev .carry/pack/dev.jsonl \
  --tokenizer .carry/pack/tokenizer.model \
  --targets .carry/pack/targets.jsonl \
  --out $RUN --device cuda --bf16 --augment \
  --time-budget "$BUDGET" --workers 16 --save-every-seconds 60 \
  --export $RUN/model.pt --no-progress "$@" 2>&1 | tee "$OUT/train.out" | grep -v "^\s*$" | tail -n 400
