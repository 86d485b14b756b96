"""The "read an answer" operator contract: a Reader turns a question and passages into a Reading."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from rag.types import Citation, Passage


class Reading(BaseModel):
    """What a reader produced: the answer, the passages it rests on, and notes for the trace."""

    answer: str
    citations: list[Citation] = Field(default_factory=list)
    reader: str
    details: dict[str, Any] = Field(default_factory=dict)


class Reader(ABC):
    """Reads an answer to a question out of ranked passages (best first)."""

    #: Name recorded in answers, traces and manifests.
    name: str

    @abstractmethod
    def read(
        self,
        question: str,
        passages: Sequence[Passage],
        query_vector: np.ndarray | None = None,
        context: Sequence[str] = (),
    ) -> Reading:
        """Answer the question from the passages; query_vector saves re-embedding the question.

        `context` holds texts that are not passages (a tree's summaries, say): background a
        reader may use but cannot cite.
        """


def cite(passage: Passage, quote: str) -> Citation:
    """Build a citation of a passage with the quoted sentence."""
    return Citation(
        passage_id=passage.id, quote=quote, title=passage.title, source=passage.source or None
    )
