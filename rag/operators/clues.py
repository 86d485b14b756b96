"""Clue drafting (MemoRAG, Qian et al. 2025): texts that retrieve what the question alone misses.

A clue is an evidence span the drafter expects the corpus to hold (`span`), a more precise
question (`sub_question`), or a guess at the answer (`draft_answer`, offered to the reader as a
hint, not searched). The LLM drafter reads a compressed view of the corpus (its memory); the
offline drafters use honest non-LLM means: the knowledge graph's facts nearest the question,
and pseudo-relevance feedback from the first-round passages (the names they introduce and the
sentence that bridges to them). Every clue names the drafter that made it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rag.embed.base import Embedder
from rag.llm.base import LLM
from rag.llm.structured import JsonOutput, array_of, json_object, limit_lists
from rag.operators.llm_json import parse_json_object
from rag.operators.reader.answer_spans import candidate_spans
from rag.operators.reader.extractive import ExtractiveReader
from rag.operators.reader.text import content_words

logger = logging.getLogger(__name__)

ClueKind = Literal["span", "sub_question", "draft_answer"]
CLUE_KINDS: tuple[ClueKind, ...] = ("span", "sub_question", "draft_answer")
#: MemoRAG keeps clue lines of more than three words; shorter ones retrieve noise.
MIN_CLUE_WORDS = 4
PROMPT_VERSION = "clues/1"


@dataclass(frozen=True)
class Clue:
    """One drafted clue: its text, its kind, and which drafter made it."""

    text: str
    kind: ClueKind
    drafter: str


def _new_to(question_words: set[str], text: str) -> set[str]:
    """Content words of `text` the question does not contain."""
    return content_words(text) - question_words


def _hop_query(question: str, sentence: str, bridge: str) -> str:
    """The next hop as a query: the bridge name and what the question asks that the bridging
    sentence does not answer ('Where was the designer of X born?' -> 'Jane Roe born')."""
    covered = content_words(sentence)
    rest = [
        w
        for w in question.rstrip(" ?").split()
        if (words := content_words(w)) and not words <= covered
    ]
    return " ".join([bridge, *rest])


class FeedbackClueDrafter:
    """Pseudo-relevance feedback: what the first-round passages say that the question does not.

    For each of the top passages, the sentence closest to the question that introduces a name
    the question lacks is a `span` clue (the bridging sentence), and that name with the question
    words the sentence leaves unanswered is a `sub_question` clue (the next hop). It cannot know
    whether the name is the right bridge; it only knows the passage was retrieved and the name
    is new.
    """

    name = "feedback"

    def draft(
        self,
        question: str,
        ranked_sentences: Sequence[str],
        kinds: Sequence[ClueKind],
        limit: int,
    ) -> list[Clue]:
        """Up to `limit` span / sub-question clues from the passages' sentences, given best
        first (as the extractive reader ranks them, so no sentence is embedded twice)."""
        qwords = content_words(question)
        clues: list[Clue] = []
        seen_names: set[str] = set()
        for sentence in ranked_sentences:
            names = [
                span.text
                for span in candidate_spans(sentence)
                if span.kind in ("name", "title") and _new_to(qwords, span.text)
            ]
            names = [n for n in names if n.lower() not in seen_names]
            if not names:
                continue
            bridge = names[0]
            seen_names.add(bridge.lower())
            if "span" in kinds and len(sentence.split()) >= MIN_CLUE_WORDS:
                clues.append(Clue(sentence, "span", self.name))
            if "sub_question" in kinds:
                clues.append(
                    Clue(_hop_query(question, sentence, bridge), "sub_question", self.name)
                )
            if len(clues) >= limit:
                break
        return clues[:limit]


class GraphClueDrafter:
    """The knowledge graph's facts nearest the question, as `span` clues.

    A fact the graph extracted ('Jane Roe born in Lisbon') names entities the question may not;
    searching with it reaches the passages that assert it and their neighbours.
    """

    name = "graph"

    def draft(self, question: str, facts: Sequence[str], limit: int) -> list[Clue]:
        """The first `limit` facts (nearest first) that add words the question does not have."""
        qwords = content_words(question)
        chosen = [f for f in facts if _new_to(qwords, f) and len(f.split()) >= MIN_CLUE_WORDS - 1]
        return [Clue(text, "span", self.name) for text in chosen[:limit]]


_PROMPT = """You help a search engine find the evidence for a question in a large collection \
of documents. Below is a compressed view of the collection (its memory), then the question.

Memory:
{memory}

Question: {question}

Write clues that would retrieve the evidence:
- "spans": up to {limit} sentences you expect the documents to contain (what the evidence would \
say, with the names and facts it would mention);
- "sub_questions": up to {limit} more precise questions whose answers lead to the answer;
- "draft_answer": your best short guess at the answer, or "" if you have none.
Reply with JSON only: {{"spans": [...], "sub_questions": [...], "draft_answer": "..."}}"""

# A clue line in a non-JSON reply: labelled ("Span: ...") or a list item ("- ...", "2. ...");
# plain prose (a refusal, an explanation) is not a clue.
_LINE = re.compile(
    r"^\s*(?:(?P<bullet>[-*]|\d+[.)])\s+)?"
    r"(?:(?P<label>span|sub[_ -]?question|draft[_ -]?answer)s?\s*:)?\s*(?P<text>.*)$",
    re.I,
)


class LLMClueDrafter:
    """MemoRAG's clue drafting with an LLM reading the corpus memory (summaries or passages)."""

    name = "llm"

    def __init__(self, llm: LLM) -> None:
        """Use `llm`."""
        self.llm = llm

    def prompt(self, question: str, memory: Sequence[str], limit: int) -> str:
        """The drafting prompt."""
        listing = "\n".join(f"- {m.strip()}" for m in memory) or "(empty)"
        return _PROMPT.format(memory=listing, question=question.strip(), limit=limit)

    def draft(
        self, question: str, memory: Sequence[str], kinds: Sequence[ClueKind], limit: int
    ) -> list[Clue]:
        """Clues of the asked kinds from one LLM call; a reply without any is logged, not used."""
        output = clue_schema(limit)
        prompt = self.prompt(question, memory, limit)
        reply = self.llm.complete_json(prompt, output, stage="clues").text
        spans, subs, answer = _parse_clues(reply, output)
        if not (spans or subs or answer):
            logger.warning("clue drafter: no clues in the LLM reply %r", reply[:200])
        clues = [Clue(t, "span", self.name) for t in spans if "span" in kinds][:limit]
        clues += [Clue(t, "sub_question", self.name) for t in subs if "sub_question" in kinds][
            :limit
        ]
        if answer and "draft_answer" in kinds:
            clues.append(Clue(answer, "draft_answer", self.name))
        return clues


def _long_enough(texts: object) -> list[str]:
    """The strings of a list that have more than three words (MemoRAG's rule)."""
    if not isinstance(texts, list):
        return []
    return [t.strip() for t in texts if isinstance(t, str) and len(t.split()) >= MIN_CLUE_WORDS]


def clue_schema(limit: int) -> JsonOutput:
    """The reply's JSON shape: up to `limit` spans and sub-questions, and a draft answer."""
    text = {"type": "string", "maxLength": 300}
    return json_object(
        "clues",
        {
            "spans": array_of(text, limit),
            "sub_questions": array_of(text, limit),
            "draft_answer": {"type": "string", "maxLength": 120},
        },
    )


def _parse_clues(reply: str, output: JsonOutput | None = None) -> tuple[list[str], list[str], str]:
    """Spans, sub-questions and the draft answer from a JSON reply, or from labelled lines;
    a JSON reply's lists lose repeats and items past `output`'s limits."""
    data, _mode = parse_json_object(reply)
    if data is not None and output is not None:
        data, _dropped = limit_lists(data, output.schema)
    if data is not None:
        answer = data.get("draft_answer")
        return (
            _long_enough(data.get("spans")),
            _long_enough(data.get("sub_questions")),
            answer.strip() if isinstance(answer, str) else "",
        )
    spans, subs, answer = [], [], ""
    for line in reply.splitlines():
        match = _LINE.match(line)
        text = match.group("text").strip() if match else ""
        if not match or not text or not (match.group("label") or match.group("bullet")):
            continue
        label = (match.group("label") or "").lower().replace(" ", "_").replace("-", "_")
        if label.startswith("draft"):
            answer = text
        elif label.startswith("sub") or text.endswith("?"):
            subs.append(text)
        elif len(text.split()) >= MIN_CLUE_WORDS:
            spans.append(text)
    return spans, [s for s in subs if len(s.split()) >= MIN_CLUE_WORDS], answer


class OfflineClueDrafters:
    """The offline drafters together (implementation `feedback`): graph facts, pseudo-relevance
    feedback and the extractive reader's draft answer, with one reader built for all of them."""

    name = "feedback"

    def __init__(self, embedder: Embedder) -> None:
        """Build the reader that ranks first-round sentences and drafts the answer."""
        self.reader = ExtractiveReader(embedder)
        self.graph = GraphClueDrafter()
        self.feedback = FeedbackClueDrafter()

    def warm_up(self) -> None:
        """Load the embedding model now rather than on the first question."""
        self.reader.warm_up()
