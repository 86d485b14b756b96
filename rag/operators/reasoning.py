"""Reasoning a step (IRCoT, Trivedi et al. 2023): the next thought, which becomes the next query.

A reasoner reads the question, the passages retrieved so far and its earlier thoughts, and
writes one next thought, or stops: with an answer ("So the answer is: X"), or because it has
no new query. `LLMReasoner` asks an LLM with a few bundled examples, one prompt for any
dataset; `BridgeReasoner` is its offline twin, a heuristic that proposes the next entity the
passages name, using the extractive reader's bridge follower.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, TypeAdapter, field_validator

from rag.embed.base import Embedder
from rag.llm.base import LLM, ChatMessage
from rag.operators.reader.answer_spans import candidate_spans
from rag.operators.reader.bridging import ScoredSentence, bridge_names, follow_bridges
from rag.operators.reader.extractive import ExtractiveReader
from rag.operators.reader.span_choice import answer_type, choose_span, fullest_name
from rag.operators.reader.text import content_words, normalize_word, split_sentences, tokenize
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
        if _normal(text) in {_normal(t) for t in thoughts}:
            logger.info("llm reasoner repeated a thought: %r", text)
            why = "repeated an earlier thought"
            return Thought(text, self.name, True, None, "no new query", {**details, "why": why})
        return Thought(text, self.name, details=details)


def _normal(text: str) -> str:
    """Lower-case words only, for telling a repeated thought."""
    return " ".join(t.text.lower() for t in tokenize(text))


#: A quoted span longer than this is a quotation, not a name to look up.
MAX_NAME_WORDS = 6
#: A question word counts as matched by a chain word sharing this many first letters
#: ("director" and "directed"), because the stop test must not chase inflections.
PREFIX = 5


def _matched(word: str, words: set[str]) -> bool:
    """Whether `word` or a word with its first PREFIX letters is in `words`."""
    if word in words:
        return True
    return len(word) >= PREFIX and any(w[:PREFIX] == word[:PREFIX] for w in words)


class BridgeReasoner(Reasoner):
    """Offline bridge follower, a heuristic and not a reasoning model.

    It ranks the passages' sentences against the question as the extractive reader does,
    starts from the best sentence that mentions a name the question gives (the start of a
    bridge question's chain), and follows bridges: a sentence naming an entity, then a sentence
    about that entity. When that chain matches every question word it stops with the chain's
    best-fitting span as the answer. Otherwise it looks up one name, followed by the question
    words still unmatched ("Jane Roe born"): first a name the question gives that no passage
    mentions, else a name the question and earlier thoughts lack, from (in this order) the
    best sentence about the name it looked up last, the sentence that named that one (its next
    name), the chain, and the best sentences. With no name left it stops.

    It cannot tell a right bridge from a wrong one (any new name in a relevant sentence will
    do), does not reason about comparisons or yes/no questions beyond looking up each name, and
    judges "matched" by shared words, so a paraphrase leaves words unmatched. It remembers the
    name behind each thought it wrote, so one instance serves one question.
    """

    name = "bridge"

    def __init__(
        self,
        embedder: Embedder,
        max_passages: int = 5,
        question_vectors: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Read up to max_passages; `question_vectors` spares re-embedding known questions."""
        self.reader = ExtractiveReader(embedder, max_passages=max_passages)
        self.max_passages = max_passages
        self.question_vectors = dict(question_vectors or {})
        # The name behind each thought it wrote and the sentence that named it.
        self._looked_up: dict[str, tuple[str, str]] = {}

    def warm_up(self) -> None:
        """Load the embedding model now rather than on the first thought."""
        self.reader.warm_up()

    def for_question(self, question: str, vector: np.ndarray | None = None) -> BridgeReasoner:
        """A copy with its own look-up memory, sharing the reader: one per question's loop, so
        a reasoner built once per index serves questions in parallel."""
        fresh = copy.copy(self)
        fresh.question_vectors = {question: vector} if vector is not None else {}
        fresh._looked_up = {}
        return fresh

    def next_thought(
        self, question: str, passages: Sequence[Passage], thoughts: Sequence[str]
    ) -> Thought:
        """The next entity to look up with what is still unknown about it, or a stop."""
        top = list(passages[: self.max_passages])
        ranked = self.reader.rank_sentences(question, top, self.question_vectors.get(question))
        if isinstance(ranked, str):
            return self._stop("no new query", {"why": ranked})
        qwords = content_words(question)
        qtype, head = answer_type(question)
        # The wh-phrase noun ("what county") describes the answer; no sentence repeats it.
        hop_words = qwords - {normalize_word(head)} if head else qwords
        names = _question_names(question)
        start = next((s for s in ranked if any(_mentions(s, w) for _, w in names)), ranked[0])
        hops = follow_bridges(hop_words, start, ranked, self.reader.max_hops)
        path = [start, *(h.sentence for h in hops)]
        followed = set().union(*(content_words(h.bridge) for h in hops))
        last = self._looked_up.get(thoughts[-1]) if thoughts else None
        about = [] if last is None else _about(ranked, *last)
        covered = set().union(*(s.words | s.title_words for s in [*path, *about[:1]]))
        residual = {w for w in hop_words if not _matched(w, covered)}
        details: dict[str, Any] = {"chain": [s.text for s in path], "unmatched": sorted(residual)}
        if not residual:
            choice = choose_span(qwords | followed, qtype, head, path)
            if choice is not None:
                answer = choice.text
                if qtype == "person" and choice.kind == "name":
                    answer = fullest_name(answer, top[choice.sentence.rank].text)
                return Thought(answer, self.name, True, answer, "answer", details)
        searched = [content_words(t) for t in thoughts]
        unseen = [
            (text, "the question")
            for text, words in names
            if not any(_mentions(s, words) for s in ranked)
            and not any(words <= done for done in searched)
        ]
        known = qwords.union(followed, *searched)
        # Go on from what the last look-up found, else try the next name of the sentence that
        # led to it; then the chain and the best sentences.
        retry = [s for s in ranked if last is not None and s.text == last[1]]
        pool = ranked[: self.reader.sentence_pool]
        frontier = [*about[:1], *retry, *reversed(path), *pool]
        found = unseen[:1] or _new_bridges(frontier, known)[:1]
        if not found:
            return self._stop("no new query", {**details, "why": "no name left to look up"})
        name, source = found[0]
        text = " ".join([name, *_surface_words(question, residual - content_words(name))])
        self._looked_up[text] = (name, source)
        return Thought(text, self.name, details={**details, "look_up": name, "from": source})

    def _stop(self, reason: StopReason, details: dict[str, Any]) -> Thought:
        """A thought that ends the loop without an answer."""
        return Thought("", self.name, True, None, reason, details)


def _about(ranked: Sequence[ScoredSentence], name: str, source: str) -> list[ScoredSentence]:
    """Sentences, best first, that mention `name`, other than the one it was found in."""
    words = frozenset(content_words(name))
    return [s for s in ranked if s.text != source and _mentions(s, words)]


def _question_names(question: str) -> list[tuple[str, frozenset[str]]]:
    """Names and titles the question gives, with their content words."""
    spans = [s for s in candidate_spans(question) if s.kind in ("name", "title")]
    return [(s.text, frozenset(content_words(s.text))) for s in spans if content_words(s.text)]


def _mentions(sentence: ScoredSentence, words: frozenset[str]) -> bool:
    """Whether the sentence (or its passage title) holds every word of a name."""
    return words <= sentence.words or words <= sentence.title_words


def _new_bridges(pool: Sequence[ScoredSentence], known: set[str]) -> list[tuple[str, str]]:
    """Names in the pool's sentences, in order, that `known` lacks, with their sentence; a long
    quotation is not a name, and neither is a lone capitalized word opening its sentence."""
    seen: set[str] = set()
    found = []
    for sentence in pool:
        if sentence.text in seen:
            continue
        seen.add(sentence.text)
        for bridge, new in bridge_names(sentence, known):
            opener = " " not in bridge and sentence.text.startswith(bridge)
            if new and len(bridge.split()) <= MAX_NAME_WORDS and not opener:
                found.append((bridge, sentence.text))
    return found


def _surface_words(question: str, wanted: set[str]) -> list[str]:
    """The question's words, as written and in order, whose normalized forms are `wanted`."""
    out: list[str] = []
    for token in tokenize(question):
        if content_words(token.text) & wanted and token.text not in out:
            out.append(token.text)
    return out
