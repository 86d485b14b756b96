"""Recall@k and latency of one pipeline over an index dir built by run_66k.sh, on a question sample.

`rag eval` builds dense and bm25 together before asking anything; on the shared 2-core machine
the 66k embedding took longer than a session, so this asks an index of one kind directly
(same questions as `rag eval --sample N --seed S`, same recall definition).

    python experiments/hotpotqa_full/retrieval.py --index ~/.cache/memrag/hf66k/bm25 \
        --dataset ~/.cache/memrag/hotpotqa-dev-full --pipeline bm25 --sample 500
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from eval.bench.queries import latency_ms
from eval.datasets.loader import load_dataset
from eval.metrics import recall_at_k
from pipelines.rag_index import RagIndex

logger = logging.getLogger(__name__)
KS = (2, 5, 10)


def main() -> None:
    """Print one JSON line: pipeline, questions, Recall@2/5/10, p50/p95 latency in ms."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--pipeline", default="bm25")
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    dataset = load_dataset(args.dataset, sample=args.sample, seed=args.seed)
    index = RagIndex.open(args.index)
    index.warm_up()
    index.search("warm up", 10, args.pipeline)
    recalls: dict[int, list[float]] = {k: [] for k in KS}
    seconds = []
    for item in dataset.questions:
        start = time.perf_counter()
        hits = index.search(item.question, max(KS), args.pipeline)
        seconds.append(time.perf_counter() - start)
        ranked = [h.passage_id for h in hits]
        for k in KS:
            value = recall_at_k(ranked, item.gold_ids, k)
            if value is not None:
                recalls[k].append(value)
    row = {
        "pipeline": args.pipeline,
        "questions": len(dataset.questions),
        **{f"R@{k}": round(float(np.mean(v)), 3) for k, v in recalls.items()},
        **{f"{p}_ms": v for p, v in latency_ms(seconds).items()},
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
