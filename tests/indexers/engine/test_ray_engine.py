"""The Ray engine against the in-process one: the same index dir from the same files, every kind;
a batch that fails names its file and leaves the previous index, and the rerun resumes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from indexers.builder import build_index
from indexers.engine.stages import StageError
from rag.manifest import read_manifest
from rag.settings import Settings
from rag.store import PassageStore
from tests.conftest import SAMPLE
from tests.indexers.engine.failing_stages import FAILING_FILE, FailingExtractActor
from tests.ray_local import local_ray

ray = pytest.importorskip("ray", reason="the Ray engine needs memrag[ray] (pip install ray[data])")

from indexers.engine.ray_engine import RayEngine, RayStages  # noqa: E402

KINDS = ["dense", "bm25", "graph", "tree"]


@pytest.fixture(scope="module")
def ray_runtime() -> Iterator[None]:
    """One local Ray runtime of 2 CPUs for the module."""
    with local_ray():
        yield


@pytest.fixture(scope="module")
def builds(ray_runtime: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample corpus built in-process, then with Ray from empty caches (same model files)."""
    root = tmp_path_factory.mktemp("engines")
    settings = Settings(cache_dir=root / "cache", show_progress=False)
    build_index([SAMPLE], root / "local", settings, KINDS)
    # Ray must compute every vector and extraction itself, not find the local build's.
    for done in ("embeddings", "openie"):
        shutil.rmtree(root / "cache" / done, ignore_errors=True)
    report = build_index([SAMPLE], root / "ray", settings, KINDS, engine=RayEngine(settings))
    assert report.cached == {"embeddings": 0, "extractions": 0}
    return {"local": root / "local", "ray": root / "ray", "root": root}


def _ids(out: Path) -> list[str]:
    """The stored passage ids, sorted."""
    store = PassageStore(out / PassageStore.FILENAME)
    try:
        return sorted(store.ids())
    finally:
        store.close()


def _nodes(out: Path) -> list[dict[str, object]]:
    """The tree's nodes as saved (ids, levels, children and texts)."""
    lines = (out / "tree" / "nodes.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_every_kind_is_the_same_built_with_ray(builds: dict[str, Path]) -> None:
    local, remote = builds["local"], builds["ray"]
    assert _ids(local) == _ids(remote) and len(_ids(local)) > 6
    ours, theirs = read_manifest(local), read_manifest(remote)
    assert ours.indexes == theirs.indexes == KINDS
    assert ours.counts == theirs.counts  # passages, sources, graph entities and facts, tree nodes
    assert theirs.build["engine"] == "ray" and "ray:embed" in theirs.build["stage_seconds"]
    for name in ("passage_vectors.npy", "entity_vectors.npy", "fact_vectors.npy"):
        a, b = np.load(local / "graph" / name), np.load(remote / "graph" / name)
        assert a.shape == b.shape and np.allclose(a, b, atol=1e-5), name
    a, b = np.load(local / "tree" / "vectors.npy"), np.load(remote / "tree" / "vectors.npy")
    assert np.allclose(a, b, atol=1e-5)
    assert _nodes(local) == _nodes(remote)
    graph = [json.loads((d / "graph" / "graph.json").read_text()) for d in (local, remote)]
    assert graph[0] == graph[1]


def test_a_failing_batch_names_its_file_keeps_the_index_and_the_rerun_resumes(
    builds: dict[str, Path],
) -> None:
    root = builds["root"]
    docs = Path(shutil.copytree(SAMPLE, root / "docs"))
    out = Path(shutil.copytree(builds["ray"], root / "update"))
    (docs / FAILING_FILE).write_text("The Danube flows through ten countries to the Black Sea.")
    settings = Settings(cache_dir=root / "cache", show_progress=False)
    before = _ids(out)
    failing = RayStages(extract=FailingExtractActor)
    with pytest.raises(StageError, match=FAILING_FILE):
        build_index([docs], out, settings, KINDS, engine=RayEngine(settings, failing))
    assert _ids(out) == before and read_manifest(out).counts == read_manifest(builds["ray"]).counts
    report = build_index([docs], out, settings, KINDS, engine=RayEngine(settings))
    # The new passage was embedded before the extraction failed: the rerun finds its vector.
    assert report.added == 1 and report.cached["embeddings"] == 1
    assert len(_ids(out)) == len(before) + 1
