"""Reciprocal-rank fusion, computed by hand."""

import pytest

from rag.fusion import reciprocal_rank_fusion
from rag.types import Hit


def _hits(*ids: str, retriever: str = "x") -> list[Hit]:
    return [Hit(passage_id=pid, score=1.0, retriever=retriever) for pid in ids]


def test_rrf_scores_by_hand() -> None:
    fused = reciprocal_rank_fusion({"dense": _hits("a", "b", "c"), "bm25": _hits("c", "a")}, k=60)
    scores = {h.passage_id: h.score for h in fused}
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["b"] == pytest.approx(1 / 62)
    assert [h.passage_id for h in fused] == ["a", "c", "b"]
    assert fused[0].reason is not None and fused[0].reason.ranks == {"dense": 1, "bm25": 2}
    assert all(h.retriever == "rrf" for h in fused)


def test_duplicate_ids_in_one_ranking_count_once() -> None:
    fused = reciprocal_rank_fusion({"dense": _hits("a", "a", "b")}, k=1)
    assert {h.passage_id: h.score for h in fused} == {
        "a": pytest.approx(1 / 2),
        "b": pytest.approx(1 / 4),
    }


def test_weights_and_empty_lists() -> None:
    fused = reciprocal_rank_fusion(
        {"dense": _hits("a"), "bm25": _hits("b"), "none": []}, k=60, weights={"bm25": 2.0}
    )
    assert [h.passage_id for h in fused] == ["b", "a"]
    assert reciprocal_rank_fusion({}, k=60) == []
