"""Indexing throughput, query latency and retrieval quality on a dataset in the HippoRAG layout.

    python -m eval.bench index ../shared/data/musique-100/corpus.json --out /tmp/musique-idx
    python -m eval.bench query /tmp/musique-idx \
        --questions ../shared/data/musique-100/questions.json

Figures are printed as a markdown table and written as JSON with `--json-out`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from rag.settings import load_settings
from rag.types import passage_id


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    """A one-line description of the machine the figures come from."""
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    )


def bench_index(corpus: Path, out: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """Build an index from scratch with an empty embedding cache and time each stage."""
    from indexers.builder import build_index

    with tempfile.TemporaryDirectory() as cache:
        overrides = {**overrides, "cache_dir": cache, "show_progress": False}
        settings = load_settings(overrides=overrides)
        if out.exists():
            shutil.rmtree(out)
        report = build_index([corpus], out, settings)
    stages = dict(report.stage_seconds)
    return {
        "passages": report.passages,
        "seconds": round(report.seconds, 2),
        "passages_per_s": round(report.passages / report.seconds, 1),
        "embed_passages_per_s": round(report.passages / stages["embed"], 1),
        "embed_share": round(stages["embed"] / report.seconds, 3),
        "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
        "embedder": f"{settings.embedder.backend}/{settings.embedder.precision}",
        "peak_rss_mb": round(peak_rss_mb()),
    }


def gold_ids(question: dict[str, Any]) -> set[str]:
    """Gold passage ids of a MuSiQue-style question: its supporting paragraphs' content hashes."""
    return {
        passage_id(p["paragraph_text"], p["title"])
        for p in question["paragraphs"]
        if p.get("is_supporting")
    }


def recall_at(ranked: list[str], gold: set[str], k: int) -> float:
    """Share of gold ids among the top k (HippoRAG's Recall@k for one question)."""
    return len(gold & set(ranked[:k])) / len(gold) if gold else 0.0


def bench_queries(index_dir: Path, questions: Path, pipelines: list[str]) -> list[dict[str, Any]]:
    """Per pipeline: Recall@2/5, and latency p50/p95 of retrieval alone and of a full answer."""
    from pipelines.rag_index import RagIndex

    data = json.loads(questions.read_text())
    # No embedding cache: every pipeline pays for its embeddings, as a new question would.
    settings = load_settings(overrides={"show_progress": False, "embedder": {"cache": False}})
    idx = RagIndex.open(index_dir, settings)
    idx.ask(data[0]["question"], pipeline="hybrid")  # warm up models outside the timings
    rows = []
    for name in pipelines:
        pipe = idx.pipeline(name)
        search_s, answer_s, r2, r5 = [], [], [], []
        for q in data:
            start = time.perf_counter()
            ranked = [h.passage_id for h in idx.search(q["question"], k=5, pipeline=pipe)]
            search_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            answer = idx.ask(q["question"], pipeline=pipe)
            answer_s.append(time.perf_counter() - start)
            r2.append(recall_at(ranked, gold_ids(q), 2))
            r5.append(recall_at(ranked, gold_ids(q), 5))
            assert answer.citations or not answer.hits
        search_ms, answer_ms = np.array(search_s) * 1000, np.array(answer_s) * 1000
        rows.append({
            "pipeline": name, "questions": len(data),
            "recall@2": round(float(np.mean(r2)), 3), "recall@5": round(float(np.mean(r5)), 3),
            "search_p50_ms": round(float(np.percentile(search_ms, 50)), 1),
            "search_p95_ms": round(float(np.percentile(search_ms, 95)), 1),
            "answer_p50_ms": round(float(np.percentile(answer_ms, 50)), 1),
            "answer_p95_ms": round(float(np.percentile(answer_ms, 95)), 1),
        })  # fmt: skip
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """Render rows of flat dicts as a markdown table."""
    cols = [c for c in rows[0] if not isinstance(rows[0][c], dict)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    """Command-line entry: `index` or `query` benchmarks."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_index = sub.add_parser("index", help="indexing throughput")
    p_index.add_argument("corpus", type=Path)
    p_index.add_argument("--out", type=Path, required=True)
    p_index.add_argument(
        "--variants",
        default="openvino/bf16,openvino/fp32,torch/bf16,torch/fp32",
        help="backend/precision pairs to measure; the last one builds --out",
    )
    p_query = sub.add_parser("query", help="query latency and Recall@k")
    p_query.add_argument("index", type=Path)
    p_query.add_argument("--questions", type=Path, required=True)
    p_query.add_argument("--pipelines", default="dense,bm25,hybrid")
    for p in (p_index, p_query):
        p.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.command == "index":
        rows = []
        for variant in args.variants.split(","):
            backend, precision = variant.split("/")
            overrides = {"embedder": {"backend": backend, "precision": precision}}
            rows.append({"variant": variant, **bench_index(args.corpus, args.out, overrides)})
    else:
        rows = bench_queries(args.index, args.questions, args.pipelines.split(","))
    print(f"machine: {machine()}\n")
    print(markdown(rows))
    if args.json_out:
        args.json_out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
