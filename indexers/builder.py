"""Building and updating an index dir from files: read, chunk, embed, index, swap in atomically."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from indexers.base import Index
from indexers.build_inputs import BuildReport, read_changed, run_scope
from indexers.build_manifest import (
    finished_manifest,
    nothing_read,
    previous_manifest,
    rebuild_kinds,
)
from indexers.context import BuildContext
from indexers.disk_full import WriteGuard
from indexers.engine import Engine, make_engine
from indexers.index_dir import rebuild_hint
from indexers.lock import writer_lock
from indexers.registry import DEFAULT_KINDS, check_settings, index_kind, kind_settings
from rag.atomic import replace_directory
from rag.embed import make_embedder
from rag.embed.base import Embedder
from rag.embed.disk_vectors import PassageVectors
from rag.errors import IndexFormatError, InputError
from rag.ingest import SourceFile, discover_sources
from rag.ingest.chunking import passage_recipe
from rag.manifest import MANIFEST, Manifest, write_manifest
from rag.settings import Settings
from rag.store import PassageStore
from rag.types import Passage

logger = logging.getLogger(__name__)


def _open_previous(
    out: Path, stage: Path, manifest: Manifest | None, context: BuildContext, kinds: Sequence[str]
) -> tuple[PassageStore, dict[str, Index]]:
    """Copy the previous store into the staging dir and load the previous indexes."""
    target = stage / PassageStore.FILENAME
    if manifest is None:
        return PassageStore(target), {k: index_kind(k).create(context) for k in kinds}
    try:
        old = PassageStore(out / PassageStore.FILENAME)
        try:
            store = old.copy_to(target)
        finally:
            old.close()
        indexes = {
            k: _load_current(out, k, context)
            if k in manifest.indexes
            else index_kind(k).create(context)
            for k in kinds
        }
    except IndexFormatError as exc:
        raise IndexFormatError(f"{exc}; {rebuild_hint(out)}") from exc
    return store, indexes


def _load_current(out: Path, kind: str, context: BuildContext) -> Index:
    """The saved index of `kind`, or a new one when the settings now ask for another shape.

    Only kinds that say so (`rebuilt_when_settings_change`) are rebuilt, and only when the
    current settings name their section: settings left unsaid keep what the index was built with.
    """
    cls = index_kind(kind)
    section = cls.settings_section
    if cls.rebuilt_when_settings_change and section and context.settings.section(section):
        saved = cls.saved_build_config(out / kind)
        if saved is not None and saved != kind_settings(cls, context.settings):
            logger.info("%s: [%s] settings changed; the %s index is built anew", out, section, kind)
            return cls.create(context)
    return cls.load(out / kind, context)


def _checked_sources(
    paths: Sequence[str | Path], settings: Settings, kinds: Sequence[str], out: Path
) -> tuple[list[SourceFile], dict[str, str]]:
    """The input files and the unreadable ones, once settings and kinds are known valid.

    The index dir itself is never an input, even when it lies inside a folder being indexed.
    """
    check_settings(settings)
    for kind in kinds:
        index_kind(kind)
    skipped: dict[str, str] = {}
    return discover_sources(paths, skipped, exclude=[out]), skipped


def build_index(
    paths: Sequence[str | Path],
    out: str | Path,
    settings: Settings,
    kinds: Sequence[str] = DEFAULT_KINDS,
    *,
    wait_s: float = 0.0,
    rebuild: bool = False,
    engine: Engine | None = None,
) -> BuildReport:
    """Index `paths` into `out`, updating an existing index in place of a full rebuild.

    Only new or changed files are read and only new passages embedded; passages of files
    that are gone are deleted. The new version is written beside `out` and swapped in at
    the end, so a failed or killed build leaves the previous index intact, and the embedding
    cache makes the next run resume where the killed one stopped. One writer at a time: a
    second build of the same `out` waits up to `wait_s` seconds, then fails with IndexBusyError.
    `rebuild` ignores what `out` holds (a damaged index) and builds it anew, swapped in the same
    way; the embedding cache makes that cheap. `engine` runs the batch stages (default: the
    one `[engine] name` names; the Ray engine fills the caches on a cluster first).
    """
    started, out = time.perf_counter(), Path(out)
    sources, skipped = _checked_sources(paths, settings, kinds, out)
    with writer_lock(out, wait_s):
        return _build_locked(
            paths, sources, skipped, out, settings, kinds, started, rebuild, engine
        )


def ensure_built(
    paths: Sequence[str | Path],
    out: str | Path,
    settings: Settings,
    kinds: Sequence[str] = DEFAULT_KINDS,
    *,
    wait_s: float = 3600.0,
) -> BuildReport | None:
    """Build `out` unless it holds an index; None when another process built it meanwhile.

    For shared caches (one dataset index per settings): concurrent callers wait on the
    writer lock, and all but the first find the finished index and open it.
    """
    out = Path(out)
    if (out / MANIFEST).exists():
        return None
    sources, skipped = _checked_sources(paths, settings, kinds, out)
    with writer_lock(out, wait_s):
        if (out / MANIFEST).exists():
            return None
        logger.info("building the missing index %s", out)
        started = time.perf_counter()
        return _build_locked(paths, sources, skipped, out, settings, kinds, started)


def _build_locked(
    paths: Sequence[str | Path],
    sources: list[SourceFile],
    skipped: dict[str, str],
    out: Path,
    settings: Settings,
    kinds: Sequence[str],
    started: float,
    rebuild: bool = False,
    engine: Engine | None = None,
) -> BuildReport:
    """build_index's work, with the writer lock held (an engine made here is closed here)."""
    if engine is None:
        with contextlib.closing(make_engine(settings)) as made:
            return _build_locked(
                paths, sources, skipped, out, settings, kinds, started, rebuild, made
            )
    if rebuild and out.is_dir():
        kinds = rebuild_kinds(out, kinds)
    manifest = previous_manifest(out, rebuild)
    embedder = make_embedder(settings.embedder, settings.cache_dir)
    if manifest is not None:
        manifest.check_embedder(embedder.name, embedder.dim, out)
        # An update keeps every index kind the dir already has, plus any newly asked for.
        kinds = list(dict.fromkeys([*manifest.indexes, *kinds]))
    report = BuildReport(out=out, skipped=dict(skipped), engine=engine.name)
    guard = WriteGuard(out, had_index=(out / MANIFEST).exists())
    with (
        guard.guarding(),
        BuildContext(embedder, settings) as context,
        replace_directory(out) as stage,
    ):
        guard.at(f"the passage store ({stage / PassageStore.FILENAME})")
        store, indexes = _open_previous(out, stage, manifest, context, kinds)
        # Closed on failure too: an open handle on the dropped staging copy keeps its space.
        with contextlib.closing(store):
            before = set(store.ids())
            rechunk = manifest is not None and manifest.chunking != passage_recipe(
                settings.chunking
            )
            sources, roots = run_scope(out, manifest, paths, sources, report, rechunk)
            fresh, removed = read_changed(
                sources, roots, store, settings, report, rechunk, engine.parse
            )
            if len(store) == 0:
                raise InputError(nothing_read(paths, report))
            for index in indexes.values():
                index.delete(removed)
            todo = {kind: _todo(index, fresh, store) for kind, index in indexes.items()}
            engine.prepare(todo, indexes, context, report)
            _update_indexes(indexes, todo, embedder, settings, report, guard)
            for kind, index in indexes.items():
                guard.at(f"the {kind} index ({stage / kind})")
                index.save(stage / kind)
            guard.at(f"the settings and manifest ({stage})")
            (stage / "settings.json").write_text(settings.model_dump_json(indent=2))
            after = set(store.ids())
            # By id: a re-read file's unchanged passages are neither added nor removed.
            report.passages, report.added, report.removed = (
                len(after),
                len(after - before),
                len(before - after),
            )
            report.seconds = time.perf_counter() - started
            new_manifest = finished_manifest(store, embedder, settings, indexes, report)
            known = manifest.roots if manifest is not None else []
            new_manifest.roots = sorted({*known, *map(str, roots)})
            unchanged = not (report.added or report.removed)
            if manifest is not None and unchanged and list(indexes) == manifest.indexes:
                # A no-op run keeps the timings of the build that made this index.
                new_manifest.build = manifest.build
            write_manifest(stage, new_manifest)
    return report


def _todo(index: Index, fresh: list[Passage], store: PassageStore) -> list[Passage]:
    """The passages an index lacks: the fresh ones, or every stored one for a kind new here."""
    held = index.ids()
    pool = fresh if len(held) + len(fresh) >= len(store) else list(store.iter_passages())
    return [p for p in pool if p.id not in held]


def _update_indexes(
    indexes: dict[str, Index],
    todos: dict[str, list[Passage]],
    embedder: Embedder,
    settings: Settings,
    report: BuildReport,
    guard: WriteGuard,
) -> None:
    """Add what each index lacks (`todos`), embedding each passage once.

    Vectors stream to memory-mapped files (rag.embed.disk_vectors), so a large build's peak
    memory is its indexes', not also every vector held twice.
    """
    with PassageVectors(embedder, settings.cache_dir) as vectors:
        for kind, index in indexes.items():
            todo = todos[kind]
            if not todo:
                continue
            batch = None
            if index.uses_passage_vectors:
                guard.at(f"the embedding cache ({settings.cache_dir})")
                start = time.perf_counter()
                texts = [p.embedding_text for p in todo]
                ids = [p.id for p in todo]
                batch = vectors.of(ids, texts, show_progress=settings.show_progress)
                report.stage_seconds["embed"] += time.perf_counter() - start
            guard.at(f"the {kind} index (or its LLM cache in {settings.cache_dir})")
            start = time.perf_counter()
            index.add(todo, batch)
            for stage, seconds in index.take_stage_seconds().items():
                report.stage_seconds[stage] += seconds
            report.stage_seconds[f"index:{kind}"] += time.perf_counter() - start
