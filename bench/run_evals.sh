#!/usr/bin/env bash
# The evaluation rows of docs/RESULTS.md, in one run. Usage: bench/run_evals.sh [OUTDIR]
# Every row of a set scores the same cached model outputs (ctcbias eval's cache).
# HOTWORD_WEIGHT: pyctcdecode's weight, chosen on entity-dev by bench/tune.py (20 for the
# shipped model). PARALLEL=1: the accuracy rows in two processes (one per core); the speed
# benchmarks always run alone, after them.
set -euo pipefail
OUT=${1:-docs/results}
mkdir -p "$OUT"
E="python bench/eval_matrix.py"
T=lm,lm+unigram,lm+adaptive,decoder,pyctcdecode+lm
HW=${HOTWORD_WEIGHT:-20}
# issue 3: greedy accuracy of the shipped model (+ phone error rate of each phone head)
# (SKIP_GREEDY=1: the model did not change, keep those files)
[ -n "${SKIP_GREEDY:-}" ] || $E --sets entity-tts,earnings-tts --sizes 100 --techniques none --phones --out "$OUT/greedy.jsonl"
[ -n "${SKIP_GREEDY:-}" ] || $E --sets librispeech-tts,speechocean-test --sizes none --techniques none --out "$OUT/greedy_b.jsonl"
# the same with one plain model pass (no frequency-warp search), for comparison
[ -n "${SKIP_GREEDY:-}" ] || $E --sets entity-tts,earnings-tts --sizes 100 --techniques none --phones --no-warps --out "$OUT/greedy_onepass.jsonl"
[ -n "${SKIP_GREEDY:-}" ] || $E --sets librispeech-tts,speechocean-test --sizes none --techniques none --no-warps --out "$OUT/greedy_onepass.jsonl"
# issue 4: decoder rows at N=100 and N=1000, the same utterances for every row of a set
# (all of each set; LIMIT=200 gives session 2's subset)
LIM=${LIMIT:+--limit $LIMIT}
earnings() {
  $E --sets earnings-tts --sizes 100,1000 $LIM --hotword-weight "$HW" \
     --techniques "$T" --out "$OUT/decoder_earnings.jsonl"
}
if [ -n "${PARALLEL:-}" ]; then earnings > "$OUT/decoder_earnings.md" & EARN=$!; fi
$E --sets entity-tts --sizes 100,1000 $LIM --hotword-weight "$HW" \
   --techniques "$T" --out "$OUT/decoder_entity.jsonl"
$E --sets librispeech-tts --sizes 100 --techniques lm,decoder --out "$OUT/librispeech.jsonl"
if [ -n "${PARALLEL:-}" ]; then wait "$EARN"; else earnings; fi
# speed against catalog size, without and with the word LM, and the acoustic model's RTF
python bench/decode_speed.py --set entity-tts --utts 10 --runs 21 --peer-runs 3 --sizes 0,100,1000,10000 \
   --peer-max-s 300 > "$OUT/decode_speed.md"
python bench/decode_speed.py --set entity-tts --utts 10 --runs 21 --peer-runs 3 --sizes 0,100,1000,10000 \
   --peer-max-s 300 --lm default > "$OUT/decode_speed_lm.md"
python bench/rtf.py --runs 7 > "$OUT/rtf.md"
