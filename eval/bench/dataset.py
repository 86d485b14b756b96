"""The per-dataset benchmark: build throughput, index size on disk, query latency and recall."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.bench.build import bench_build
from eval.bench.isolated import run_isolated
from eval.bench.queries import measure_queries, query_settings
from eval.bench.system import index_dir_sizes
from rag.errors import InputError
from rag.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_PIPELINES = ("dense", "bm25", "hybrid")


def bench_queries(
    index_dir: Path,
    settings: Settings,
    questions: Path | None = None,
    pipelines: Sequence[str] = DEFAULT_PIPELINES,
) -> dict[str, Any]:
    """Time queries on a built index in a fresh process (its peak RSS is the serving memory)."""
    if questions is not None and not questions.is_file():
        raise InputError(f"{questions}: no such questions file")
    logger.info("timing %s queries on %s in a fresh process", ", ".join(pipelines), index_dir)
    return run_isolated(
        measure_queries,
        str(index_dir),
        query_settings(settings).model_dump(mode="json"),
        str(questions) if questions else None,
        list(pipelines),
    )


def bench_dataset(
    dataset: Path,
    out: Path,
    settings: Settings,
    questions: Path | None = None,
    pipelines: Sequence[str] = DEFAULT_PIPELINES,
) -> dict[str, Any]:
    """Index `dataset` (file or folder) into `out/index` from scratch, then time its queries.

    Without `questions`, latency is measured on queries made of passages' first words and
    the recall columns are empty.
    """
    if not dataset.exists():
        raise InputError(f"{dataset}: no such file or folder")
    if questions is not None and not questions.is_file():
        raise InputError(f"{questions}: no such questions file")
    from indexers.registry import DEFAULT_KINDS
    from pipelines.rag_index import RagIndex

    # An unknown pipeline fails now, not after the build; the pipelines decide the index kinds.
    needed = set().union(*(RagIndex.pipeline(name).index_kinds() for name in pipelines))
    index_dir = out / "index"
    build = bench_build([dataset], index_dir, settings, sorted(needed | set(DEFAULT_KINDS)))
    return {
        "dataset": str(dataset),
        "questions": str(questions) if questions else None,
        "index_dir": str(index_dir),
        "build": build,
        "disk_mb": index_dir_sizes(index_dir),
        "queries": bench_queries(index_dir, settings, questions, pipelines),
    }
