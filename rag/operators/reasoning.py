"""Reasoning a step (IRCoT, Trivedi et al. 2023): the next thought, which becomes the next query.

A reasoner reads the question, the passages retrieved so far and its earlier thoughts, and
writes one next thought, or stops: with an answer ("So the answer is: X"), or because it has
no new query. `LLMReasoner` asks an LLM with a few bundled examples, one prompt for any
dataset; `BridgeReasoner` (rag/operators/bridge_reasoner.py) is its offline twin, a heuristic
that proposes the next entity the passages name, using the extractive reader's bridge follower.
"""

from __future__ import annotations

import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, TypeAdapter, field_validator

from rag.llm.base import LLM, ChatMessage
from rag.operators.reader.text import content_words, split_sentences, tokenize
from rag.types import Passage

logger = logging.getLogger(__name__)

StopReason = Literal["answer", "no new query", "empty reply"]
PROMPT_VERSION = "reason/1"

SYSTEM_PROMPT = (
    "You answer questions that need several facts, one step at a time. You are given "
    "retrieved passages, a question and the reasoning sentences written so far. Write the one "
    "next sentence of reasoning: a fact from the passages that brings the answer closer, naming "
    "the person, place or thing it leads to, because that sentence is used to search for more "
    "passages. If the passages lack the fact you need, state what you need to find out about "
    "that entity in one short sentence. Once the reasoning so far gives the answer, write "
    "exactly: So the answer is: <short answer>.\n"
    "Reply with that one sentence and nothing else."
)
EXAMPLES_HEADER = "Worked examples (each shows a whole chain of reasoning):"
USER_TEMPLATE = (
    "{examples}Passages:\n{passages}\n\nQuestion: {question}\n"
    "Reasoning so far:\n{thoughts}\n\nNext sentence:"
)

_ANSWER = re.compile(r"\bso,?\s+the\s+(?:final\s+)?answer\s+is\b\s*:?\s*", re.IGNORECASE)
_ANSWER_LABEL = re.compile(r"^\s*(?:final\s+)?answer\s*:\s*", re.IGNORECASE)
_LABEL = re.compile(
    r"^\s*(?:[-*•>]+\s*|\d+[.)]\s+)?"
    r"(?:(?:next\s+)?(?:thought|sentence|step|reasoning)(?:\s*\d+)?|next)\s*[:\-–]\s*",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*•>]+|\d+[.)])\s+")
_THINKING = re.compile(r"<think>.*?(?:</think>|\Z)", re.IGNORECASE | re.DOTALL)
_WRAPPERS = " \t\"'`*“”‘’"


@dataclass(frozen=True)
class Thought:
    """One reasoning step: its text (the next query), who wrote it, and whether it ends the loop."""

    text: str
    reasoner: str
    stop: bool = False
    answer: str | None = None
    stop_reason: StopReason | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Reasoner(ABC):
    """Writes the next thought of an iterative retrieval from the question and passages so far."""

    name: str

    @abstractmethod
    def next_thought(
        self, question: str, passages: Sequence[Passage], thoughts: Sequence[str]
    ) -> Thought:
        """The next thought, or a stopping one."""

    def for_question(self, question: str, vector: np.ndarray | None = None) -> Reasoner:
        """The reasoner to use for one question's loop: itself, unless it keeps per-question
        state (then a fresh copy sharing what was built); `vector` spares re-embedding."""
        return self


class ReasoningExample(BaseModel):
    """A few-shot example: a question, its passages and a chain ending 'So the answer is: X.'."""

    question: str
    passages: list[Passage] = Field(min_length=1)
    thoughts: list[str] = Field(min_length=2)

    @field_validator("passages", mode="before")
    @classmethod
    def _passages(cls, value: Any) -> Any:
        """Passages given as {title, text} mappings get their content-hash ids."""
        if isinstance(value, list):
            return [Passage.from_text(**p) if isinstance(p, dict) else p for p in value]
        return value

    @field_validator("thoughts")
    @classmethod
    def _ends_with_answer(cls, value: list[str]) -> list[str]:
        """The chain must end with the answer sentence the prompt asks for."""
        if not _ANSWER.match(value[-1]):
            raise ValueError("the last thought must start with 'So the answer is:'")
        return value


@cache
def bundled_examples() -> tuple[ReasoningExample, ...]:
    """The generic multi-hop examples shipped with memrag (rag/data/ircot_examples.json)."""
    text = (resources.files("rag") / "data" / "ircot_examples.json").read_text(encoding="utf-8")
    return tuple(TypeAdapter(list[ReasoningExample]).validate_python(json.loads(text)))


def choose_examples(
    question: str, examples: Sequence[ReasoningExample], shots: int
) -> list[ReasoningExample]:
    """The `shots` examples whose questions share the most content words with `question`."""
    words = content_words(question)
    ranked = sorted(
        enumerate(examples), key=lambda e: (-len(words & content_words(e[1].question)), e[0])
    )
    return [example for _, example in ranked[:shots]]


def _numbered(passages: Sequence[Passage]) -> str:
    """Passages numbered from 1, each with its title."""
    return "\n".join(
        f"[{i}] {p.title}: {' '.join(p.text.split())}" if p.title else f"[{i}] {p.text}"
        for i, p in enumerate(passages, start=1)
    )


def build_prompt(
    question: str,
    passages: Sequence[Passage],
    thoughts: Sequence[str],
    examples: Sequence[ReasoningExample] = (),
) -> str:
    """The user prompt: worked examples, then the passages, question and thoughts so far."""
    shown = [
        f"Passages:\n{_numbered(e.passages)}\n\nQuestion: {e.question}\nReasoning:\n"
        + "\n".join(e.thoughts)
        for e in examples
    ]
    header = f"{EXAMPLES_HEADER}\n\n" + "\n\n---\n\n".join(shown) + "\n\n---\n\n" if shown else ""
    return USER_TEMPLATE.format(
        examples=header,
        passages=_numbered(passages) or "(none)",
        question=question.strip(),
        thoughts="\n".join(thoughts) or "(none yet)",
    )


def _clean(text: str) -> str:
    """A line without its label, bullet and wrapping quotes or emphasis."""
    text = _BULLET.sub("", _LABEL.sub("", text.strip()))
    return " ".join(text.strip(_WRAPPERS).split())


def parse_thought(reply: str) -> tuple[str, str | None, str | None]:
    """Return (thought, answer, problem) from a reply; `problem` says why nothing was usable.

    "So the answer is: X" anywhere (colon optional) or a line starting "Answer:" gives answer X;
    otherwise the thought is the first sentence of the first line with text once labels such as
    "Thought:" or "Next:", bullets and quotes are stripped.
    """
    # Reasoning models may think aloud first; only what follows counts.
    reply = _THINKING.sub("", reply)
    lines = [_BULLET.sub("", line) for line in reply.splitlines() if _clean(line)]
    if not lines:
        return "", None, "empty reply"
    for n, line in enumerate(lines):
        marker = _ANSWER.search(line) or _ANSWER_LABEL.match(line)
        if marker is None:
            continue
        rest = [line[marker.end() :], *lines[n + 1 :]]
        answer = next((_clean(r) for r in rest if _clean(r)), "")
        if answer.endswith(".") and not re.search(r"\b[A-Z]\.$", answer):
            answer = answer[:-1].strip(_WRAPPERS)
        said = " ".join(_clean(x) for x in lines[: n + 1])
        return said, answer or None, None if answer else "answer marker without an answer"
    first = _clean(lines[0])
    return (split_sentences(first) or [first])[0], None, None


class LLMReasoner(Reasoner):
    """IRCoT's reasoner: an LLM writes the next sentence of a chain of thought, from one prompt
    for any dataset with the bundled examples closest to the question as shots."""

    name = "llm"

    def __init__(
        self, llm: LLM, examples: Sequence[ReasoningExample] | None = None, shots: int = 2
    ) -> None:
        """Keep the LLM; `examples` default to the bundled set, `shots` of them per prompt."""
        self.llm = llm
        self.examples = tuple(examples) if examples is not None else bundled_examples()
        self.shots = shots

    def next_thought(
        self, question: str, passages: Sequence[Passage], thoughts: Sequence[str]
    ) -> Thought:
        """Ask for one next sentence and parse it tolerantly; an empty reply stops the loop."""
        shots = choose_examples(question, self.examples, self.shots)
        messages = [
            ChatMessage(role="system", content=SYSTEM_PROMPT),
            ChatMessage(role="user", content=build_prompt(question, passages, thoughts, shots)),
        ]
        response = self.llm.chat(messages, stage="reason")
        text, answer, problem = parse_thought(response.text)
        details: dict[str, Any] = {
            "model": self.llm.model,
            "prompt": PROMPT_VERSION,
            "examples": [e.question for e in shots],
            "raw": response.text,
            "cached": response.cached,
        }
        if problem is not None:
            logger.warning("llm reasoner stops: %s (reply %r)", problem, response.text[:200])
            return Thought(text, self.name, True, None, "empty reply", {**details, "why": problem})
        if answer is not None:
            return Thought(text, self.name, True, answer, "answer", details)
        if thought_key(text) in {thought_key(t) for t in thoughts}:
            logger.info("llm reasoner repeated a thought: %r", text)
            why = "repeated an earlier thought"
            return Thought(text, self.name, True, None, "no new query", {**details, "why": why})
        return Thought(text, self.name, details=details)


def thought_key(text: str) -> str:
    """Lower-case words only, for telling a repeated thought."""
    return " ".join(t.text.lower() for t in tokenize(text))
