"""The FAISS vector index: conformance for each FAISS kind, plus dense-specific behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexers.base import Index
from indexers.context import BuildContext
from indexers.vector import VectorIndex, VectorSettings, _gpu_count
from rag.embed.base import Embedder
from rag.errors import IndexFormatError, MemragError
from rag.settings import Settings
from rag.types import Passage
from tests.indexers.conformance import IndexConformance


class TestFlat(IndexConformance):
    def make_index(self, embedder: Embedder) -> Index:
        return VectorIndex(embedder, VectorSettings(kind="flat", device="cpu"))


class TestHNSW(IndexConformance):
    def make_index(self, embedder: Embedder) -> Index:
        return VectorIndex(embedder, VectorSettings(kind="hnsw", device="cpu"))

    def search_configs(self) -> list[dict[str, Any]]:
        return [{"ef_search": 4}, {"ef_search": 512}]


class TestIVF(IndexConformance):
    def make_index(self, embedder: Embedder) -> Index:
        return VectorIndex(embedder, VectorSettings(kind="ivf", device="cpu"))

    def search_configs(self) -> list[dict[str, Any]]:
        return [{"nprobe": 1}]


class TestIVFSQ8(IndexConformance):
    def make_index(self, embedder: Embedder) -> Index:
        return VectorIndex(embedder, VectorSettings(kind="ivf", ivf_storage="sq8", device="cpu"))


class TestAutoPastFlat(IndexConformance):
    """auto with a tiny flat threshold: every conformance corpus is built as IVF."""

    def make_index(self, embedder: Embedder) -> Index:
        return VectorIndex(embedder, VectorSettings(auto_flat_max=4, device="cpu"))


def _context(embedder: Embedder) -> BuildContext:
    return BuildContext(embedder, Settings(show_progress=False))


def test_scores_are_cosine_similarities(embedder: Embedder, passages: list[Passage]) -> None:
    index = VectorIndex(embedder, VectorSettings(device="cpu"))
    index.add(passages)
    query = "Who wrote the first computer program?"
    hit = index.search(query, 1)[0]
    expected = float(embedder.embed_query(query) @ embedder.embed([passages[5].embedding_text])[0])
    assert hit.passage_id == passages[5].id
    assert hit.score == pytest.approx(expected, abs=1e-4)


def test_vectors_of_the_wrong_shape_are_refused(embedder: Embedder) -> None:
    index = VectorIndex(embedder, VectorSettings(device="cpu"))
    with pytest.raises(ValueError, match="vectors of dim"):
        index.add_vectors(["0123456789abcdef"], np.zeros((1, 3), dtype=np.float32))


def test_loading_with_an_embedder_of_another_dim_fails(
    tmp_path: Path, embedder: Embedder, passages: list[Passage]
) -> None:
    index = VectorIndex(embedder, VectorSettings(device="cpu"))
    index.add(passages)
    index.save(tmp_path / "v")

    class Tiny(Embedder):
        name, dim = "tiny", 3

        def embed(self, texts, *, show_progress=False):  # type: ignore[no-untyped-def]
            return np.ones((len(texts), 3), dtype=np.float32)

    with pytest.raises(IndexFormatError, match="dim 384"):
        VectorIndex.load(tmp_path / "v", _context(Tiny()))


def test_corrupt_faiss_file_is_reported(
    tmp_path: Path, embedder: Embedder, passages: list[Passage]
) -> None:
    index = VectorIndex(embedder, VectorSettings(device="cpu"))
    index.add(passages)
    index.save(tmp_path / "v")
    (tmp_path / "v" / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexFormatError, match="unreadable vector index"):
        VectorIndex.load(tmp_path / "v", _context(embedder))


@pytest.mark.skipif(_gpu_count() > 0, reason="checks the error on a machine without a GPU")
def test_asking_for_a_gpu_without_one_is_a_clear_error(embedder: Embedder) -> None:
    with pytest.raises(MemragError, match="gpu"):
        VectorIndex(embedder, VectorSettings(device="gpu"))


@pytest.mark.gpu
@pytest.mark.skipif(_gpu_count() == 0, reason="needs faiss-gpu and a CUDA GPU")
def test_gpu_search_matches_cpu(embedder: Embedder, passages: list[Passage]) -> None:
    cpu = VectorIndex(embedder, VectorSettings(device="cpu"))
    gpu = VectorIndex(embedder, VectorSettings(device="gpu"))
    cpu.add(passages)
    gpu.add(passages)
    query = "Where is the Great Barrier Reef?"
    assert [h.passage_id for h in gpu.search(query, 5)] == [
        h.passage_id for h in cpu.search(query, 5)
    ]
