"""Tests for eval.metrics: hand-computed retrieval and answer scores, edge cases included."""

from __future__ import annotations

import pytest

from eval.metrics import (
    aggregate,
    all_recall_at_k,
    answer_scores,
    declined,
    declines,
    exact_match,
    hit_at_k,
    measured,
    ndcg_at_k,
    normalize_answer,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    retrieval_scores,
    rouge_l,
    token_f1,
)


def test_recall_counts_share_of_gold_in_top_k() -> None:
    ranked = ["a", "x", "b", "y", "c"]
    assert recall_at_k(ranked, {"a", "b", "c", "d"}, 1) == 0.25
    assert recall_at_k(ranked, {"a", "b", "c", "d"}, 2) == 0.25
    assert recall_at_k(ranked, {"a", "b", "c", "d"}, 3) == 0.5
    assert recall_at_k(ranked, {"a", "b", "c", "d"}, 5) == 0.75


def test_recall_of_empty_retrieval_is_zero() -> None:
    assert recall_at_k([], ["a"], 5) == 0.0
    assert hit_at_k([], ["a"], 5) == 0.0
    assert reciprocal_rank([], ["a"]) == 0.0


def test_duplicate_ids_count_once_and_take_no_slot() -> None:
    # Distinct ranking: a, x, b. Without deduplication b would fall outside the top 3.
    ranked = ["a", "a", "x", "a", "b"]
    assert recall_at_k(ranked, ["a", "b"], 3) == 1.0
    assert recall_at_k(ranked, ["a", "b"], 2) == 0.5
    assert reciprocal_rank(["x", "x", "b"], ["b"]) == 0.5


def test_duplicate_gold_ids_count_once() -> None:
    assert recall_at_k(["a"], ["a", "a", "b"], 5) == 0.5


def test_k_larger_than_the_ranking_uses_all_of_it() -> None:
    assert recall_at_k(["a", "b"], ["b", "c"], 100) == 0.5
    assert all_recall_at_k(["a", "b", "c"], ["b", "c"], 100) == 1.0


def test_no_gold_gives_none_and_the_aggregate_skips_it() -> None:
    assert recall_at_k(["a"], [], 5) is None
    assert hit_at_k(["a"], set(), 5) is None
    assert reciprocal_rank(["a"], []) is None
    assert all_recall_at_k(["a"], [], 2) is None
    records: list[dict[str, float | None]] = [
        {"recall@2": 1.0},
        {"recall@2": None},
        {"recall@2": 0.5},
    ]
    assert aggregate(records) == {"recall@2": 0.75}
    assert measured(records) == {"recall@2": 2}


def test_k_below_one_is_an_error() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        recall_at_k(["a"], ["a"], 0)


def test_hit_all_recall_and_reciprocal_rank() -> None:
    ranked = ["x", "y", "a", "b"]
    assert hit_at_k(ranked, ["a", "b"], 2) == 0.0
    assert hit_at_k(ranked, ["a", "b"], 3) == 1.0
    assert all_recall_at_k(ranked, ["a", "b"], 3) == 0.0
    assert all_recall_at_k(ranked, ["a", "b"], 4) == 1.0
    assert reciprocal_rank(ranked, ["b", "a"]) == pytest.approx(1 / 3)


def test_normalize_answer_follows_squad() -> None:
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("  A cat, an apple and THE end. ") == "cat apple and end"
    # Articles only as whole words: "theatre" and "another" keep their letters.
    assert normalize_answer("Another theatre") == "another theatre"
    assert normalize_answer("the") == ""


def test_exact_match_takes_any_alias() -> None:
    answers = ["G. Stanley Hall", "Stanley Hall"]
    assert exact_match("stanley hall", answers) == 1.0
    assert exact_match("G Stanley Hall.", answers) == 1.0
    assert exact_match("Hall", answers) == 0.0
    assert exact_match("The Beatles", ["Beatles"]) == 1.0


def test_token_f1_partial_overlap_by_hand() -> None:
    # pred tokens: [barack, obama, jr]; gold tokens: [barack, hussein, obama]; 2 shared.
    # precision 2/3, recall 2/3, F1 = 2/3.
    assert token_f1("Barack Obama Jr.", ["Barack Hussein Obama"]) == pytest.approx(2 / 3)
    # pred [new, york, city] vs gold [new, york]: P = 2/3, R = 1, F1 = 0.8.
    assert token_f1("New York City", ["New York"]) == pytest.approx(0.8)
    # The best alias wins: "NYC" shares nothing, "New York" gives 0.8.
    assert token_f1("New York City", ["NYC", "New York"]) == pytest.approx(0.8)


def test_token_f1_counts_tokens_as_a_multiset() -> None:
    # pred [paris, paris] vs gold [paris]: 1 shared; P = 1/2, R = 1, F1 = 2/3.
    assert token_f1("Paris Paris", ["Paris"]) == pytest.approx(2 / 3)


def test_empty_answers_after_normalization() -> None:
    assert token_f1("", ["the"]) == 1.0
    assert exact_match("", ["the"]) == 1.0
    assert token_f1("", ["Paris"]) == 0.0
    assert token_f1("Paris", ["a"]) == 0.0
    assert exact_match("Paris", []) is None
    assert token_f1("Paris", []) is None


def test_score_dicts_and_aggregate_means() -> None:
    first = {**retrieval_scores(["a", "b", "c"], ["c"], ks=(1, 3)), **answer_scores("x", ["x"])}
    second = {**retrieval_scores(["c"], ["c"], ks=(1, 3)), **answer_scores("y", [])}
    assert first == {"recall@1": 0.0, "recall@3": 1.0, "mrr": pytest.approx(1 / 3), "em": 1.0,
                     "f1": 1.0}  # fmt: skip
    means = aggregate([first, second])
    assert means["recall@1"] == 0.5
    assert means["mrr"] == pytest.approx((1 / 3 + 1) / 2)
    assert means["em"] == 1.0
    assert aggregate([{"em": None}]) == {"em": None}
    assert aggregate([]) == {}


def test_precision_divides_gold_in_top_k_by_k() -> None:
    ranked = ["a", "x", "b", "y", "c"]
    gold = {"a", "b", "c", "d"}
    assert precision_at_k(ranked, gold, 1) == 1.0
    assert precision_at_k(ranked, gold, 2) == 0.5
    assert precision_at_k(ranked, gold, 5) == 0.6
    # Fewer hits than k: the empty slots count as not relevant.
    assert precision_at_k(["a"], gold, 5) == 0.2
    # Duplicates take no slot: distinct ranking a, x, b.
    assert precision_at_k(["a", "a", "x", "b"], gold, 3) == pytest.approx(2 / 3)
    assert precision_at_k(ranked, [], 5) is None
    with pytest.raises(ValueError):
        precision_at_k(ranked, gold, 0)


def test_ndcg_with_binary_gain() -> None:
    ranked = ["a", "x", "b", "y"]
    gold = {"a", "b", "c"}
    # DCG = 1/log2(2) + 1/log2(4) = 1.5; ideal over min(3, 4) = 3 items: 1 + 1/log2(3) + 0.5.
    assert ndcg_at_k(ranked, gold, 4) == pytest.approx(1.5 / 2.1309297535714573)
    # k = 2: DCG = 1; ideal = 1 + 1/log2(3).
    assert ndcg_at_k(ranked, gold, 2) == pytest.approx(1 / 1.6309297535714575)
    # One gold id at distinct rank 2 (the repeat of x takes no slot): 1/log2(3) over 1.
    assert ndcg_at_k(["x", "x", "a"], {"a"}, 2) == pytest.approx(0.6309297535714575)
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 10) == 1.0
    assert ndcg_at_k([], {"a"}, 10) == 0.0
    assert ndcg_at_k(ranked, set(), 10) is None


def test_rouge_l_is_the_lcs_f_measure_with_stemming() -> None:
    # Tokens: the cat sat on the mat (6) / the cat was sit(ting) on a mat (7); LCS "the cat on
    # mat" has 4: P = 4/6, R = 4/7, F = 2 * 4 / (6 + 7).
    reference = "The cat was sitting on a mat."
    assert rouge_l("the cat sat on the mat", [reference]) == pytest.approx(8 / 13)
    assert rouge_l("the cat sat on the mat", [reference, "The cat sat on the mat!"]) == 1.0
    assert rouge_l("", [reference]) == 0.0
    assert rouge_l("anything", []) is None


@pytest.mark.parametrize(
    "prediction",
    [
        "",
        "  ",
        ".",
        "Unknown",
        "unknown.",
        "N/A",
        "None",
        "Not mentioned in the conversation",
        "The conversation doesn't say.",
        "There is no information about that.",
        "It cannot be determined from the conversation.",
        "This is not stated anywhere.",
        "Melanie's instrument is never mentioned.",
        "I don't know",
        "The answer is unknown",
    ],
)
def test_declines_recognizes_declining(prediction: str) -> None:
    assert declines(prediction)
    assert declined(prediction) == 1.0


@pytest.mark.parametrize(
    "prediction",
    [
        "violin",
        "7 May 2023",
        "the unknown soldier",  # a word that declines alone, inside a claim
        "none of them came",
        "She mentioned the lake",
        "no",  # an answer to a yes/no question, not a refusal
        "notes on knowledge",  # phrase fragments inside other words do not count
    ],
)
def test_declines_leaves_answers_alone(prediction: str) -> None:
    assert not declines(prediction)
    assert declined(prediction) == 0.0
