"""vector.kind auto and FAISS plans: choice by size, growth, rebuilds, old saves, mapped input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from indexers.context import BuildContext
from indexers.faiss_kinds import FaissPlan, VectorSettings, ivf_nlist, memory_bytes, plan_for
from indexers.vector import VectorIndex
from rag.embed.base import Embedder
from rag.embed.disk_vectors import embed_to_npy
from rag.settings import Settings
from rag.types import Passage

ADA = "Who wrote an algorithm for the Analytical Engine?"


def _ids(index: VectorIndex, query: str, k: int = 3) -> list[str]:
    return [h.passage_id for h in index.search(query, k)]


def test_auto_plans_flat_for_small_corpora_and_ivf_for_large() -> None:
    auto = VectorSettings()
    assert plan_for(auto, 10_000).kind == "flat"
    big = plan_for(auto, 1_000_000)
    assert (big.kind, big.nlist, big.nprobe) == ("ivf", 4096, auto.ivf_nprobe)
    assert plan_for(VectorSettings(kind="hnsw"), 10).kind == "hnsw"
    # Never fewer than 39 training points per list.
    assert ivf_nlist(1000) == 25 and ivf_nlist(10) == 1


def test_memory_estimates_per_kind() -> None:
    n, dim = 1_000_000, 384
    flat = memory_bytes(FaissPlan("flat"), n, dim)
    sq8 = memory_bytes(FaissPlan("ivf", nlist=4096, storage="sq8"), n, dim)
    hnsw = memory_bytes(FaissPlan("hnsw", hnsw_m=32), n, dim)
    assert round(flat / 2**20) == 1472 and sq8 < flat / 3 < flat < hnsw


def test_auto_grows_from_flat_to_ivf_keeping_every_passage(
    embedder: Embedder, passages: list[Passage], tmp_path: Path
) -> None:
    index = VectorIndex(embedder, VectorSettings(auto_flat_max=4, device="cpu"))
    index.add(passages[:3])
    assert index.plan is not None and index.plan.kind == "flat"
    index.add(passages[3:])
    assert index.plan is not None and index.plan.kind == "ivf"
    assert index.ids() == {p.id for p in passages}
    assert _ids(index, ADA)[0] == passages[5].id
    index.delete([passages[5].id])
    assert passages[5].id not in _ids(index, ADA, 8)
    index.save(tmp_path / "v")
    built = json.loads((tmp_path / "v" / "config.json").read_text())["built"]
    assert built["kind"] == "ivf" and built["trained_on"] == 8
    loaded = VectorIndex.load(tmp_path / "v", BuildContext(embedder, Settings()))
    assert loaded.plan == index.plan and _ids(loaded, ADA) == _ids(index, ADA)


def test_ivf_retrains_once_grown_past_its_training(
    embedder: Embedder, passages: list[Passage]
) -> None:
    ivf = VectorIndex(embedder, VectorSettings(kind="ivf", device="cpu"))
    flat = VectorIndex(embedder, VectorSettings(kind="flat", device="cpu"))
    ivf.add(passages[:1])
    ivf.add(passages[1:])  # 8 > 4 x 1: retrained on all eight
    flat.add(passages)
    assert ivf._trained_on == 8
    for query in (ADA, "Which river carries the most water?"):
        assert _ids(ivf, query, 8) == _ids(flat, query, 8)


def test_saves_without_a_recorded_plan_still_load_and_delete(
    embedder: Embedder, passages: list[Passage], tmp_path: Path
) -> None:
    for kind in ("flat", "hnsw", "ivf"):
        index = VectorIndex(embedder, VectorSettings(kind=kind, device="cpu"))  # type: ignore[arg-type]
        index.add(passages)
        index.save(tmp_path / kind)
        config_file = tmp_path / kind / "config.json"
        config = json.loads(config_file.read_text())
        del config["built"]
        config_file.write_text(json.dumps(config))
        loaded = VectorIndex.load(tmp_path / kind, BuildContext(embedder, Settings()))
        assert loaded.plan is not None and loaded.plan.kind == kind
        loaded.delete([passages[5].id])
        loaded.add(passages[5:6])
        assert _ids(loaded, ADA)[0] == passages[5].id


def test_memory_mapped_vectors_are_added_as_given(
    embedder: Embedder, passages: list[Passage], tmp_path: Path
) -> None:
    mapped = embed_to_npy(embedder, [p.embedding_text for p in passages], tmp_path / "v.npy")
    from_disk = VectorIndex(embedder, VectorSettings(device="cpu"))
    from_disk.add(passages, mapped)
    direct = VectorIndex(embedder, VectorSettings(device="cpu"))
    direct.add(passages)
    assert _ids(from_disk, ADA, 8) == _ids(direct, ADA, 8)
    assert np.allclose(
        [h.score for h in from_disk.search(ADA, 8)], [h.score for h in direct.search(ADA, 8)]
    )
