"""What a build reads from and writes to an index dir's manifest: the previous build, the kinds
to rebuild, and the description of the finished index."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from indexers.base import Index
from indexers.build_inputs import BuildReport
from indexers.registry import INDEX_KINDS
from rag.atomic import recover
from rag.embed.base import Embedder
from rag.errors import IndexFormatError
from rag.ingest.chunking import passage_recipe
from rag.manifest import MANIFEST, EmbedderInfo, Manifest, read_manifest
from rag.settings import Settings
from rag.store import PassageStore
from rag.version import memrag_version

logger = logging.getLogger(__name__)


def previous_manifest(out: Path, rebuild: bool = False) -> Manifest | None:
    """The manifest of the index already at `out` (None to rebuild), refusing anything else."""
    recover(out)
    if not out.exists():
        return None
    if rebuild and ((out / MANIFEST).exists() or (out / PassageStore.FILENAME).exists()):
        return None
    if (out / MANIFEST).exists():
        return read_manifest(out)
    if out.is_dir() and not any(out.iterdir()):
        return None
    raise IndexFormatError(f"{out}: exists and is not a memrag index; choose another --out")


def recorded_sources(out: Path) -> list[str]:
    """The source files an index dir was built from (for a rebuild without named paths)."""
    try:
        return sorted(read_manifest(out).sources)
    except IndexFormatError as exc:
        raise IndexFormatError(f"{exc}; name the files or folders to rebuild from") from None


def rebuild_kinds(out: Path, kinds: Sequence[str]) -> list[str]:
    """The kinds a rebuild makes: those asked for plus those the damaged index had.

    The manifest says which, and so do the kinds' folders in the dir: a damaged manifest may
    read yet name too few (its `indexes` lost), so a kind with a folder is rebuilt either way.
    """
    folders = [kind for kind in INDEX_KINDS if (out / kind).is_dir()]
    try:
        listed = read_manifest(out).indexes
        problem = "its manifest does not list every kind it holds"
    except IndexFormatError as exc:
        listed, problem = [], str(exc)
    unlisted = [kind for kind in folders if kind not in listed and kind not in kinds]
    if unlisted:
        logger.warning(
            "%s; rebuilding the kinds its folders hold too: %s", problem, ", ".join(unlisted)
        )
    return list(dict.fromkeys([*listed, *folders, *kinds]))


def nothing_read(paths: Sequence[str | Path], report: BuildReport) -> str:
    """The error for a build that found no passage, with why the first inputs were skipped."""
    message = f"no passages could be read from {', '.join(map(str, paths))}"
    reasons = [
        f"{path}: {why.removeprefix(f'{path}: ')}" for path, why in list(report.skipped.items())[:3]
    ]
    if reasons:
        message += f" (skipped {len(report.skipped)}: {'; '.join(reasons)})"
    return message


def finished_manifest(
    store: PassageStore,
    embedder: Embedder,
    settings: Settings,
    indexes: dict[str, Index],
    report: BuildReport,
) -> Manifest:
    """Describe the finished index."""
    sources = store.sources()
    return Manifest(
        memrag_version=memrag_version(),
        embedder=EmbedderInfo(name=embedder.name, dim=embedder.dim, variant=embedder.cache_key),
        chunking=passage_recipe(settings.chunking),
        llm={"provider": settings.llm.provider, "model": settings.llm.model},
        operators=_operators(settings, indexes),
        indexes=list(indexes),
        counts={
            "passages": len(store),
            "sources": len(sources),
            **{k: v for index in indexes.values() for k, v in index.build_counts().items()},
        },
        build={
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(report.seconds, 3),
            "stage_seconds": {k: round(v, 3) for k, v in report.stage_seconds.items()},
            "added": report.added,
            "removed": report.removed,
            "skipped": report.skipped,
            "engine": report.engine,
        },
        sources=sources,
    )


def _operators(settings: Settings, indexes: dict[str, Index]) -> dict[str, str]:
    """Which operators built and read this index (LLM-backed or offline)."""
    operators = {"reader": "llm" if settings.llm.provider != "none" else "extractive"}
    for index in indexes.values():
        operators.update(index.operator_names())
    return operators
