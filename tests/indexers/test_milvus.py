"""The Milvus kind: conformance on Milvus Lite (FLAT and HNSW) and on a Lite server by URI,
plus what an index dir needs: a closed Lite folder inside the kind's folder, checksummed,
never written by a reader, and results equal to the FAISS flat index's."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from indexers.base import Index
from indexers.builder import build_index
from indexers.context import BuildContext
from indexers.index_dir import open_index_dir
from indexers.milvus import MilvusIndex, MilvusSettings
from indexers.milvus.connection import LITE_FOLDER, LITE_LOCK
from indexers.vector import VectorIndex, VectorSettings
from rag.embed.base import Embedder
from rag.errors import ConfigError, IndexFormatError, MemragError, MissingExtraError
from rag.settings import Settings
from rag.types import Passage
from tests.conftest import FACTS
from tests.indexers.conformance import IndexConformance

HAVE_MILVUS = all(importlib.util.find_spec(m) for m in ("pymilvus", "milvus_lite"))
needs_milvus = pytest.mark.skipif(
    not HAVE_MILVUS, reason="needs pymilvus and milvus-lite: pip install 'memrag[milvus]'"
)


@needs_milvus
class TestMilvusLiteFlat(IndexConformance):
    def make_index(self, embedder: Embedder) -> Index:
        return MilvusIndex(embedder, MilvusSettings())


@needs_milvus
class TestMilvusLiteHNSW(IndexConformance):
    def make_index(self, embedder: Embedder) -> Index:
        params: dict[str, int | float | str] = {"M": 16, "efConstruction": 64}
        return MilvusIndex(embedder, MilvusSettings(index_type="HNSW", index_params=params))

    def search_configs(self) -> list[dict[str, Any]]:
        return [{"ef": 4}, {"ef": 256}]


def _free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Milvus Lite gRPC server in a child process: the same protocol a Milvus server speaks."""
    if not HAVE_MILVUS:
        pytest.skip("needs pymilvus and milvus-lite: pip install 'memrag[milvus]'")
    port, data = _free_port(), tmp_path_factory.mktemp("milvus-server")
    command = [sys.executable, "-m", "milvus_lite.cmdline", "server", "--data-dir", str(data)]
    # Its log goes to a file: an unread pipe would fill up and stall the server.
    log = (tmp_path_factory.mktemp("milvus-log") / "server.log").open("wb")
    server = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if server.poll() is not None:
                pytest.fail(f"milvus-lite server exited: {Path(log.name).read_text()}")
            time.sleep(0.1)
        else:
            pytest.fail(f"milvus-lite server not listening on {port} after 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@needs_milvus
class TestMilvusServer(IndexConformance):
    @pytest.fixture(autouse=True)
    def _uri(self, server_uri: str) -> None:
        self.uri = server_uri

    def make_index(self, embedder: Embedder) -> Index:
        name = f"t_{uuid.uuid4().hex[:12]}"
        settings = Settings(show_progress=False).with_section(
            "milvus", uri=self.uri, collection=name
        )
        return MilvusIndex.create(BuildContext(embedder, settings))


def _lite(embedder: Embedder, passages: list[Passage]) -> MilvusIndex:
    index = MilvusIndex(embedder, MilvusSettings())
    index.add(passages)
    return index


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below `folder` with its size and modification time."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


@needs_milvus
def test_save_writes_a_closed_lite_folder_inside_the_kind_folder(
    tmp_path: Path, embedder: Embedder, passages: list[Passage]
) -> None:
    index = _lite(embedder, passages)
    index.save(tmp_path / "milvus")
    lite = tmp_path / "milvus" / LITE_FOLDER
    names = _files(lite)
    assert any(n.endswith(".parquet") for n in names), names
    assert LITE_LOCK not in names
    # The index stays usable after a save (its engine reopens).
    assert index.search("Eiffel Tower Paris", 1)[0].passage_id == passages[0].id


@needs_milvus
def test_loading_and_searching_never_write_the_saved_folder(
    tmp_path: Path, embedder: Embedder, passages: list[Passage]
) -> None:
    _lite(embedder, passages).save(tmp_path / "milvus")
    before = _files(tmp_path / "milvus")
    loaded = MilvusIndex.load(tmp_path / "milvus", BuildContext(embedder, Settings()))
    loaded.delete([passages[0].id])
    loaded.add([Passage.from_text("The Nile flows north through Egypt.", title="Nile")])
    assert loaded.search("Nile Egypt", 1)
    assert _files(tmp_path / "milvus") == before


@needs_milvus
def test_ids_and_scores_equal_the_faiss_flat_index(
    embedder: Embedder, passages: list[Passage]
) -> None:
    milvus = _lite(embedder, passages)
    flat = VectorIndex(embedder, VectorSettings(kind="flat", device="cpu"))
    flat.add(passages)
    for _, text in FACTS:
        ours, theirs = milvus.search(text, 5), flat.search(text, 5)
        assert [h.passage_id for h in ours] == [h.passage_id for h in theirs]
        assert [h.score for h in ours] == pytest.approx([h.score for h in theirs], abs=1e-5)


@needs_milvus
def test_an_index_dir_checks_the_lite_folder_against_the_manifest(
    tmp_path: Path, settings: Settings
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for title, text in FACTS:
        (docs / f"{title}.txt").write_text(text)
    build_index([docs], tmp_path / "idx", settings, ["dense", "milvus"])
    (docs / "Nile.txt").write_text("The Nile flows north through Egypt to the Mediterranean.")
    report = build_index([docs], tmp_path / "idx", settings, ["dense", "milvus"])
    assert report.added == 1
    with open_index_dir(tmp_path / "idx", settings) as idx:
        assert len(idx.indexes["milvus"]) == len(FACTS) + 1
        for text in ("Nile Egypt", "radium Nobel"):
            dense = idx.indexes["dense"].search(text, 3)
            milvus = idx.indexes["milvus"].search(text, 3)
            assert [h.passage_id for h in milvus] == [h.passage_id for h in dense]
    segment = next((tmp_path / "idx" / "milvus" / LITE_FOLDER).rglob("*.parquet"))
    segment.write_bytes(segment.read_bytes()[:-1] + b"\0")
    with (
        open_index_dir(tmp_path / "idx", settings) as idx,
        pytest.raises(IndexFormatError, match=segment.name),
    ):
        idx.indexes["milvus"]


@needs_milvus
def test_a_server_collection_of_that_name_is_replaced_only_when_allowed(
    server_uri: str, embedder: Embedder, passages: list[Passage]
) -> None:
    name = f"t_{uuid.uuid4().hex[:12]}"

    def create(drop: bool) -> MilvusIndex:
        settings = Settings().with_section(
            "milvus", uri=server_uri, collection=name, drop_existing=drop
        )
        return MilvusIndex.create(BuildContext(embedder, settings))

    create(False).add(passages)
    with pytest.raises(ConfigError, match="already exists"):
        create(False)
    assert len(create(True)) == 0


@pytest.mark.parametrize("uri", ["./elsewhere.db", "ftp://host:19530"])
def test_a_uri_the_kind_cannot_use_is_a_config_error(uri: str, embedder: Embedder) -> None:
    with pytest.raises(ConfigError, match=r"milvus\.uri"):
        MilvusIndex(embedder, MilvusSettings(uri=uri))


def test_without_the_extra_the_error_names_it(
    monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(MissingExtraError, match=r"memrag\[milvus\]"):
        MilvusIndex(embedder, MilvusSettings())


@needs_milvus
def test_a_server_collection_ahead_of_the_dir_is_reported_at_load(
    tmp_path: Path, server_uri: str, embedder: Embedder, passages: list[Passage]
) -> None:
    settings = Settings().with_section(
        "milvus", uri=server_uri, collection=f"t_{uuid.uuid4().hex[:12]}"
    )
    index = MilvusIndex.create(BuildContext(embedder, settings))
    index.add(passages[:4])
    index.save(tmp_path / "milvus")
    assert not (tmp_path / "milvus" / LITE_FOLDER).exists()
    index.add(passages[4:])  # an update that failed before its dir was swapped in
    with pytest.raises(IndexFormatError, match="holds 8 rows"):
        MilvusIndex.load(tmp_path / "milvus", BuildContext(embedder, settings))


@needs_milvus
def test_new_milvus_settings_rebuild_the_kind(tmp_path: Path, settings: Settings) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for title, text in FACTS[:4]:
        (docs / f"{title}.txt").write_text(text)
    build_index([docs], tmp_path / "idx", settings, ["milvus"])
    hnsw = settings.with_section("milvus", index_type="HNSW")
    build_index([docs], tmp_path / "idx", hnsw, ["milvus"])
    saved = MilvusIndex.saved_build_config(tmp_path / "idx" / "milvus")
    assert isinstance(saved, MilvusSettings) and saved.index_type == "HNSW"
    with open_index_dir(tmp_path / "idx", settings) as idx:
        assert idx.indexes["milvus"].search("Eiffel Tower Paris", 1)[0].retriever == "milvus"


@needs_milvus
def test_a_server_that_cannot_be_reached_is_named(embedder: Embedder) -> None:
    uri = f"http://127.0.0.1:{_free_port()}"
    settings = Settings().with_section("milvus", uri=uri)
    with pytest.raises(MemragError, match=f"{uri}: cannot open Milvus"):
        MilvusIndex.create(BuildContext(embedder, settings))


@needs_milvus
def test_a_damaged_config_is_an_index_format_error(
    tmp_path: Path, embedder: Embedder, passages: list[Passage]
) -> None:
    _lite(embedder, passages).save(tmp_path / "milvus")
    (tmp_path / "milvus" / "config.json").write_text('{"dim": 384, "metric": "L7"}')
    with pytest.raises(IndexFormatError, match="unreadable milvus index"):
        MilvusIndex.load(tmp_path / "milvus", BuildContext(embedder, Settings()))
