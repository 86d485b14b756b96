"""Recognition memory (HippoRAG 2): an LLM keeps the retrieved facts that bear on a question."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from rag.llm.base import LLM
from rag.llm.structured import array_of, json_object, limit_lists, number_choice
from rag.operators.llm_json import parse_json_object

logger = logging.getLogger(__name__)

_PROMPT = """You filter facts for a question-answering system.
Question: {question}

Candidate facts, numbered:
{facts}

Which of these facts could help answer the question, alone or combined with other facts?
Reply with JSON only, like {{"relevant": [1, 3]}}. Use [] if none helps."""


def recognition_prompt(question: str, facts: Sequence[str]) -> str:
    """The filter prompt for a question and its candidate facts."""
    listing = "\n".join(f"{i}. {fact}" for i, fact in enumerate(facts, start=1))
    return _PROMPT.format(question=question, facts=listing)


def recognize_facts(llm: LLM, question: str, facts: Sequence[str]) -> np.ndarray:
    """Indices of the facts the LLM keeps, in their original order.

    An unparseable reply is logged and rejected: every fact is kept, as with the filter off,
    rather than guessing a selection from malformed output. Out-of-range numbers are dropped.
    """
    every = np.arange(len(facts))
    if not facts:
        return every
    output = json_object(
        "relevant_facts", {"relevant": array_of(number_choice(len(facts)), len(facts))}
    )
    reply = llm.complete_json(recognition_prompt(question, facts), output, stage="recognition")
    data, _mode = parse_json_object(reply.text)
    if data is not None:
        data, _dropped = limit_lists(data, output.schema)
    chosen = data.get("relevant") if data else None
    if not isinstance(chosen, list):
        logger.warning("recognition filter: no 'relevant' list in the reply; keeping all facts")
        return every
    numbers = {int(n) for n in chosen if isinstance(n, int | float) or str(n).isdigit()}
    kept = sorted(n - 1 for n in numbers if 1 <= n <= len(facts))
    if len(kept) < len(numbers):
        dropped = len(numbers) - len(kept)
        logger.warning("recognition filter: %d out-of-range numbers dropped", dropped)
    return np.array(kept, dtype=np.int64)


class FactFilter(Protocol):
    """Keeps the facts matched to a query that should seed the graph walk."""

    name: str

    def keep(self, question: str, facts: Sequence[str]) -> np.ndarray:
        """Indices of the facts to keep, in their original order."""
        ...


class LLMRecognition:
    """HippoRAG 2's recognition memory as an operator: the LLM keeps the facts that bear on
    a question (see `recognize_facts`)."""

    name = "llm"

    def __init__(self, llm: LLM) -> None:
        """Keep the client; each question is one call (the LLM layer caches and retries)."""
        self.llm = llm

    def keep(self, question: str, facts: Sequence[str]) -> np.ndarray:
        """Indices of the facts to keep, in their original order."""
        return recognize_facts(self.llm, question, facts)


class KeepAllFacts:
    """The offline default: no filter, every matched fact seeds the graph walk."""

    name = "keep_all"

    def keep(self, question: str, facts: Sequence[str]) -> np.ndarray:
        """Every fact's index."""
        return np.arange(len(facts))
