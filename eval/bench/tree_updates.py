"""Incremental tree updates: insert a corpus one passage at a time, then delete some.

Measures what the issue of online memories asks: time per insert, summaries recomputed per
insert and per delete, and whether the tree still passes its load checks after the edits.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from indexers.context import BuildContext
from indexers.tree import TreeIndex, TreeSettings
from rag.embed import make_embedder
from rag.ingest import chunk_documents, discover_sources, read_source
from rag.settings import Settings
from rag.types import Passage


def corpus_passages(path: Path, settings: Settings) -> list[Passage]:
    """The passages `rag index` would make of a file or folder, in reading order."""
    docs = [d for source in discover_sources([path]) for d in read_source(source)]
    return list({p.id: p for p in chunk_documents(docs, settings.chunking)}.values())


def _percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95 and mean of a list, in milliseconds (values are seconds)."""
    data = np.array(values) * 1000
    return {
        "p50_ms": round(float(np.percentile(data, 50)), 2),
        "p95_ms": round(float(np.percentile(data, 95)), 2),
        "mean_ms": round(float(data.mean()), 2),
    }


def bench_tree_updates(
    corpus: Path,
    settings: Settings,
    builder: str = "memtree",
    deletes: int = 100,
    limit: int = 0,
    initial: int = 0,
) -> dict[str, Any]:
    """Build from the first `initial` passages at once, insert every other passage of `corpus`
    alone, delete `deletes` of them, save and reload."""
    passages = corpus_passages(corpus, settings)
    if limit:
        passages = passages[:limit]
    embedder = make_embedder(settings.embedder, settings.cache_dir)
    vectors = embedder.embed(
        [p.embedding_text for p in passages], show_progress=settings.show_progress
    )
    index = TreeIndex(embedder, TreeSettings.model_validate({"builder": builder}))
    start = time.perf_counter()
    if initial:
        index.add(passages[:initial], vectors[:initial])
    build_s = time.perf_counter() - start
    insert_s, insert_summaries = [], []
    pairs = list(zip(passages, vectors, strict=True))[initial:]
    for passage, vector in tqdm(pairs, desc="insert", disable=not settings.show_progress):
        start = time.perf_counter()
        index.add([passage], vector[None, :])
        insert_s.append(time.perf_counter() - start)
        insert_summaries.append(index.last_update["summaries"])
    delete_s, delete_summaries = [], []
    rng = np.random.default_rng(0)
    for i in rng.choice(len(passages), size=min(deletes, len(passages)), replace=False):
        start = time.perf_counter()
        index.delete([passages[int(i)].id])
        delete_s.append(time.perf_counter() - start)
        delete_summaries.append(index.last_update.get("summaries", 0))
    with tempfile.TemporaryDirectory() as tmp:
        index.save(Path(tmp) / "tree")
        loaded = TreeIndex.load(Path(tmp) / "tree", BuildContext(embedder, settings))
        size = sum(f.stat().st_size for f in (Path(tmp) / "tree").iterdir())
    levels = [n.level for n in loaded.tree.nodes.values()]
    return {
        "builder": builder,
        "passages": len(passages),
        "initial_build": {"passages": initial, "seconds": round(build_s, 2)},
        "inserts": len(insert_s),
        "insert": _percentiles(insert_s),
        "summaries_per_insert": round(float(np.mean(insert_summaries)), 2),
        "deletes": len(delete_s),
        "delete": _percentiles(delete_s),
        "summaries_per_delete": round(float(np.mean(delete_summaries)), 2),
        "after": {
            "passages": len(loaded),
            "nodes": len(loaded.tree),
            "height": max(levels, default=0),
            "roots": len(loaded.tree.roots()),
            "load_check": "passed",
            "bytes": size,
        },
    }
