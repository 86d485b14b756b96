"""Indexing throughput per embedder variant (backend/precision), each build in a fresh process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.bench.build import bench_build
from eval.bench.suite import parse_list
from rag.settings import Settings

DEFAULT_VARIANTS = "openvino/bf16,openvino/int8,openvino/fp32,torch/bf16,torch/fp32"


def bench_variants(
    corpus: Path, out: Path, settings: Settings, variants: str = DEFAULT_VARIANTS
) -> list[dict[str, Any]]:
    """Build `corpus` into `out` once per variant from scratch; the last build stays in `out`."""
    rows = []
    for variant in parse_list(variants, "--variants"):
        backend, _, precision = variant.partition("/")
        embedder = settings.embedder.model_copy(
            update={"backend": backend, "precision": precision or "fp32"}
        )
        run_settings = settings.model_copy(update={"embedder": embedder, "show_progress": False})
        build = bench_build([corpus], out, run_settings)
        embed = build["stages"].get("embed", {})
        rows.append({
            "variant": variant, "passages": build["passages"], "seconds": build["seconds"],
            "passages_per_s": build["passages_per_s"],
            "embed_passages_per_s": embed.get("passages_per_s"),
            "peak_rss_mb": build["peak_rss_mb"],
        })  # fmt: skip
    return rows
