"""Building, updating and recovering index dirs from real files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import indexers.builder as builder_module
from indexers.builder import build_index
from indexers.index_dir import open_index_dir
from rag.embed import make_embedder
from rag.embed.base import Embedder
from rag.embed.cache import CachedEmbedder
from rag.errors import EmbedderMismatchError, IndexFormatError, InputError
from rag.ingest.chunking import READING_VERSION
from rag.settings import Settings
from rag.types import passage_id

SAMPLE = Path(__file__).resolve().parents[2] / "rag" / "data" / "sample"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A copy of the bundled sample corpus that tests may change."""
    return Path(shutil.copytree(SAMPLE, tmp_path / "docs"))


def test_build_writes_a_complete_index_dir(docs: Path, tmp_path: Path, settings: Settings) -> None:
    report = build_index([docs], tmp_path / "idx", settings)
    assert report.sources_read == 6 and not report.skipped
    assert report.passages == report.added > 6
    idx = open_index_dir(tmp_path / "idx", settings)
    manifest = idx.manifest
    assert manifest.embedder.name == "all-MiniLM-L6-v2" and manifest.embedder.dim == 384
    assert manifest.counts == {"passages": report.passages, "sources": 6}
    assert set(manifest.indexes) == {"dense", "bm25"}
    assert len(manifest.sources) == 6 and {"embed", "read"} <= set(manifest.build["stage_seconds"])
    assert all(len(index) == report.passages for index in idx.indexes.values())
    saved = json.loads((tmp_path / "idx" / "settings.json").read_text())
    assert saved["chunking"]["chunk_size"] == 512
    hit = idx.indexes["dense"].search("When did Hubble launch?", 1)[0]
    assert "Hubble" in (idx.store.get(hit.passage_id).text or "")  # type: ignore[union-attr]


def test_rerun_reads_only_changes_and_removes_vanished_files(
    docs: Path, tmp_path: Path, settings: Settings
) -> None:
    out = tmp_path / "idx"
    first = build_index([docs], out, settings)
    again = build_index([docs], out, settings)
    assert (again.added, again.removed, again.sources_read, again.sources_unchanged) == (0, 0, 0, 6)

    (docs / "great_barrier_reef.txt").unlink()
    (docs / "marie_curie.txt").write_text("Marie Curie was born in Warsaw in 1867.")
    (docs / "new.txt").write_text("The Danube flows through ten countries.")
    update = build_index([docs], out, settings)
    assert update.sources_read == 2 and update.added == 2
    idx = open_index_dir(out, settings)
    texts = [p.text for p in idx.store.iter_passages()]
    assert "Marie Curie was born in Warsaw in 1867." in texts
    assert not any("coral reef" in t or "Nobel" in t for t in texts)
    assert all(idx.indexes[k].ids() == set(idx.store.ids()) for k in idx.indexes)
    assert update.passages == first.passages - update.removed + update.added


def test_identical_passages_in_two_files_are_stored_once(
    tmp_path: Path, settings: Settings
) -> None:
    """Same title and text in two files: one passage, kept until both files are gone."""
    (tmp_path / "d").mkdir()
    record = json.dumps([{"title": "T", "text": "The same sentence twice."}])
    (tmp_path / "d" / "a.json").write_text(record)
    (tmp_path / "d" / "b.json").write_text(record)
    report = build_index([tmp_path / "d"], tmp_path / "idx", settings)
    assert report.passages == 1
    (tmp_path / "d" / "a.json").unlink()
    assert build_index([tmp_path / "d"], tmp_path / "idx", settings).passages == 1


def test_unreadable_files_are_skipped_with_their_reason(
    docs: Path, tmp_path: Path, settings: Settings
) -> None:
    (docs / "binary.txt").write_bytes(b"\x00\x01\xff\xfe" * 50)
    (docs / "empty.md").write_text("   \n")
    report = build_index([docs], tmp_path / "idx", settings)
    assert set(map(lambda p: Path(p).name, report.skipped)) == {"binary.txt", "empty.md"}
    assert report.sources_read == 6


@pytest.mark.parametrize("case", ["missing", "empty-folder", "only-bad-files"])
def test_nothing_to_index_is_an_error_naming_the_path(
    tmp_path: Path, settings: Settings, case: str
) -> None:
    target = tmp_path / "in"
    if case != "missing":
        target.mkdir()
    if case == "only-bad-files":
        (target / "x.txt").write_bytes(b"\x00" * 10)
    with pytest.raises(InputError, match=str(target)):
        build_index([target], tmp_path / "idx", settings)
    assert not (tmp_path / "idx").exists()


def test_refuses_to_overwrite_a_folder_that_is_not_an_index(
    docs: Path, tmp_path: Path, settings: Settings
) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(IndexFormatError, match="not a memrag index"):
        build_index([docs], precious, settings)
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_index_built_with_another_embedder_is_refused(
    docs: Path, tmp_path: Path, settings: Settings
) -> None:
    out = tmp_path / "idx"
    build_index([docs], out, settings)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["embedder"]["name"] = "bge-large-en"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(EmbedderMismatchError, match="bge-large-en"):
        open_index_dir(out, settings)
    with pytest.raises(EmbedderMismatchError):
        build_index([docs], out, settings)


@pytest.mark.parametrize(
    "damage", ["no-manifest-file", "garbage-manifest", "foreign-json", "store-deleted"]
)
def test_corrupt_or_foreign_index_dirs_are_reported(
    docs: Path, tmp_path: Path, settings: Settings, damage: str
) -> None:
    out = tmp_path / "idx"
    build_index([docs], out, settings)
    if damage == "no-manifest-file":
        (out / "manifest.json").unlink()
    elif damage == "garbage-manifest":
        (out / "manifest.json").write_text("{not json")
    elif damage == "foreign-json":
        (out / "manifest.json").write_text('{"format": "chroma"}')
    else:
        (out / "passages.sqlite").unlink()
    with pytest.raises(IndexFormatError, match="idx"):
        open_index_dir(out, settings)


class _FailingEmbedder(Embedder):
    """Wraps a real embedder, counts texts, and fails on a chosen call like a killed process."""

    def __init__(self, inner: Embedder, fail_on_call: int | None) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.fail_on_call, self.calls, self.texts = fail_on_call, 0, 0

    @property
    def cache_key(self) -> str:
        return self.inner.cache_key

    def embed(self, texts, *, show_progress=False):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt
        self.texts += len(texts)
        return self.inner.embed(texts)


def test_interrupted_build_keeps_the_previous_index_and_resumes(
    docs: Path, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "idx"
    build_index([docs / "eiffel_tower.md"], out, settings)
    before = open_index_dir(out, settings).store.ids()

    real = make_embedder(settings.embedder.model_copy(update={"cache": False}), settings.cache_dir)
    flaky = _FailingEmbedder(real, fail_on_call=3)
    monkeypatch.setattr(
        builder_module,
        "make_embedder",
        lambda *_: CachedEmbedder(flaky, tmp_path / "e", chunk_size=2),
    )
    with pytest.raises(KeyboardInterrupt):
        build_index([docs], out, settings)
    assert open_index_dir(out, settings).store.ids() == before
    assert [p.name for p in tmp_path.glob(".idx.*")] == [".idx.lock"]  # no staging left
    embedded_before_kill = flaky.texts
    assert embedded_before_kill == 4

    steady = _FailingEmbedder(real, fail_on_call=None)
    monkeypatch.setattr(
        builder_module,
        "make_embedder",
        lambda *_: CachedEmbedder(steady, tmp_path / "e", chunk_size=2),
    )
    report = build_index([docs], out, settings)
    assert steady.texts == report.added - embedded_before_kill
    assert open_index_dir(out, settings).store.ids() != before


def test_swap_interrupted_between_renames_is_recovered(
    docs: Path, tmp_path: Path, settings: Settings
) -> None:
    out = tmp_path / "idx"
    build_index([docs], out, settings)
    out.rename(tmp_path / ".idx.old")  # as if killed after moving the old version aside
    idx = open_index_dir(out, settings)
    assert len(idx.store) > 0


def test_passage_ids_are_content_hashes(docs: Path, tmp_path: Path, settings: Settings) -> None:
    build_index([docs / "telescopes.json"], tmp_path / "idx", settings)
    records = json.loads((docs / "telescopes.json").read_text())
    ids = set(open_index_dir(tmp_path / "idx", settings).store.ids())
    assert ids == {passage_id(r["text"], r["title"]) for r in records}
    assert np.all([len(i) == 16 for i in ids])


def test_a_reader_mid_swap_reads_the_previous_index_and_moves_nothing(
    docs: Path, tmp_path: Path, settings: Settings
) -> None:
    out = tmp_path / "idx"
    build_index([docs], out, settings)
    retired = tmp_path / ".idx.old"
    out.rename(retired)  # the instant between a build's two renames
    with open_index_dir(out, settings) as idx:
        assert len(idx.store) > 0 and set(idx.indexes) == {"dense", "bm25"}
    assert retired.is_dir() and not out.exists()
    build_index([docs], out, settings)  # the next writer finishes the swap
    assert out.is_dir() and not retired.exists()


def test_ensure_built_builds_once(docs: Path, tmp_path: Path, settings: Settings) -> None:
    out = tmp_path / "idx"
    assert builder_module.ensure_built([docs], out, settings) is not None
    assert builder_module.ensure_built([docs], out, settings) is None


def test_counts_are_by_passage_id_and_a_no_op_keeps_the_build_timings(
    tmp_path: Path, settings: Settings
) -> None:
    corpus = tmp_path / "docs" / "corpus.json"
    corpus.parent.mkdir()
    records = [{"title": "A", "text": "Alpha stays the same."}, {"title": "B", "text": "Beta v1."}]
    corpus.write_text(json.dumps(records))
    out = tmp_path / "idx"
    first = build_index([corpus.parent], out, settings)
    assert (first.added, first.removed, first.passages) == (2, 0, 2)
    timings = json.loads((out / "manifest.json").read_text())["build"]
    assert timings["stage_seconds"]
    noop = build_index([corpus.parent], out, settings)
    assert (noop.added, noop.removed) == (0, 0)
    assert json.loads((out / "manifest.json").read_text())["build"] == timings
    records[1]["text"] = "Beta v2."
    corpus.write_text(json.dumps(records))
    update = build_index([corpus.parent], out, settings)
    assert (update.added, update.removed, update.passages) == (1, 1, 2)


def test_changed_chunking_rechunks_every_file(
    docs: Path, tmp_path: Path, settings: Settings
) -> None:
    out = tmp_path / "idx"
    first = build_index([docs], out, settings)
    small = settings.model_copy(
        update={
            "chunking": settings.chunking.model_copy(update={"chunk_size": 32, "chunk_overlap": 8})
        }
    )
    again = build_index([docs], out, small)
    assert again.sources_read == 6 and again.passages > first.passages
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["chunking"] == {
        "chunk_size": 32,
        "chunk_overlap": 8,
        "reading": READING_VERSION,
    }


def test_an_overlap_as_long_as_a_passage_is_refused() -> None:
    from rag.errors import ConfigError
    from rag.settings import load_settings

    with pytest.raises(ConfigError, match="chunk_overlap \\(64\\) must be smaller"):
        load_settings(overrides={"chunking": {"chunk_size": 64}})


def test_unreadable_files_folders_and_dangling_links_are_skipped_and_listed(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    docs = tmp_path / "docs"
    (docs / "locked").mkdir(parents=True)
    (docs / "good.txt").write_text("The good file is read.")
    (docs / "bad.txt").write_text("This file cannot be opened.")
    (docs / "locked" / "inner.txt").write_text("Behind a folder that cannot be listed.")
    (docs / "link.md").symlink_to(tmp_path / "gone.md")
    # As root nothing is unreadable, so the OS refusals are simulated where they happen.
    real_open, real_scandir = os.open, os.scandir

    def refusing_open(path: str, flags: int, mode: int = 0o777) -> int:
        if str(path).endswith("bad.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, mode)

    def refusing_scandir(path: str = ".") -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "open", refusing_open)
    monkeypatch.setattr(os, "scandir", refusing_scandir)
    report = build_index([docs], tmp_path / "idx", settings)
    assert report.passages == 1
    reasons = {Path(p).name: r for p, r in report.skipped.items()}
    assert reasons["bad.txt"].startswith("cannot read: Permission denied")
    assert reasons["locked"].startswith("cannot read folder: Permission denied")
    assert reasons["link.md"].startswith("dangling link to")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert len(manifest["build"]["skipped"]) == 3


def test_a_second_folder_adds_to_an_index_and_deletions_stay_in_their_folder(
    tmp_path: Path, settings: Settings
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "one.txt").write_text("Alpha one lives in folder A.")
    (a / "two.txt").write_text("Alpha two lives in folder A as well.")
    (b / "three.txt").write_text("Beta three lives in folder B.")
    out = tmp_path / "idx"
    build_index([a], out, settings)
    second = build_index([b], out, settings)
    assert (second.added, second.removed, second.passages) == (1, 0, 3)
    (a / "two.txt").unlink()
    update = build_index([a], out, settings)
    assert (update.added, update.removed, update.passages) == (0, 1, 2)
    manifest = json.loads((out / "manifest.json").read_text())
    assert {Path(p).name for p in manifest["sources"]} == {"one.txt", "three.txt"}
    assert manifest["roots"] == sorted([str(a.resolve()), str(b.resolve())])
    small = settings.model_copy(
        update={
            "chunking": settings.chunking.model_copy(update={"chunk_size": 64, "chunk_overlap": 8})
        }
    )
    rechunked = build_index([a], out, small)  # a new chunking re-reads every root, B too
    assert rechunked.passages == 2 and rechunked.sources_read == 2
