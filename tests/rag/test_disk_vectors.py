"""Embeddings streamed to memory-mapped .npy files (rag.embed.disk_vectors), real embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.embed.base import Embedder
from rag.embed.disk_vectors import PassageVectors, embed_to_npy
from rag.settings import Settings
from rag.types import Passage
from tests.conftest import SAMPLE


def test_embed_to_npy_matches_embed_and_is_mapped(
    embedder: Embedder, passages: list[Passage], tmp_path: Path
) -> None:
    texts = [p.embedding_text for p in passages]
    mapped = embed_to_npy(embedder, texts, tmp_path / "v.npy", batch_size=3)
    assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
    np.testing.assert_allclose(mapped, embedder.embed(texts), atol=1e-5)
    assert [p.name for p in tmp_path.iterdir()] == ["v.npy"]


def test_failed_embedding_leaves_no_file(embedder: Embedder, tmp_path: Path) -> None:
    class Failing(Embedder):
        name, dim = "failing", embedder.dim

        def embed(self, texts: object, *, show_progress: bool = False) -> np.ndarray:
            raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError, match="model crashed"):
        embed_to_npy(Failing(), ["a", "b"], tmp_path / "v.npy")
    assert list(tmp_path.iterdir()) == []


def test_passage_vectors_embed_once_and_map_fresh_builds(
    embedder: Embedder, passages: list[Passage], tmp_path: Path
) -> None:
    ids = [p.id for p in passages]
    texts = [p.embedding_text for p in passages]
    with PassageVectors(embedder, tmp_path, batch_size=3) as vectors:
        whole = vectors.of(ids, texts)
        # The same ids in the same order: the mapped file itself, not a copy.
        assert isinstance(whole, np.memmap) and vectors.of(ids, texts) is whole
        subset = vectors.of(ids[::-1][:3], texts[::-1][:3])
        assert not isinstance(subset, np.memmap)
        np.testing.assert_array_equal(subset, np.asarray(whole)[::-1][:3])
        folder = next(tmp_path.iterdir())
        assert len(list(folder.glob("*.npy"))) == 1
    assert list(tmp_path.iterdir()) == []


def test_passage_vectors_refuse_mismatched_lengths(embedder: Embedder, tmp_path: Path) -> None:
    with PassageVectors(embedder, tmp_path) as vectors, pytest.raises(ValueError, match="2 ids"):
        vectors.of(["a", "b"], ["only one"])


def test_a_build_hands_the_dense_index_mapped_vectors_and_cleans_up(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from indexers.builder import build_index
    from indexers.vector import VectorIndex

    seen: list[type] = []
    original = VectorIndex.add

    def spy(self: VectorIndex, passages: list[Passage], vectors: np.ndarray | None = None) -> None:
        seen.append(type(vectors))
        original(self, passages, vectors)

    monkeypatch.setattr(VectorIndex, "add", spy)
    # The session cache is shared: a killed build in another test may have left its own folder.
    before = set(settings.cache_dir.glob("build-vectors-*"))
    build_index([SAMPLE], tmp_path / "idx", settings, kinds=["dense"])
    assert seen == [np.memmap]
    assert set(settings.cache_dir.glob("build-vectors-*")) == before
