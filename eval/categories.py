"""Scores by question category (LoCoMo): per-category answer F1, and declining the adversarial.

A question's category comes from `QAItem.metadata['category']` and is kept on its record.
Questions marked `metadata['adversarial']` (LoCoMo's category 5, about what the conversation
never says) have no reference answer, so EM and F1 skip them; they get a `declined` score
instead (1.0 when the prediction declines, see `eval.metrics.declines`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from eval.datasets import QAItem
from eval.metrics import declined
from eval.records import QuestionRecord


def category_of(item: QAItem) -> int | None:
    """The question's category, when its dataset gives one."""
    category = item.metadata.get("category")
    return category if isinstance(category, int) and not isinstance(category, bool) else None


def adversarial_scores(item: QAItem, prediction: str, answered: bool) -> dict[str, float | None]:
    """`declined` for an adversarial question (None when nothing was answered); else nothing."""
    if not item.metadata.get("adversarial"):
        return {}
    return {"declined": declined(prediction) if answered else None}


def category_means(records: Sequence[QuestionRecord]) -> dict[str, float | None]:
    """Per category present: the mean F1 (`f1_cat<n>`), or for adversarial ones the mean
    `declined` (`declined_cat<n>`); None where no question of the category has the score."""
    by_category: dict[int, list[QuestionRecord]] = {}
    for record in records:
        if record.category is not None:
            by_category.setdefault(record.category, []).append(record)
    means: dict[str, float | None] = {}
    for category, members in sorted(by_category.items()):
        # A category is adversarial when its questions carry the `declined` score at all.
        key = "declined" if any("declined" in r.scores for r in members) else "f1"
        means[f"{key}_cat{category}"] = _mean(members, key)
    return means


def _mean(records: Sequence[QuestionRecord], key: str) -> float | None:
    """The mean of one score over the records that have it."""
    values: list[Any] = [v for r in records if (v := r.scores.get(key)) is not None]
    return float(np.mean(values)) if values else None
