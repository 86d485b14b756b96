#!/usr/bin/env bash
# Issue 24: in-process and two-node loopback Ray builds of musique-100 and hotpotqa-dev-500,
# their recall, Ray's start-up, and 1 vs 2 embedding actors. Run from the repository root;
# every figure lands in experiments/ray/results.jsonl (one JSON line per step).
set -euo pipefail
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false RAG_EMBEDDER__PRECISION=bf16
DATA=../shared/data
WORK=${WORK:-/tmp/ray-bench}
PORT=${PORT:-6390}
ADDR=127.0.0.1:$PORT
mkdir -p "$WORK"
bench() { nice -n 5 python experiments/ray/bench.py "$@"; }
fresh() { rm -rf "$WORK/$1"; echo "$WORK/$1"; }

if [ -z "${SKIP_LOCAL:-}" ]; then
    for ds in musique-100 hotpotqa-dev-500; do
        c=$(fresh "local-$ds")
        bench build --dataset "$DATA/$ds" --cache "$c" --label in-process
        bench eval --dataset "$DATA/$ds" --cache "$c" --label in-process
    done
fi

# Ray started by rag itself on this machine (no cluster: a local runtime per command).
if [ -z "${SKIP_LOCAL_RAY:-}" ]; then
    for ds in musique-100 hotpotqa-dev-500; do
        c=$(fresh "raylocal-$ds")
        bench build --dataset "$DATA/$ds" --cache "$c" --label ray-local --ray-local
        bench eval --dataset "$DATA/$ds" --cache "$c" --label ray-local --ray-local
    done
fi

# Two nodes on one machine: a head and a second raylet joining it, one CPU each. Ray >= 2.5x
# starts a head with token authentication: the token it writes (~/.ray/auth_token) is what the
# second node and the drivers present, once told to (RAY_AUTH_MODE=token).
export RAY_AUTH_MODE=token
ray stop --force >/dev/null 2>&1 || true
t0=$(date +%s.%N)
ray start --head --port="$PORT" --num-cpus=1 --object-store-memory=1000000000 \
    --include-dashboard=false --disable-usage-stats
t1=$(date +%s.%N)
ray start --address="$ADDR" --num-cpus=1 --object-store-memory=1000000000 --disable-usage-stats
t2=$(date +%s.%N)
python - "$t0" "$t1" "$t2" <<'PY'
import json, sys, time
t0, t1, t2 = map(float, sys.argv[1:])
line = {"step": "cluster", "label": "two-node", "head_start_s": t1 - t0, "worker_start_s": t2 - t1,
        "at": time.strftime("%H:%M:%S")}
open("experiments/ray/results.jsonl", "a").write(json.dumps(line) + "\n")
print(line)
PY
ray status > "$WORK/ray-status.txt" || true

for ds in musique-100 hotpotqa-dev-500; do
    c=$(fresh "ray-$ds")
    bench build --dataset "$DATA/$ds" --cache "$c" --label two-node --address "$ADDR"
    bench eval --dataset "$DATA/$ds" --cache "$c" --label two-node --address "$ADDR"
done
# Two embedding actors (one per node) from empty caches: passages/s against the run above.
c=$(fresh "ray2-hotpotqa-dev-500")
bench build --dataset "$DATA/hotpotqa-dev-500" --cache "$c" --label two-node-2-actors \
    --address "$ADDR" --embed-actors 2
ray stop
