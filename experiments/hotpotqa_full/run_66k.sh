#!/usr/bin/env bash
# The 66k HotpotQA runs behind docs/scale.md, one stage at a time so each has its own figures.
# Needs the dataset: python -m eval.datasets.hotpotqa_full fetch. Peak RSS from GNU time.
set -euo pipefail
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false RAG_EMBEDDER__PRECISION=bf16
DATA=${DATA:-$HOME/.cache/memrag/hotpotqa-dev-full}
OUT=${OUT:-$HOME/.cache/memrag/hf66k}
LOGS=${LOGS:-results/hf66k}
mkdir -p "$LOGS"
for kind in dense bm25; do
  nice -n 5 /usr/bin/time -v rag index "$DATA/corpus.json" --out "$OUT/$kind" --kinds "$kind" \
    --json > "$LOGS/$kind.json" 2> "$LOGS/$kind.time"
  du -sb "$OUT/$kind/$kind" >> "$LOGS/$kind.time"
done
# Real vectors for the ANN benchmark (passages from the embedding cache, questions embedded).
python experiments/hotpotqa_full/export_vectors.py --out "$OUT/vectors" --dataset "$DATA"
nice -n 5 python -m eval.bench.ann --vectors "$OUT/vectors/passages.npy" \
  --queries "$OUT/vectors/queries.npy" --preset quick > "$LOGS/ann-66k.md"
nice -n 5 python -m eval.bench.ann --vectors "$OUT/vectors/passages.npy" \
  --queries "$OUT/vectors/queries.npy" --size 1000000 --preset no-hnsw --n-queries 300 \
  > "$LOGS/ann-1m.md"
# Retrieval on a fixed sample of questions (the index is built once, then cached).
SAMPLE=${SAMPLE:-500}
nice -n 5 rag eval --dataset "$DATA" --pipelines dense,bm25,hybrid --no-answer \
  --sample "$SAMPLE" --seed 0 --out "$LOGS/eval-sample$SAMPLE"
