"""The milvus kind (Milvus Lite, FLAT) beside the FAISS flat `dense` kind on one dataset.

    python experiments/milvus/compare_faiss.py --dataset ../shared/data/musique-100 \\
        --out /tmp/milvus-vs-faiss

Builds one index dir with both kinds (`build_index`, embeddings from the cache), then, with
the questions embedded once: whether the two return the same ids in the same order at k=10,
Recall@2/5/10 of each, search latency per query (the kinds take turns, so a busy machine slows
both alike), time to add every vector to a fresh index, time to load each kind from the dir,
and each kind's size on disk. Writes results.json and results.md into --out.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from statistics import mean
from typing import Any

from eval.bench.queries import latency_ms
from eval.bench.system import machine_info, machine_line
from eval.datasets import load_dataset
from eval.metrics import recall_at_k
from indexers.builder import build_index
from indexers.index_dir import open_index_dir
from indexers.milvus import MilvusIndex, MilvusSettings
from indexers.vector import VectorIndex, VectorSettings
from rag.settings import Settings

KINDS = {"dense": VectorIndex, "milvus": MilvusIndex}


def folder_bytes(folder: Path) -> int:
    """Bytes of every file below `folder`."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def compare(dataset: Path, out: Path, k: int = 10) -> dict[str, Any]:
    """Build, search and measure both kinds; the figures as a dict."""
    settings = Settings(show_progress=False)
    ds = load_dataset(dataset, settings=settings)
    index_dir = out / "index"
    report = build_index([ds.corpus_path], index_dir, settings, list(KINDS))
    with open_index_dir(index_dir, settings) as idx:
        load_s = {}
        for kind in KINDS:
            start = time.perf_counter()
            idx.indexes[kind]  # loads (and checks) the kind
            load_s[kind] = time.perf_counter() - start
        dense, milvus = idx.indexes["dense"], idx.indexes["milvus"]
        assert isinstance(dense, VectorIndex) and isinstance(milvus, MilvusIndex)
        queries = idx.embedder.embed([q.question for q in ds.questions])
        seconds: dict[str, list[float]] = {kind: [] for kind in KINDS}
        ranked: dict[str, list[list[str]]] = {kind: [] for kind in KINDS}
        for vector in queries:
            for kind, index in (("dense", dense), ("milvus", milvus)):
                start = time.perf_counter()
                hits = index.search_vectors(vector[None, :], k)[0]
                seconds[kind].append(time.perf_counter() - start)
                ranked[kind].append([h.passage_id for h in hits])
        passages = list(idx.store.iter_passages())
        vectors = idx.embedder.embed([p.embedding_text for p in passages])
        add_s = {}
        for kind, fresh in (
            ("dense", VectorIndex(idx.embedder, VectorSettings(kind="flat", device="cpu"))),
            ("milvus", MilvusIndex(idx.embedder, MilvusSettings())),
        ):
            start = time.perf_counter()
            fresh.add(passages, vectors)
            add_s[kind] = time.perf_counter() - start
    rows = []
    for kind in KINDS:
        lat = latency_ms(seconds[kind])
        recalls = {
            f"recall@{cut}": round(
                mean(
                    r
                    for q, ids in zip(ds.questions, ranked[kind], strict=True)
                    if (r := recall_at_k(ids, q.gold_ids, cut)) is not None
                ),
                4,
            )
            for cut in (2, 5, 10)
        }
        rows.append({
            "kind": kind, **recalls, "p50_ms": lat["p50"], "p95_ms": lat["p95"],
            "add_s": round(add_s[kind], 3), "load_s": round(load_s[kind], 3),
            "disk_mb": round(folder_bytes(index_dir / kind) / 1e6, 2),
        })  # fmt: skip
    same = [a == b for a, b in zip(ranked["dense"], ranked["milvus"], strict=True)]
    return {
        "machine": machine_info(),
        "dataset": ds.name,
        "questions": len(ds.questions),
        "passages": report.passages,
        "k": k,
        "same_ids_in_order": f"{sum(same)}/{len(same)}",
        "rows": rows,
    }


def markdown(result: dict[str, Any]) -> str:
    """The figures as a Markdown table with a line on the machine."""
    columns = list(result["rows"][0])
    lines = [
        f"Machine: {machine_line(result['machine'])}",
        f"{result['dataset']}: {result['questions']} questions, {result['passages']} passages; "
        f"same top-{result['k']} ids in the same order: {result['same_ids_in_order']}",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(str(row[c]) for c in columns) + " |" for row in result["rows"]),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Command line: --dataset, --out."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    result = compare(args.dataset, args.out)
    (args.out / "results.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    text = markdown(result)
    (args.out / "results.md").write_text(text)
    print(text)  # a script's report, not library code


if __name__ == "__main__":
    main()
