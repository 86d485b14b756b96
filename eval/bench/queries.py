"""Query latency per pipeline (retrieval alone and full answer) and Recall@2/5 on gold passages."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eval.bench.system import peak_rss_mb, round_sig, rss_mb
from eval.datasets.corpus import record_passage_id
from eval.metrics import recall_at_k
from rag.errors import InputError
from rag.settings import Settings

if TYPE_CHECKING:
    from pipelines.rag_index import RagIndex

logger = logging.getLogger(__name__)

#: Queries drawn from the corpus when no questions file is given.
SAMPLED_QUERIES = 100


@dataclass(frozen=True)
class BenchQuery:
    """A query and its gold passage ids (None when unknown, as for sampled queries)."""

    text: str
    gold: frozenset[str] | None


def gold_ids(question: dict[str, Any]) -> set[str]:
    """Gold passage ids of a MuSiQue-style question, hashed as the dataset loader hashes them."""
    return {
        record_passage_id(p["paragraph_text"], p["title"])
        for p in question["paragraphs"]
        if p.get("is_supporting")
    }


def load_questions(path: Path) -> list[BenchQuery]:
    """Read a MuSiQue-layout questions file: records with `question` and `paragraphs`."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such questions file") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a JSON questions file ({exc})") from exc
    if not isinstance(records, list) or not records:
        raise InputError(f"{path}: expected a non-empty JSON list of questions")
    try:
        return [BenchQuery(r["question"], frozenset(gold_ids(r)) or None) for r in records]
    except (KeyError, TypeError) as exc:
        raise InputError(
            f"{path}: expected MuSiQue records with 'question' and 'paragraphs' "
            f"(title, paragraph_text, is_supporting); missing {exc}"
        ) from exc


def latency_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50 and p95 of a list of durations, in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1000
    return {
        "p50": round_sig(float(np.percentile(ms, 50)), 3),
        "p95": round_sig(float(np.percentile(ms, 95)), 3),
    }


def _sampled_queries(rag_index: RagIndex, count: int) -> list[BenchQuery]:
    """Queries made of the first words of random passages, for corpora without questions."""
    ids = rag_index.index_dir.store.ids()
    chosen = random.Random(0).sample(ids, min(count, len(ids)))
    passages = rag_index.index_dir.store.get_many(chosen)
    texts = [" ".join(p.text.split()[:12]) for p in passages]
    return [BenchQuery(text, None) for text in texts if text]


def _mean(values: list[float]) -> float | None:
    """Mean rounded to 3 places, or None for no values."""
    return round(float(np.mean(values)), 3) if values else None


def measure_queries(
    index_dir: str, settings_data: dict[str, Any], questions: str | None, pipelines: list[str]
) -> dict[str, Any]:
    """Open the index and time every query through each pipeline; meant for a fresh process."""
    from pipelines.rag_index import RagIndex

    settings = Settings(**settings_data)
    rss_start, start = rss_mb(), time.perf_counter()
    idx = RagIndex.open(index_dir, settings)
    open_s = time.perf_counter() - start
    queries = (
        load_questions(Path(questions)) if questions else _sampled_queries(idx, SAMPLED_QUERIES)
    )
    for name in pipelines:  # load models and fill lazy caches outside the timings
        idx.ask(queries[0].text, pipeline=name)
    rows = []
    for name in pipelines:
        pipe = idx.pipeline(name)
        search_s, answer_s, r2, r5 = [], [], [], []
        for q in queries:
            start = time.perf_counter()
            ranked = [h.passage_id for h in idx.search(q.text, k=5, pipeline=pipe)]
            search_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            idx.ask(q.text, pipeline=pipe)
            answer_s.append(time.perf_counter() - start)
            if q.gold:
                r2.append(recall_at_k(ranked, q.gold, 2) or 0.0)
                r5.append(recall_at_k(ranked, q.gold, 5) or 0.0)
        search, answer = latency_ms(search_s), latency_ms(answer_s)
        rows.append({
            "pipeline": name, "queries": len(queries),
            "recall@2": _mean(r2), "recall@5": _mean(r5),
            "search_p50_ms": search["p50"], "search_p95_ms": search["p95"],
            "answer_p50_ms": answer["p50"], "answer_p95_ms": answer["p95"],
        })  # fmt: skip
    idx.close()
    return {
        "queries": len(queries),
        "query_source": str(questions) if questions else f"first words of {len(queries)} passages",
        "open_s": round(open_s, 3),
        "rss_start_mb": round(rss_start, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rows": rows,
    }


def query_settings(settings: Settings) -> Settings:
    """Settings for timing queries: no embedding cache, so every query pays for its embedding."""
    embedder = settings.embedder.model_copy(update={"cache": False})
    return settings.model_copy(update={"embedder": embedder, "show_progress": False})
