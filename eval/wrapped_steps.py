"""What wrapping steps did per question, read from the trace: recall after each IRCoT round,
clues searched; and their means per pipeline (the recall curve, clues per question)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from eval.metrics import recall_at_k
from rag.trace_outputs import CluesOutput, IterateOutput
from rag.types import Answer

#: The cut-off of the per-round recall curve.
CURVE_K = 5


def trace_scores(answer: Answer, gold: Collection[str]) -> dict[str, float | None]:
    """Recall@5 after each round of an iterating step ('recall@5@round<n>') and the number of
    clues a clue step searched ('clues'); empty for pipelines that have neither."""
    scores: dict[str, float | None] = {}
    for event in answer.trace:
        out = event.outputs
        if isinstance(out, IterateOutput):
            for n, ranked in enumerate(out.rounds):
                scores[f"recall@{CURVE_K}@round{n}"] = recall_at_k(ranked, gold, CURVE_K)
        if isinstance(out, CluesOutput):
            scores["clues"] = float(sum(1 for c in out.clues if c.hits))
    return scores


def clue_drafters(answer: Answer) -> list[str]:
    """The clue drafters that ran for one question, in the order they ran, once each."""
    names = (
        d for e in answer.trace if isinstance(e.outputs, CluesOutput) for d in e.outputs.drafters
    )
    return list(dict.fromkeys(names))


def wrapped_summary(
    scores: Sequence[dict[str, float | None]], drafters: Sequence[Sequence[str]] = ()
) -> dict[str, Any]:
    """The recall curve (a round missing for a question that stopped early keeps its last
    value), mean clues per question, and how many questions each clue drafter ran for, over a
    pipeline's questions."""
    summary: dict[str, Any] = {}
    ran: dict[str, int] = {}
    for names in drafters:
        for name in names:
            ran[name] = ran.get(name, 0) + 1
    if ran:
        summary["clue_drafters"] = ran
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
