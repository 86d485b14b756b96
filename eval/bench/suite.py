"""One benchmark run: the per-dataset bench and/or the scaling run, written to an out dir."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.bench.dataset import DEFAULT_PIPELINES, bench_dataset
from eval.bench.scaling import KINDS, bench_scaling
from eval.bench.system import machine_info
from eval.bench.tables import write_summary
from rag.errors import InputError
from rag.settings import Settings

logger = logging.getLogger(__name__)


def run_bench(
    out: Path,
    settings: Settings,
    dataset: Path | None = None,
    questions: Path | None = None,
    pipelines: Sequence[str] = DEFAULT_PIPELINES,
    scaling_sizes: Sequence[int] | None = None,
    scaling_kinds: Sequence[str] = KINDS,
    scaling_queries: int = 200,
) -> tuple[dict[str, Any], str]:
    """Run the benchmarks asked for, write summary.json and summary.md into `out`.

    Returns the summary and its markdown. `scaling_sizes=None` skips the scaling run.
    """
    if dataset is None and scaling_sizes is None:
        raise InputError("nothing to benchmark: give a dataset, the scaling run, or both")
    if questions is not None and dataset is None:
        raise InputError("questions need a dataset to ask them of")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {
        "machine": machine_info(),
        "started": started,
        "settings": settings.model_dump(mode="json"),
    }
    if dataset is not None:
        summary["dataset"] = bench_dataset(dataset, out, settings, questions, pipelines)
    if scaling_sizes is not None:
        summary["scaling"] = bench_scaling(
            scaling_sizes, scaling_kinds, queries=scaling_queries, workdir=out
        )
    summary["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    return summary, write_summary(out, summary)


def parse_sizes(text: str) -> list[int]:
    """Parse '10000,100000,1e6' into corpus sizes; raises InputError on anything else."""
    try:
        sizes = [int(float(part)) for part in text.replace("_", "").split(",") if part.strip()]
    except ValueError:
        raise InputError(f"--sizes {text!r}: expected comma-separated passage counts") from None
    if not sizes or min(sizes) < 1:
        raise InputError(f"--sizes {text!r}: expected positive passage counts")
    return sizes


def parse_list(text: str, option: str, known: Sequence[str] | None = None) -> list[str]:
    """Split a comma-separated option value, checking names against `known` when given."""
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        raise InputError(f"{option}: expected a comma-separated list")
    unknown = [i for i in items if known is not None and i not in known]
    if unknown:
        raise InputError(
            f"{option}: unknown {', '.join(unknown)} (known: {', '.join(known or [])})"
        )
    return items
