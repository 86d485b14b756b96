"""Indexing throughput: a from-scratch build with an empty embedding cache, timed per stage."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from eval.bench.isolated import run_isolated
from eval.bench.system import peak_rss_mb, round_sig, rss_mb
from rag.errors import IndexFormatError
from rag.manifest import MANIFEST
from rag.settings import Settings

logger = logging.getLogger(__name__)

#: Build stages in pipeline order; `other` is the rest (model load, store writes, saving).
STAGES = (
    "read",
    "chunk",
    "embed",
    "index:dense",
    "index:bm25",
    "index:graph",
    "graph:extract",
    "graph:graph",
    "graph:embed",
    "graph:synonymy",
    "other",
)
#: Stages timed inside another stage (graph:* are parts of index:graph), left out of sums.
SUBSTAGE_PREFIX = "graph:"


def measure_build(
    paths: list[str], out: str, settings_data: dict[str, Any], kinds: list[str] | None = None
) -> dict[str, Any]:
    """Build an index into `out` and report seconds and passages/s per stage, and memory.

    Meant to run in a fresh process (see `run_isolated`), so that the peak RSS is this build's.
    """
    from indexers.builder import build_index
    from indexers.registry import DEFAULT_KINDS
    from rag.manifest import read_manifest

    settings = Settings(**settings_data)
    rss_start = rss_mb()
    report = build_index(paths, out, settings, kinds=kinds or DEFAULT_KINDS)
    passages, total = report.passages, report.seconds
    seconds = {k: v for k, v in report.stage_seconds.items() if v > 0}
    outer = sum(v for k, v in seconds.items() if not k.startswith(SUBSTAGE_PREFIX))
    seconds["other"] = max(0.0, total - outer)
    stages = {
        name: {
            "seconds": round(s, 3),
            "passages_per_s": round_sig(passages / s) if s > 0 else None,
            "share": round(s / total, 3) if total > 0 else None,
        }
        for name, s in sorted(seconds.items(), key=lambda kv: _stage_order(kv[0]))
    }
    return {
        "passages": passages,
        "sources": report.sources_read,
        "seconds": round(total, 3),
        "passages_per_s": round(passages / total, 1) if total > 0 else None,
        "stages": stages,
        "embedder": read_manifest(Path(out)).embedder.variant,
        "rss_start_mb": round(rss_start, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def _stage_order(name: str) -> int:
    """Position of a stage in STAGES; unknown stages go just before `other`."""
    return STAGES.index(name) if name in STAGES else len(STAGES) - 1


def prepare_embedder(settings: Settings) -> None:
    """Export and compile the embedder once, so a timed build does not pay that one-off cost."""
    from rag.embed import make_embedder

    make_embedder(settings.embedder.model_copy(update={"cache": False}), settings.cache_dir)


def _empty_cache_settings(settings: Settings, cache: Path) -> Settings:
    """Settings whose cache dir is `cache` (no embeddings yet) but which reuse the model export."""
    exported = Path(settings.cache_dir).expanduser().resolve() / "openvino"
    if exported.is_dir():
        (cache / "openvino").symlink_to(exported, target_is_directory=True)
    return settings.model_copy(update={"cache_dir": cache, "show_progress": False})


def clear_index_dir(path: Path) -> None:
    """Remove a previous index at `path`; refuse to delete anything that is not an index."""
    if not path.exists():
        return
    if not (path / MANIFEST).is_file():
        raise IndexFormatError(f"{path}: exists and is not a memrag index; choose another --out")
    shutil.rmtree(path)


def bench_build(
    paths: list[Path], index_dir: Path, settings: Settings, kinds: list[str] | None = None
) -> dict[str, Any]:
    """Build `paths` into `index_dir` from scratch, in a fresh process, and time it."""
    clear_index_dir(index_dir)
    prepare_embedder(settings)
    with tempfile.TemporaryDirectory(prefix="memrag-bench-cache-") as cache:
        build_settings = _empty_cache_settings(settings, Path(cache))
        logger.info("building %s into %s in a fresh process", ", ".join(map(str, paths)), index_dir)
        return run_isolated(
            measure_build,
            [str(p) for p in paths],
            str(index_dir),
            build_settings.model_dump(mode="json"),
            kinds,
        )
