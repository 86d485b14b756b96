"""A reader that asks an LLM for a short answer and the numbers of the passages it used."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.llm.base import LLM, ChatMessage
from rag.llm.structured import JsonOutput, array_of, json_object, number_choice
from rag.operators.llm_json import parse_json_object
from rag.operators.reader.reading import Reader, Reading, cite
from rag.operators.reader.temporal import date_answer
from rag.operators.reader.text import content_words, split_sentences
from rag.types import Citation, Passage

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You answer questions using only the numbered passages you are given. "
    "Reply with a single JSON object and nothing else, in this form:\n"
    '{"answer": "<the answer in as few words as possible>", "citations": [<passage numbers>]}\n'
    "List in citations every passage you relied on. If the passages do not contain the "
    'answer, reply {"answer": "unknown", "citations": []}.'
)
USER_TEMPLATE = "Passages:\n{passages}\n\nQuestion: {question}\nJSON:"
#: One worked exchange before the real one: base models with completion prompts need an
#: example of the reply's form, and chat models follow it too.
EXAMPLE_USER = USER_TEMPLATE.format(
    passages="[1] Lake Tahoe\nLake Tahoe is a freshwater lake in the Sierra Nevada, on the "
    "border between California and Nevada.\n\n[2] Sierra Nevada\nThe Sierra Nevada is a "
    "mountain range in the Western United States.",
    question="In which country is the mountain range that contains Lake Tahoe?",
)
EXAMPLE_REPLY = '{"answer": "United States", "citations": [1, 2]}'
#: A longer answer string is not an answer but the model running on.
MAX_ANSWER_CHARS = 120
# Summaries give the wider picture; only numbered passages can be cited.
BACKGROUND_TEMPLATE = "Background (summaries of the wider text; not citable):\n{background}\n\n"

_PLACEHOLDER = re.compile(r"^\s*<[^<>]*>\s*$")
_MARKER = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")
_LABEL = re.compile(r"^\s*(?:final\s+)?answer\s*[:\-]\s*", re.IGNORECASE)
_TRAILING_LABEL = re.compile(r"\s*\(?\s*(?:sources?|citations?|passages?)\s*:?\s*\)?\s*\Z", re.I)


class LLMReader(Reader):
    """Reads an answer with an LLM, then checks its citations against the passages it was shown.

    The reply is parsed tolerantly (JSON in a code fence or in prose, a truncated object, or
    plain text with [n] markers). Citation numbers outside the list are dropped; when no usable
    answer or citation remains, the reader cites the top passage and keeps the raw reply as the
    answer, saying so in `details` rather than inventing anything.
    """

    name = "llm"

    def __init__(self, llm: LLM, max_passages: int = 5) -> None:
        """Keep the LLM client; at most max_passages passages go into the prompt."""
        self.llm = llm
        self.max_passages = max_passages

    def read(
        self,
        question: str,
        passages: Sequence[Passage],
        query_vector: np.ndarray | None = None,
        context: Sequence[str] = (),
    ) -> Reading:
        """Prompt the LLM with numbered passages (after any background `context`); turn its
        reply into an answer with citations."""
        top = list(passages[: self.max_passages])
        if not top:
            logger.info("llm reader has no passages; the LLM is not called")
            return Reading(answer="", reader=self.name, details={"reason": "no passages"})
        messages = [
            ChatMessage(role="system", content=SYSTEM_PROMPT),
            ChatMessage(role="user", content=EXAMPLE_USER),
            ChatMessage(role="assistant", content=EXAMPLE_REPLY),
            ChatMessage(role="user", content=build_prompt(question, top, context)),
        ]
        response = self.llm.chat_json(messages, reply_schema(len(top)), stage="generate")
        answer, numbers, mode = parse_reply(response.text)
        valid = [n for n in dict.fromkeys(numbers) if 1 <= n <= len(top)]
        dropped = [n for n in numbers if not 1 <= n <= len(top)]
        if dropped:
            logger.warning("llm reader dropped citations outside 1..%d: %s", len(top), dropped)
        # The model's name goes with the answer: which LLM read it matters when comparing runs.
        reader = f"{self.name}:{self.llm.model}"
        details: dict[str, Any] = {
            "model": self.llm.model,
            "parse": mode,
            "structured": response.raw.get("structured"),
            "raw": response.text,
            "dropped_citations": dropped,
            "prompt_tokens": response.prompt_tokens,
            "completion_tokens": response.completion_tokens,
            "cached": response.cached,
        }
        if _PLACEHOLDER.match(answer):
            # Small base models copy the form's placeholder; that is no answer, and the raw
            # reply (the same placeholder in JSON) is none either.
            logger.warning("llm reader: the reply echoes the prompt's placeholder %r", answer)
            details["fallback"] = "echoed the prompt's placeholder"
            return Reading(answer="", reader=reader, details=details)
        if not answer and mode != "none":
            # A JSON object without an answer (or citation markers and nothing else) is a reply
            # that missed the form: its text is data of the wrong shape, never the answer.
            logger.warning("llm reader: the reply has no answer (%s): %.80r", mode, response.text)
            details["fallback"] = f"no answer in the reply ({mode})"
            return Reading(answer="", reader=reader, details=details)
        if not answer:
            reason = "empty reply" if not response.text.strip() else "plain prose reply"
            logger.warning("llm reader fell back to the raw reply: %s", reason)
            answer, valid = response.text.strip(), []
            details["fallback"] = reason
        elif not valid:
            logger.warning("llm reader got no usable citation; citing the top passage")
            details["fallback"] = "no usable citation"
        cited = [top[n - 1] for n in valid] or [top[0]]
        citations = [_citation(p, answer) for p in cited]
        reading = Reading(answer=answer, citations=citations, reader=reader, details=details)
        return date_answer(question, reading, top)


def reply_schema(passages: int) -> JsonOutput:
    """The reply's JSON shape: a short answer and citation numbers in 1..passages."""
    return json_object(
        "reader_answer",
        {
            "answer": {"type": "string", "maxLength": MAX_ANSWER_CHARS},
            "citations": array_of(number_choice(passages), max_items=passages),
        },
    )


def build_prompt(question: str, passages: Sequence[Passage], context: Sequence[str] = ()) -> str:
    """Render the user prompt: background summaries if any, passages numbered from 1 with their
    titles, then the question."""
    blocks = []
    for i, p in enumerate(passages, start=1):
        head = f"[{i}] {p.title}" if p.title else f"[{i}]"
        blocks.append(f"{head}\n{p.text.strip()}")
    prompt = USER_TEMPLATE.format(passages="\n\n".join(blocks), question=question.strip())
    if not context:
        return prompt
    background = "\n".join(f"- {text.strip()}" for text in context)
    return BACKGROUND_TEMPLATE.format(background=background) + prompt


def parse_reply(text: str) -> tuple[str, list[int], str]:
    """Return (answer, cited numbers, parse mode) from a reply; answer is "" if none is found."""
    obj, mode = parse_json_object(text)
    if obj is not None:
        # A JSON reply is never re-read as prose: its "citations": [1] is not a marker.
        return _answer_text(obj.get("answer")), _numbers(obj.get("citations")), mode
    markers = _MARKER.findall(text)
    if markers:
        numbers = [int(n) for group in markers for n in group.split(",")]
        answer = _MARKER.sub("", text)
        answer = _TRAILING_LABEL.sub("", _LABEL.sub("", answer.strip()))
        answer = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(answer.split()))
        return answer.strip(), numbers, "markers"
    return "", [], "none"


def _answer_text(value: Any) -> str:
    """Read the answer field: a string or number, or a list of them joined by commas."""
    items = value if isinstance(value, list) else [value]
    parts = [
        str(v).strip()
        for v in items
        if isinstance(v, (str, int, float)) and not isinstance(v, bool)
    ]
    return ", ".join(p for p in parts if p)


def _numbers(value: Any) -> list[int]:
    """Read citation numbers from a list of ints or of strings such as "2" or "[3]"."""
    items = value if isinstance(value, list) else [value]
    numbers = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            numbers.append(item)
        elif isinstance(item, str):
            numbers.extend(int(n) for n in re.findall(r"\d+", item))
    return numbers


def _citation(passage: Passage, answer: str) -> Citation:
    """Cite a passage with its sentence that shares the most words with the answer."""
    sentences = split_sentences(passage.text) or [passage.text]
    words = content_words(answer)
    needle = answer.lower().strip()

    def overlap(sentence: str) -> tuple[bool, int]:
        return bool(needle) and needle in sentence.lower(), len(words & content_words(sentence))

    return cite(passage, max(sentences, key=overlap))
