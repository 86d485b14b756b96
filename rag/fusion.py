"""Reciprocal-rank fusion: the one implementation every fusing step and retriever uses."""

from __future__ import annotations

from collections import defaultdict
from typing import overload

import numpy as np

from rag.types import FusionReason, Hit

#: The constant of Cormack et al. (2009); `retrieval.rrf_k` overrides it.
DEFAULT_RRF_K = 60


@overload
def rrf_contribution(ranks: int, k: int, weight: float = 1.0) -> float: ...


@overload
def rrf_contribution(ranks: np.ndarray, k: int, weight: float = 1.0) -> np.ndarray: ...


def rrf_contribution(ranks: int | np.ndarray, k: int, weight: float = 1.0) -> float | np.ndarray:
    """weight / (k + rank) for a 1-based rank, or for an array of them."""
    return weight / (k + ranks)


def ranks_of(scores: np.ndarray, tie_break: np.ndarray | None = None) -> np.ndarray:
    """1-based rank of every entry by descending score (ties by descending `tie_break`)."""
    order = (
        np.lexsort((-tie_break, -scores))
        if tie_break is not None
        else np.argsort(-scores, kind="stable")
    )
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def reciprocal_rank_fusion(
    rankings: dict[str, list[Hit]],
    k: int = DEFAULT_RRF_K,
    weights: dict[str, float] | None = None,
    limit: int | None = None,
) -> list[Hit]:
    """Fuse named rankings by the sum of weight / (k + rank); a hit's reason keeps its sources.

    `limit` keeps only the best hits (the others are never built).
    """
    scores: dict[str, float] = defaultdict(float)
    ranks: dict[str, dict[str, int]] = defaultdict(dict)
    sources: dict[str, dict[str, Hit]] = defaultdict(dict)
    for name, hits in rankings.items():
        weight = (weights or {}).get(name, 1.0)
        for rank, hit in enumerate(hits, start=1):
            if name in ranks[hit.passage_id]:
                continue  # a duplicate id in one ranking counts once, at its best rank
            scores[hit.passage_id] += rrf_contribution(rank, k, weight)
            ranks[hit.passage_id][name] = rank
            sources[hit.passage_id][name] = hit
    order = sorted(scores, key=lambda pid: (-scores[pid], pid))[:limit]
    return [
        Hit(
            passage_id=pid,
            score=scores[pid],
            retriever="rrf",
            reason=FusionReason(
                ranks=ranks[pid],
                sources={n: h.reason for n, h in sources[pid].items() if h.reason is not None},
            ),
        )
        for pid in order
    ]
