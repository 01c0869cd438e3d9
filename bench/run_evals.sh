#!/usr/bin/env bash
# The evaluation rows of docs/RESULTS.md, in one run. Usage: bench/run_evals.sh [OUTDIR]
# Every row of a set scores the same cached model outputs (ctcbias eval's cache).
set -euo pipefail
OUT=${1:-docs/results}
mkdir -p "$OUT"
E="python bench/eval_matrix.py"
# issue 3: greedy accuracy of the shipped model (+ phone error rate of each phone head)
$E --sets librispeech-tts,speechocean-test --sizes none --techniques none --out "$OUT/greedy.jsonl"
$E --sets entity-tts,earnings-tts --sizes 100 --techniques none --phones --out "$OUT/greedy.jsonl"
# issue 4: decoder rows at N=100 and N=1000 (same log-probs per set)
$E --sets entity-tts,earnings-tts --sizes 100,1000 --limit "${LIMIT:-300}" --peer-limit "${PEER_LIMIT:-100}" \
   --hotword-weight "${HOTWORD_WEIGHT:-10}" \
   --techniques lm,lm+unigram,lm+adaptive,decoder,pyctcdecode+lm --out "$OUT/decoder.jsonl"
$E --sets librispeech-tts --sizes 100 --limit "${LIMIT:-300}" --techniques lm,decoder --out "$OUT/librispeech.jsonl"
