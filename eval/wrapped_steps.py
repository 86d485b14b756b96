"""What wrapping steps did per question, read from the trace: recall after each IRCoT round,
clues searched; and their means per pipeline (the recall curve, clues per question)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from eval.metrics import recall_at_k
from rag.types import Answer

#: The cut-off of the per-round recall curve.
CURVE_K = 5


def trace_scores(answer: Answer, gold: Collection[str]) -> dict[str, float | None]:
    """Recall@5 after each round of an iterating step ('recall@5@round<n>') and the number of
    clues a clue step searched ('clues'); empty for pipelines that have neither."""
    scores: dict[str, float | None] = {}
    for event in answer.trace:
        rounds = event.outputs.get("rounds")
        if isinstance(rounds, list):
            for n, ranked in enumerate(rounds):
                scores[f"recall@{CURVE_K}@round{n}"] = recall_at_k(ranked, gold, CURVE_K)
        clues = event.outputs.get("clues")
        if isinstance(clues, list):
            searched = [c for c in clues if isinstance(c, dict) and c.get("hits")]
            scores["clues"] = float(len(searched))
    return scores


def wrapped_summary(scores: Sequence[dict[str, float | None]]) -> dict[str, Any]:
    """The recall curve (a round missing for a question that stopped early keeps its last
    value) and mean clues per question, over a pipeline's questions."""
    summary: dict[str, Any] = {}
    curves = []
    for s in scores:
        points = sorted(
            (int(k.rsplit("round", 1)[1]), v)
            for k, v in s.items()
            if k.startswith(f"recall@{CURVE_K}@round") and v is not None
        )
        if points:
            curves.append([v for _, v in points])
    if curves:
        length = max(len(c) for c in curves)
        padded = np.array([c + [c[-1]] * (length - len(c)) for c in curves])
        summary[f"recall@{CURVE_K}_by_round"] = [round(float(x), 4) for x in padded.mean(axis=0)]
    clues = [v for s in scores if (v := s.get("clues")) is not None]
    if clues:
        summary["clues_per_question"] = round(float(np.mean(clues)), 2)
    return summary
