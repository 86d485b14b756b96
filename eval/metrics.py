"""Retrieval and answer metrics per question, and their means over a question set.

Retrieval metrics follow HippoRAG: Recall@k is the share of a question's distinct gold passages
found among the top k retrieved, averaged over questions. For wide evidence (a span of a long
document covering many passages), where k alone caps recall@k far below 1, Precision@k (the
share of the top k that is gold) and nDCG@k with binary gain say more. A ranking is first
reduced to its distinct ids (a passage keeps the rank of its first occurrence), so a duplicate
neither counts twice nor takes a slot. A question without gold labels has no retrieval score:
the functions return None and `aggregate` leaves it out of the means, rather than counting it
as 0 or 1.

Answer metrics follow the official SQuAD v1.1 script: answers are normalized (lower case, no
punctuation, no articles a/an/the, single spaces), EM and token F1 take the best over the
reference answers and their aliases. One departure, as in SQuAD v2: when the prediction or a
reference normalizes to nothing, F1 is 1.0 if both do and 0.0 otherwise (v1.1 gives 0.0 even
when both are empty, which would score F1 below EM). ROUGE-L is the F-measure of the longest
common subsequence (Google's rouge-score with its Porter stemmer, as summarization papers report
it), best over the references; it suits long free-form answers that EM and F1 punish.

A question whose honest answer is that the source does not say (LoCoMo's adversarial category)
is scored by `declines`: whether the prediction declines, by wording (see its docstring).
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

ARTICLES = re.compile(r"\b(a|an|the)\b")
PUNCTUATION = frozenset(string.punctuation)


def _distinct(ranked: Sequence[str]) -> list[str]:
    """The ranking without repeats, each id at its first position."""
    return list(dict.fromkeys(ranked))


def _check_k(k: int) -> None:
    """Reject a cutoff that selects nothing."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def recall_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float | None:
    """Share of the distinct gold ids among the top k distinct retrieved ids; None without gold."""
    _check_k(k)
    wanted = set(gold)
    if not wanted:
        return None
    return len(wanted.intersection(_distinct(ranked)[:k])) / len(wanted)


def all_recall_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float | None:
    """1.0 when all gold ids are in the top k (HippoRAG's All-Recall), else 0.0; None if no gold."""
    recall = recall_at_k(ranked, gold, k)
    return None if recall is None else float(recall == 1.0)


def hit_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float | None:
    """1.0 when any gold id is in the top k, else 0.0; None without gold."""
    _check_k(k)
    wanted = set(gold)
    if not wanted:
        return None
    return float(any(pid in wanted for pid in _distinct(ranked)[:k]))


def precision_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float | None:
    """Gold ids among the top k distinct retrieved ids, divided by k; None without gold."""
    _check_k(k)
    wanted = set(gold)
    if not wanted:
        return None
    # Divided by k even when fewer than k came back: an empty slot is not a relevant passage.
    return sum(pid in wanted for pid in _distinct(ranked)[:k]) / k


def ndcg_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float | None:
    """nDCG over the top k distinct ids with binary gain (1 for gold, else 0); None without gold."""
    _check_k(k)
    wanted = set(gold)
    if not wanted:
        return None
    dcg = sum(
        1.0 / math.log2(rank + 1)
        for rank, pid in enumerate(_distinct(ranked)[:k], start=1)
        if pid in wanted
    )
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), k) + 1))
    return dcg / ideal


def reciprocal_rank(ranked: Sequence[str], gold: Collection[str]) -> float | None:
    """1 / rank of the first gold id among distinct ids, 0.0 if none is there; None if no gold."""
    wanted = set(gold)
    if not wanted:
        return None
    for rank, pid in enumerate(_distinct(ranked), start=1):
        if pid in wanted:
            return 1.0 / rank
    return 0.0


def normalize_answer(text: str) -> str:
    """SQuAD v1.1 normalization: lower case, drop punctuation and articles, collapse spaces."""
    text = "".join(ch for ch in text.lower() if ch not in PUNCTUATION)
    return " ".join(ARTICLES.sub(" ", text).split())


def _f1(prediction: str, reference: str) -> float:
    """Token-multiset F1 of two answers after normalization."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, answers: Sequence[str]) -> float | None:
    """1.0 when the normalized prediction equals a normalized answer; None without answers."""
    if not answers:
        return None
    norm = normalize_answer(prediction)
    return float(any(norm == normalize_answer(a) for a in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float | None:
    """Best token F1 of the prediction against any answer; None without answers."""
    if not answers:
        return None
    return max(_f1(prediction, a) for a in answers)


@cache
def _rouge_scorer() -> Any:
    """One ROUGE-L scorer with stemming; rouge-score is imported only when answers are scored."""
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(prediction: str, answers: Sequence[str]) -> float | None:
    """Best ROUGE-L F-measure of the prediction against any answer; None without answers."""
    if not answers:
        return None
    scorer = _rouge_scorer()
    return max(float(scorer.score(a, prediction)["rougeL"].fmeasure) for a in answers)


#: Predictions that decline when they are the whole (normalized) answer. Single words such as
#: "none" are taken only alone: inside a longer answer they are more likely part of a claim.
DECLINE_ANSWERS = ("unknown", "none", "n/a", "nothing", "no answer", "not sure", "unanswerable")
#: Phrases that decline wherever they occur in the (normalized) prediction.
DECLINE_PHRASES = (
    "not mentioned",
    "never mentioned",
    "no mention",
    "not mention",
    "no information",
    "not enough information",
    "insufficient information",
    "no relevant information",
    "isn't mentioned",
    "wasn't mentioned",
    "doesn't mention",
    "didn't mention",
    "does not say",
    "doesn't say",
    "did not say",
    "didn't say",
    "does not specify",
    "not specified",
    "not stated",
    "not provided",
    "not available",
    "not discussed",
    "not known",
    "is unknown",
    "remains unknown",
    "do not know",
    "don't know",
    "cannot be determined",
    "can not be determined",
    "can't be determined",
    "cannot determine",
    "cannot be answered",
    "cannot answer",
    "can't answer",
    "not answerable",
    "unanswerable",
)
# Phrases are matched after the same normalization as answers, so they are normalized too
# ("doesn't say" becomes "doesnt say"), and padded so that they match whole words only.
_DECLINE_ANSWERS = frozenset(normalize_answer(a) for a in DECLINE_ANSWERS)
_DECLINE_PHRASES = tuple(f" {normalize_answer(p)} " for p in DECLINE_PHRASES)


def declines(prediction: str) -> bool:
    """Whether a prediction declines to answer: says the information is not there.

    True when the SQuAD-normalized prediction is empty (the extractive reader's answer when it
    has nothing to read), is one of `DECLINE_ANSWERS` ("unknown", the LLM reader's reply when
    the passages lack the answer), or contains one of `DECLINE_PHRASES` ("not mentioned", "no
    information", "does not say", "cannot be determined", ...) as whole words. A wording
    matcher, not a judge: "I doubt it" or an answer hedged in other words counts as answering.
    """
    norm = normalize_answer(prediction)
    if not norm or norm in _DECLINE_ANSWERS:
        return True
    padded = f" {norm} "
    return any(phrase in padded for phrase in _DECLINE_PHRASES)


def declined(prediction: str) -> float:
    """1.0 when the prediction declines to answer (see `declines`), else 0.0."""
    return float(declines(prediction))


def retrieval_scores(
    ranked: Sequence[str], gold: Collection[str], ks: Iterable[int] = (2, 5)
) -> dict[str, float | None]:
    """Recall@k for each k and the reciprocal rank of one question, keyed 'recall@k' and 'mrr'."""
    scores = {f"recall@{k}": recall_at_k(ranked, gold, k) for k in ks}
    scores["mrr"] = reciprocal_rank(ranked, gold)
    return scores


def answer_scores(prediction: str, answers: Sequence[str]) -> dict[str, float | None]:
    """Exact match and token F1 of one question, keyed 'em' and 'f1'."""
    return {"em": exact_match(prediction, answers), "f1": token_f1(prediction, answers)}


def aggregate(records: Iterable[Mapping[str, float | None]]) -> dict[str, float | None]:
    """Mean of each metric over the questions that have a value for it; None where none has."""
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    for record in records:
        for name, value in record.items():
            totals.setdefault(name, 0.0)
            counts.setdefault(name, 0)
            if value is not None:
                totals[name] += value
                counts[name] += 1
    return {name: totals[name] / counts[name] if counts[name] else None for name in totals}


def measured(records: Iterable[Mapping[str, float | None]]) -> dict[str, int]:
    """How many questions each metric's mean covers (those with a value, not None)."""
    counts: dict[str, int] = {}
    for record in records:
        for name, value in record.items():
            counts[name] = counts.get(name, 0) + (value is not None)
    return counts
