"""MemWalker's LLM navigator (Chen et al. 2023, "Walking Down the Memory Maze").

At an internal node of a summary tree the LLM reads the question, its working memory and the
numbered child summaries, reasons briefly, and picks a child or goes back; at a leaf it answers
from the segment or goes back. Replies are parsed tolerantly; a reply with no usable action is
"invalid" with a logged reason, and the caller decides how many of those to bear.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rag.llm.base import LLM

logger = logging.getLogger(__name__)

PROMPT_VERSION = "navigate/1"
NAVIGATE_STAGE = "navigate"
READ_LEAF_STAGE = "read_leaf"

NAVIGATE_TEMPLATE = (
    "You are looking for the answer to a question in a long text that is stored as a tree of "
    "summaries. You are at one node of the tree; each option below summarizes one part of the "
    "text under it.\n\n"
    "Question: {question}\n\n"
    "Working memory (what you have read so far on this path, oldest first):\n{memory}\n\n"
    "Options:\n{options}\n\n"
    "First reason briefly, in a few sentences, about which option is most likely to lead to "
    "the answer. Then end your reply with one final line that is exactly `Action: <number>` "
    "to open that option, or exactly `Action: back` if no option is likely to hold the answer "
    "and the search should return to the level above."
)
READ_LEAF_TEMPLATE = (
    "You are looking for the answer to a question in a long text and have reached one segment "
    "of it.\n\n"
    "Question: {question}\n\n"
    "Working memory (what you have read so far on this path, oldest first):\n{memory}\n\n"
    "Segment:\n{text}\n\n"
    "First reason briefly, in a few sentences, about whether the segment, together with the "
    "working memory, answers the question. Then end your reply with one final line: "
    "`Answer: <the answer in a few words>` if it does, or exactly `Action: back` if it does "
    "not and the search should go back and try elsewhere."
)
_EMPTY_MEMORY = "(nothing yet)"
_SNIPPET = 80

# A label line, after markdown decoration such as **Action:** or `Action: 2` is set aside.
_LINE = re.compile(r"^(?:final\s+)?(action|answer)\s*:\s*(.*)$", re.IGNORECASE)
_BARE_CHILD = re.compile(r"^(?:child|option|node)\s*#?\s*\d+\s*[.!]?$", re.IGNORECASE)
_NUMBER = re.compile(
    r"^(?:(?:go\s+to|open|choose|select)\s+)?(?:child|option|node|summary)?"
    r"\s*#?\s*[\[(]?\s*(\d+)\b",
    re.IGNORECASE,
)
_BACK = re.compile(r"^(?:go\s+)?back\b", re.IGNORECASE)
_FULL_STOP = re.compile(r"(?<![A-Z])\.$")
_DECORATION = re.compile(r"\*+|`+|^_+|_+$")
#: Answers that say the segment does not answer; MemWalker goes back on these.
_NO_ANSWER = frozenset({"unknown", "none", "n/a", "not found", "no answer", "not stated", "back"})


@dataclass(frozen=True)
class NavigationChoice:
    """The navigator's move at an internal node."""

    action: Literal["child", "back", "invalid"]
    child: int | None  # 0-based index into the options when action == "child"
    reasoning: str
    reply: str  # the raw LLM reply, for the trace


@dataclass(frozen=True)
class LeafReading:
    """The navigator's verdict at a leaf."""

    action: Literal["answer", "back", "invalid"]
    answer: str | None
    reasoning: str
    reply: str


class EmbeddingNavigator:
    """The offline navigator: no model and no prompt; the tree index walks down by the
    similarity of its node vectors to the question (`indexers.tree.search`)."""

    name = "embedding"


class LLMNavigator:
    """Walks a summary tree with an LLM: choose a child at a node, answer or go back at a leaf."""

    name = "llm"

    def __init__(self, llm: LLM) -> None:
        """Keep the client; each move is one call (the LLM layer caches and retries)."""
        self.llm = llm

    def choose(
        self, question: str, options: Sequence[str], memory: Sequence[str]
    ) -> NavigationChoice:
        """At an internal node: pick the child most likely to lead to the answer, or go back."""
        if not options:
            raise ValueError("choose needs at least one child summary to choose from")
        listed = "\n\n".join(f"[{i}] {o.strip()}" for i, o in enumerate(options, 1))
        prompt = NAVIGATE_TEMPLATE.format(
            question=question.strip(), memory=_memory(memory), options=listed
        )
        reply = self.llm.complete(prompt, stage=NAVIGATE_STAGE).text
        return parse_choice(reply, len(options))

    def read_leaf(self, question: str, text: str, memory: Sequence[str]) -> LeafReading:
        """At a leaf: answer from the segment (with the working memory), or go back."""
        prompt = READ_LEAF_TEMPLATE.format(
            question=question.strip(), memory=_memory(memory), text=text.strip()
        )
        reply = self.llm.complete(prompt, stage=READ_LEAF_STAGE).text
        return parse_leaf(reply)

    def prompts(self) -> dict[str, str]:
        """The templates by stage, to show in docs and traces."""
        return {NAVIGATE_STAGE: NAVIGATE_TEMPLATE, READ_LEAF_STAGE: READ_LEAF_TEMPLATE}


def parse_choice(reply: str, n_options: int) -> NavigationChoice:
    """Read the last action line of a reply at an internal node."""
    found = _last_label(reply)
    if found is None:
        return _invalid_choice(reply, "no Action line", reasoning=reply.strip())
    label, value, reasoning = found
    if label == "action" and _BACK.match(value):
        return NavigationChoice("back", None, reasoning, reply)
    number = _NUMBER.match(value) if label == "action" else None
    if number is None:
        return _invalid_choice(reply, f"unrecognized {label} {value!r}", reasoning)
    child = int(number.group(1))
    if not 1 <= child <= n_options:
        return _invalid_choice(reply, f"option {child} is not in 1..{n_options}", reasoning)
    return NavigationChoice("child", child - 1, reasoning, reply)


def parse_leaf(reply: str) -> LeafReading:
    """Read the last answer or action line of a reply at a leaf."""
    found = _last_label(reply)
    if found is None:
        return _invalid_leaf(reply, "no Answer or Action line", reasoning=reply.strip())
    label, value, reasoning = found
    if label == "action" and _BACK.match(value):
        return LeafReading("back", None, reasoning, reply)
    # A closing period goes ("Paris." is Paris) unless it ends an initialism ("D.C.").
    answer = _FULL_STOP.sub("", _strip_quotes(value)) if label == "answer" else ""
    if answer.lower() in _NO_ANSWER:
        # "Answer: unknown" says the segment does not answer; that is going back.
        return LeafReading("back", None, reasoning, reply)
    if not answer:
        return _invalid_leaf(reply, f"unusable {label} {value!r}", reasoning)
    return LeafReading("answer", answer, reasoning, reply)


def _last_label(reply: str) -> tuple[str, str, str] | None:
    """(label, value, reasoning before it) for the reply's last Action/Answer line, or None."""
    lines = reply.strip().splitlines()
    for i in range(len(lines) - 1, -1, -1):
        line = _DECORATION.sub("", lines[i]).strip().lstrip("#->").strip()
        match = _LINE.match(line)
        if match is None and _BARE_CHILD.match(line):
            label, value = "action", line
        elif match is not None:
            label, value = match.group(1).lower(), match.group(2).strip()
            if not value:  # "Answer:" with the answer on the next line
                value = next((x.strip() for x in lines[i + 1 :] if x.strip()), "")
                value = _DECORATION.sub("", value).strip()
        else:
            continue
        return label, value, "\n".join(lines[:i]).strip()
    return None


def _strip_quotes(text: str) -> str:
    """Text without one pair of surrounding quotes."""
    if len(text) >= 2 and text[0] in "\"'“‘" and text[-1] in "\"'”’":
        return text[1:-1].strip()
    return text


def _memory(memory: Sequence[str]) -> str:
    """The working memory as a numbered list, oldest first."""
    items = [m.strip() for m in memory if m.strip()]
    return "\n".join(f"{i}. {m}" for i, m in enumerate(items, 1)) or _EMPTY_MEMORY


def _invalid_choice(reply: str, reason: str, reasoning: str) -> NavigationChoice:
    """An invalid move, with its reason logged."""
    logger.warning("navigate: invalid reply (%s): %r", reason, reply[-_SNIPPET:])
    return NavigationChoice("invalid", None, reasoning, reply)


def _invalid_leaf(reply: str, reason: str, reasoning: str) -> LeafReading:
    """An invalid leaf verdict, with its reason logged."""
    logger.warning("read_leaf: invalid reply (%s): %r", reason, reply[-_SNIPPET:])
    return LeafReading("invalid", None, reasoning, reply)
