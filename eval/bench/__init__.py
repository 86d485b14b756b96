"""Performance benchmarks: indexing throughput, query latency, memory, disk, and scaling.

    rag bench --dataset ../shared/data/musique-100/corpus.json \\
        --questions ../shared/data/musique-100/questions.json --out /tmp/bench-musique
    rag bench --scaling --sizes 10000,100000,1000000 --out /tmp/bench-scaling
    rag bench variants CORPUS --out DIR   # indexing speed per embedder backend and precision
    rag bench queries INDEX --questions Q  # latency and recall of a built index
    rag bench ppr --out DIR               # PageRank and synonymy kNN vs igraph and networkx

Every build and every scaling point runs in a fresh process, so its peak memory is its own.
"""

from __future__ import annotations

from eval.bench.build import bench_build
from eval.bench.dataset import bench_dataset, bench_queries
from eval.bench.queries import gold_ids
from eval.bench.scaling import bench_scaling
from eval.bench.suite import run_bench
from eval.bench.system import machine_info
from eval.bench.tables import summary_markdown, write_summary

__all__ = [
    "bench_build",
    "bench_dataset",
    "bench_queries",
    "bench_scaling",
    "gold_ids",
    "machine_info",
    "run_bench",
    "summary_markdown",
    "write_summary",
]
