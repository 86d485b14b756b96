#!/usr/bin/env bash
# Issue 23's measurements: rerank and the LLM reader with a bundled Qwen2.5 model against their
# offline counterparts, on fixed samples of the shared sets. LLM replies are cached
# (cache_dir/llm), so a rerun costs only the retrieval. Usage:
#   experiments/local_models/run.sh MODEL SAMPLE OUT SET...   e.g. qwen2.5-0.5b 20 /tmp/h23 musique-100
set -euo pipefail
cd "$(dirname "$0")/../.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false RAG_EMBEDDER__PRECISION=bf16
model=$1 sample=$2 out=$3
shift 3
here=experiments/local_models
pipelines=$here/hybrid-extractive.yaml,$here/rerank-sentence-hybrid-extractive.yaml,$here/rerank-llm-hybrid-extractive.yaml,$here/hybrid-llm-reader.yaml
# One process per set, side by side (each model call runs on one thread).
for set in "$@"; do
    nice -n 5 rag eval -d "../shared/data/$set" -p "$pipelines" --sample "$sample" --seed 0 \
        --llm "local:$model" -o "$out/$set-$model" --json > "$out/$set-$model.json" &
done
wait
