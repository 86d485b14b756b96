"""What a build reads: the files under the roots a run names, and which of them changed."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from tqdm.auto import tqdm

from indexers.engine.stages import Parsed, parse_sources
from rag.ingest import SourceFile, discover_sources
from rag.manifest import Manifest
from rag.settings import Settings
from rag.store import PassageStore
from rag.types import Passage

logger = logging.getLogger(__name__)

#: Reads and chunks files, yielding one Parsed per file in the order given.
Parse = Callable[[list[SourceFile]], Iterable[Parsed]]


@dataclass
class BuildReport:
    """What a build did: counts, skipped files and seconds per stage."""

    out: Path
    passages: int = 0
    added: int = 0
    removed: int = 0
    sources_read: int = 0
    sources_unchanged: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    #: Work found done in the caches: embeddings and extractions a resumed build reused.
    cached: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    seconds: float = 0.0
    #: The engine that ran the batch stages (local or ray).
    engine: str = "local"


def resolved_roots(paths: Sequence[str | Path]) -> list[Path]:
    """The absolute form of the files and folders a run names."""
    return [Path(p).expanduser().resolve() for p in paths]


def _under(path: str, roots: list[Path]) -> bool:
    """Whether a source file lies in (or is) one of the roots."""
    file = Path(path)
    return any(file == root or root in file.parents for root in roots)


def read_changed(
    sources: list[SourceFile],
    roots: list[Path],
    store: PassageStore,
    settings: Settings,
    report: BuildReport,
    rechunk: bool = False,
    parse: Parse | None = None,
) -> tuple[list[Passage], set[str]]:
    """Drop vanished or changed sources, read and chunk new or changed ones (all, to rechunk).

    A source is vanished only when it lies under a root this run names: indexing another
    folder into an index adds to it. `parse` reads and chunks the files to read (in order);
    the default does it in this process.
    """
    if parse is None:
        parse = partial(parse_sources, chunking=settings.chunking)
    current = {s.path: s for s in sources}
    unreadable = [Path(p) for p in report.skipped]
    removed: set[str] = set()
    for path, sha in store.sources().items():
        if _under(path, unreadable):
            continue  # present but unreadable now (or in an unreadable folder): passages stay
        if path not in current and not rechunk and not _under(path, roots):
            continue  # another root's file: this run does not speak for it
        if rechunk or path not in current or current[path].sha256 != sha:
            removed.update(store.remove_source(path))
    fresh: list[Passage] = []
    known = store.sources()
    to_read = [s for s in sources if known.get(s.path) != s.sha256]
    report.sources_unchanged = len(sources) - len(to_read)
    parsed = parse(to_read) if to_read else iter(())
    for done in tqdm(
        parsed,
        total=len(to_read),
        desc="read",
        unit="file",
        disable=not settings.show_progress or not to_read,
    ):
        src = done.source
        if done.problem is not None:
            _skip_file(report, src, done.problem)
            continue
        report.stage_seconds["read"] += done.read_s
        report.stage_seconds["chunk"] += done.chunk_s
        new_ids = set(store.put_source(src.path, src.sha256, done.passages))
        fresh.extend(p for p in done.passages if p.id in new_ids)
        report.sources_read += 1
    return fresh, removed - {p.id for p in fresh}


def _skip_file(report: BuildReport, src: SourceFile, message: str) -> None:
    """Record a file that could not be read, with a warning naming it and the problem."""
    logger.warning("skipped %s", message)
    report.skipped[src.path] = message


def run_scope(
    out: Path,
    manifest: Manifest | None,
    paths: Sequence[str | Path],
    sources: list[SourceFile],
    report: BuildReport,
    rechunk: bool,
) -> tuple[list[SourceFile], list[Path]]:
    """The files and roots this run reads: the named ones, plus every earlier root to rechunk."""
    roots = resolved_roots(paths)
    if not rechunk or manifest is None:
        return sources, roots
    logger.info(
        "%s: chunking or reading changed since %s; every file is read again", out, manifest.chunking
    )
    earlier = [Path(r) for r in manifest.roots if Path(r) not in roots and Path(r).exists()]
    if earlier:
        sources = sorted(
            {
                s.path: s for s in [*sources, *discover_sources(earlier, report.skipped, [out])]
            }.values(),
            key=lambda s: s.path,
        )
    return sources, roots + earlier
