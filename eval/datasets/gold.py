"""Gold labels that match nothing in the corpus: marked on their questions, reported once."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from eval.datasets.model import QAItem

logger = logging.getLogger(__name__)


def mark_unmatched(
    items: Sequence[QAItem], missing: Mapping[str, list[str]], where: Path, consequence: str
) -> None:
    """Note each question's unmatched gold labels (metadata 'unmatched_gold'); warn once.

    `missing` maps a question id to its labels that match nothing; `consequence` ends the
    warning, saying what the labels are and what scoring does about them.
    """
    unmatched = [item for item in items if item.id in missing]
    for item in unmatched:
        item.metadata["unmatched_gold"] = list(missing[item.id])
    if unmatched:
        logger.warning(
            "%s: %d of %d questions %s (first: %s)",
            where,
            len(unmatched),
            len(items),
            consequence,
            unmatched[0].id,
        )
