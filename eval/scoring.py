"""Scoring one question from its answer and trace, and averaging a pipeline's questions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from eval.categories import adversarial_scores, category_means, category_of
from eval.datasets import QAItem
from eval.metrics import aggregate as mean_scores
from eval.metrics import (
    exact_match,
    hit_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    rouge_l,
    token_f1,
)
from eval.records import QuestionRecord
from eval.wrapped_steps import clue_drafters, trace_scores, wrapped_summary
from rag.types import Answer

#: The cutoff of nDCG, reported for every dataset whatever the recall cutoffs.
NDCG_K = 10


def score(
    item: QAItem, ranked: list[str], prediction: str, ks: Sequence[int], answered: bool = True
) -> dict[str, float | None]:
    """Retrieval and answer metrics of one question (answer metrics only when `answered`);
    an adversarial question (no reference answer) gets `declined` instead of EM and F1."""
    gold = item.gold_ids
    scores: dict[str, float | None] = {f"recall@{k}": recall_at_k(ranked, gold, k) for k in ks}
    scores.update({f"hit@{k}": hit_at_k(ranked, gold, k) for k in ks})
    scores.update({f"precision@{k}": precision_at_k(ranked, gold, k) for k in ks})
    scores[f"ndcg@{NDCG_K}"] = ndcg_at_k(ranked, gold, NDCG_K)
    scores["rr"] = reciprocal_rank(ranked, gold) if gold else None
    scored = answered and bool(item.answers)
    scores["em"] = exact_match(prediction, item.answers) if scored else None
    scores["f1"] = token_f1(prediction, item.answers) if scored else None
    scores["rougeL"] = rouge_l(prediction, item.answers) if scored else None
    scores.update(adversarial_scores(item, prediction, answered))
    return scores


def question_record(
    item: QAItem, pipeline: str, answer: Answer, latency_ms: float, ks: Sequence[int]
) -> QuestionRecord:
    """Score one answered (or retrieval-only) question."""
    ranked = [h.passage_id for h in answer.hits]
    # Retrieval only (no reader): no answer to score.
    scores = score(item, ranked, answer.text, ks, answered=bool(answer.reader))
    scores.update(trace_scores(answer, item.gold_ids))
    return QuestionRecord(
        question_id=item.id,
        question=item.question,
        pipeline=pipeline,
        gold_ids=item.gold_ids,
        answers=item.answers,
        retrieved=[(h.passage_id, round(h.score, 6)) for h in answer.hits],
        prediction=answer.text,
        citations=[c.passage_id for c in answer.citations],
        latency_ms=round(latency_ms, 2),
        llm_calls=sum(e.llm_calls for e in answer.trace if e.parent is None),
        llm_tokens=sum(e.llm_tokens for e in answer.trace if e.parent is None),
        trace=QuestionRecord.trace_summary(answer),
        scores=scores,
        drafters=clue_drafters(answer),
        category=category_of(item),
    )


def aggregate(
    pipeline: str,
    records: list[QuestionRecord],
    ks: Sequence[int],
    questions_per_s: float | None = None,
) -> dict[str, Any]:
    """Average the per-question scores of one pipeline (questions without gold are skipped)."""
    means = mean_scores(r.scores for r in records)

    def mean(key: str) -> float | None:
        return means.get(key)

    latencies = np.array([r.latency_ms for r in records])
    row: dict[str, Any] = {"pipeline": pipeline, "questions": len(records)}
    row.update({f"recall@{k}": mean(f"recall@{k}") for k in ks})
    row.update({"mrr": mean("rr"), "em": mean("em"), "f1": mean("f1")})
    row.update(category_means(records))
    # In JSON for every dataset; the table shows them where the dataset names them headline.
    row.update({f"hit@{k}": mean(f"hit@{k}") for k in ks})
    row.update({f"precision@{k}": mean(f"precision@{k}") for k in ks})
    row[f"ndcg@{NDCG_K}"] = mean(f"ndcg@{NDCG_K}")
    row["rougeL"] = mean("rougeL")
    row["latency_mean_ms"] = float(latencies.mean()) if len(records) else None
    row["latency_p50_ms"] = float(np.percentile(latencies, 50)) if len(records) else None
    row["latency_p95_ms"] = float(np.percentile(latencies, 95)) if len(records) else None
    row["questions_per_s"] = questions_per_s
    row["llm_calls"] = sum(r.llm_calls for r in records)
    row["llm_tokens"] = sum(r.llm_tokens for r in records)
    if records:
        row["llm_calls_per_question"] = round(row["llm_calls"] / len(records), 2)
        row["llm_tokens_per_question"] = round(row["llm_tokens"] / len(records), 1)
    row.update(wrapped_summary([r.scores for r in records], [r.drafters for r in records]))
    return row
