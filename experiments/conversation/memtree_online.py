"""Issue 26 item 5: MemTree over a conversation, inserted online (session by session, in time
order, as an assistant's memory grows) against its batch build (all turns in one insert,
still in time order) and against dense retrieval, Recall@5 on the conversation's questions.

Each session is written as its own corpus file; the online index is built by `build_index`
once per session with the files so far (each call adds only the new session's turns, and
MemTree re-summarizes the paths they touch); the batch index is built once from all files.
Run with RAG_TREE__BUILDER=memtree (the env selects the tree builder):

    RAG_TREE__BUILDER=memtree python experiments/conversation/memtree_online.py \
        ../shared/data/locomo-dev/locomo-dev.json OUT conv-26 conv-30
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from eval.datasets.locomo import load_locomo
from eval.metrics import recall_at_k
from indexers.builder import build_index
from pipelines.rag_index import RagIndex
from rag.settings import load_settings


def _session_files(corpus: Path, folder: Path) -> list[Path]:
    """The conversation's corpus split into one file per session, in session order."""
    by_session: dict[int, list[str]] = {}
    for line in corpus.read_text().splitlines():
        if line.strip():
            by_session.setdefault(json.loads(line)["session"], []).append(line)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for session, lines in sorted(by_session.items()):
        path = folder / f"session-{session:02d}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        files.append(path)
    return files


def main(path: str, out: str, samples: list[str]) -> None:
    """Print Recall@5 of memtree online, memtree batch and dense per conversation."""
    settings = load_settings()
    ds = load_locomo(Path(path), "locomo-dev", {}, settings)
    rows = []
    for sample in samples:
        files = _session_files(ds.documents[sample], Path(out) / sample / "sessions")
        online, batch = Path(out) / sample / "online", Path(out) / sample / "batch"
        start = time.perf_counter()
        for n in range(1, len(files) + 1):
            build_index(files[:n], online, settings, ["dense", "tree"])
        online_s = time.perf_counter() - start
        start = time.perf_counter()
        build_index(files, batch, settings, ["dense", "tree"])
        batch_s = time.perf_counter() - start
        questions = [q for q in ds.questions if q.metadata["document"] == sample and q.gold_ids]
        scores: dict[str, list[float]] = {"online": [], "batch": [], "dense": []}
        with RagIndex.open(online, settings) as on, RagIndex.open(batch, settings) as off:
            for q in questions:
                for name, index, pipe in (
                    ("online", on, "memtree"),
                    ("batch", off, "memtree"),
                    ("dense", off, "dense"),
                ):
                    hits = [h.passage_id for h in index.search(q.question, 5, pipe)]
                    scores[name].append(recall_at_k(hits, q.gold_ids, 5) or 0.0)
        means = {k: float(np.mean(v)) for k, v in scores.items()}
        rows.append((sample, len(files), len(questions), means, online_s, batch_s))
    print(
        "| conversation | sessions | questions | memtree online | memtree batch | dense "
        "| build s online / batch |"
    )
    print("|---|---|---|---|---|---|---|")
    for sample, sessions, n, m, on_s, off_s in rows:
        print(
            f"| {sample} | {sessions} | {n} | {m['online']:.3f} | {m['batch']:.3f} "
            f"| {m['dense']:.3f} | {on_s:.0f} / {off_s:.0f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
