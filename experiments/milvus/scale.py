"""Milvus Lite (FLAT) beside FAISS flat as the corpus grows: add, save, load, search, disk.

    python experiments/milvus/scale.py --sizes 10000,66000 --queries 100

Random 384-d unit vectors (both indexes are exact, so only cost is measured here; equality of
results is experiments/milvus/compare_faiss.py's job, on real embeddings). The kinds take turns
per query so that a busy machine slows both alike. Prints one JSON row per kind and size.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.queries import latency_ms
from indexers.context import BuildContext
from indexers.milvus import MilvusIndex, MilvusSettings
from indexers.vector import VectorIndex, VectorSettings
from rag.embed.base import Embedder
from rag.settings import Settings


class _Dim(Embedder):
    """Stands in for the embedder: only its name and dimension are read."""

    name, dim = "random-384", 384

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        """Never called: every vector here is given."""
        raise NotImplementedError("scale.py passes vectors")


def measure(n: int, queries: int, folder: Path) -> list[dict[str, Any]]:
    """Rows for both kinds at `n` vectors."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"{i:016x}" for i in range(n)]
    asked = vectors[rng.choice(n, queries, replace=False)]
    embedder, context = _Dim(), BuildContext(_Dim(), Settings(show_progress=False))
    made = {
        "dense": VectorIndex(embedder, VectorSettings(kind="flat", device="cpu")),
        "milvus": MilvusIndex(embedder, MilvusSettings()),
    }
    rows: dict[str, dict[str, Any]] = {}
    loaded = {}
    for kind, index in made.items():
        start = time.perf_counter()
        index.add_vectors(ids, vectors)  # type: ignore[attr-defined]
        added = time.perf_counter() - start
        start = time.perf_counter()
        index.save(folder / f"{kind}-{n}")
        saved = time.perf_counter() - start
        start = time.perf_counter()
        loaded[kind] = type(index).load(folder / f"{kind}-{n}", context)
        load_s = time.perf_counter() - start
        disk = sum(p.stat().st_size for p in (folder / f"{kind}-{n}").rglob("*") if p.is_file())
        rows[kind] = {"kind": kind, "vectors": n, "add_s": round(added, 2),
                      "save_s": round(saved, 2), "load_s": round(load_s, 2),
                      "disk_mb": round(disk / 1e6, 1)}  # fmt: skip
    seconds: dict[str, list[float]] = {kind: [] for kind in loaded}
    for query in asked:
        for kind, index in loaded.items():
            start = time.perf_counter()
            index.search_vectors(query[None, :], 10)  # type: ignore[attr-defined]
            seconds[kind].append(time.perf_counter() - start)
    for kind, spent in seconds.items():
        lat = latency_ms(spent)
        rows[kind].update({"p50_ms": lat["p50"], "p95_ms": lat["p95"]})
    return list(rows.values())


def main() -> None:
    """Command line: --sizes, --queries."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,66000")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for n in (int(s) for s in args.sizes.split(",")):
            for row in measure(n, args.queries, Path(folder)):
                print(json.dumps(row))  # a script's report, not library code


if __name__ == "__main__":
    main()
