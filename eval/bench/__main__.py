"""`python -m eval.bench`: the benchmarks without the `rag` CLI, plus per-variant index timing.

    python -m eval.bench dataset ../shared/data/musique-100/corpus.json \\
        --questions ../shared/data/musique-100/questions.json --out /tmp/bench-musique
    python -m eval.bench scaling --sizes 10000,100000,1000000 --out /tmp/bench-scaling
    python -m eval.bench index ../shared/data/musique-100/corpus.json --out /tmp/musique-idx
    python -m eval.bench query /tmp/musique-idx \\
        --questions ../shared/data/musique-100/questions.json

Settings come from RAG_* variables. Tables go to stdout; `dataset` and `scaling` also write
summary.md and summary.json into --out, `index` and `query` write JSON with --json-out.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
from typing import Any

from eval.bench.build import bench_build
from eval.bench.dataset import DEFAULT_PIPELINES, bench_queries
from eval.bench.scaling import DEFAULT_SIZES, KINDS
from eval.bench.suite import parse_list, parse_sizes, run_bench
from eval.bench.system import machine_info, machine_line
from eval.bench.tables import markdown_table
from rag.settings import load_settings


def _parser() -> argparse.ArgumentParser:
    """The argument parser with its four sub-commands."""
    parser = argparse.ArgumentParser(
        prog="python -m eval.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_data = sub.add_parser("dataset", help="build, size on disk, query latency and recall")
    p_data.add_argument("corpus", type=Path, help="corpus file or folder")
    p_data.add_argument("--questions", type=Path, help="MuSiQue-layout questions JSON")
    p_scale = sub.add_parser("scaling", help="synthetic corpora of growing size")
    p_scale.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    p_scale.add_argument("--kinds", default=",".join(KINDS), help="flat, hnsw, bm25")
    p_scale.add_argument("--queries", type=int, default=200, help="queries per size and kind")
    p_index = sub.add_parser("index", help="indexing throughput per embedder variant")
    p_index.add_argument("corpus", type=Path)
    p_index.add_argument(
        "--variants",
        default="openvino/bf16,openvino/fp32,torch/bf16,torch/fp32",
        help="backend/precision pairs to measure; the last one is left in --out",
    )
    p_query = sub.add_parser("query", help="query latency and Recall@k of a built index")
    p_query.add_argument("index", type=Path)
    p_query.add_argument("--questions", type=Path, help="MuSiQue-layout questions JSON")
    for p in (p_data, p_query):
        p.add_argument("--pipelines", default=",".join(DEFAULT_PIPELINES))
    for p in (p_data, p_scale, p_index):
        p.add_argument("--out", type=Path, required=True)
    for p in (p_index, p_query):
        p.add_argument("--json-out", type=Path)
    return parser


def _variant_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Build the corpus once per embedder variant, each from scratch in a fresh process."""
    rows = []
    for variant in parse_list(args.variants, "--variants"):
        backend, precision = variant.split("/")
        overrides = {
            "show_progress": False,
            "embedder": {"backend": backend, "precision": precision},
        }
        build = bench_build([args.corpus], args.out, load_settings(overrides=overrides))
        embed = build["stages"].get("embed", {})
        rows.append({
            "variant": variant, "passages": build["passages"], "seconds": build["seconds"],
            "passages_per_s": build["passages_per_s"],
            "embed_passages_per_s": embed.get("passages_per_s"),
            "peak_rss_mb": build["peak_rss_mb"],
        })  # fmt: skip
    return rows


def main() -> None:
    """Parse the command line, run the benchmark, print tables."""
    args = _parser().parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    settings = load_settings(overrides={"show_progress": False})
    if args.command in ("dataset", "scaling"):
        scaling = args.command == "scaling"
        _, text = run_bench(
            args.out,
            settings,
            dataset=None if scaling else args.corpus,
            questions=None if scaling else args.questions,
            pipelines=[] if scaling else parse_list(args.pipelines, "--pipelines"),
            scaling_sizes=parse_sizes(args.sizes) if scaling else None,
            scaling_kinds=parse_list(args.kinds, "--kinds", KINDS) if scaling else KINDS,
            scaling_queries=args.queries if scaling else 200,
        )
        print(text)
        return
    if args.command == "index":
        rows = _variant_rows(args)
    else:
        pipelines = parse_list(args.pipelines, "--pipelines")
        rows = bench_queries(args.index, settings, args.questions, pipelines)["rows"]
    machine = machine_info()
    print(f"machine: {machine_line(machine)}\n\n{markdown_table(rows)}")
    if args.json_out:
        args.json_out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
