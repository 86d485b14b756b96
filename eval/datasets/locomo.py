"""LoCoMo: long multi-session conversations, each question evaluated against its own one.

Layout (snap-research/LoCoMo, `data/locomo10.json`): a JSON list of samples, each with
`sample_id`, `conversation` and `qa` (and summaries and observations, not read here). The
conversation holds `session_<n>` lists of turns ({speaker, dia_id "D<n>:<turn>", text, and for a
shared photo a `blip_caption`}) and each session's `session_<n>_date_time` ("1:56 pm on 8 May,
2023"); session numbers may have gaps. A qa entry has `question`, `answer` (a string or a
number), `evidence` (dia_ids) and `category`: 1 multi-hop, 2 temporal, 3 open-domain,
4 single-hop, 5 adversarial. An adversarial question asks what the conversation never says: it
carries `adversarial_answer` (a plausible wrong answer) instead of `answer`, and the right
response is to decline.

Per-conversation retrieval: each sample is its own memory, one corpus (one index) per sample,
and each question is asked of its own sample's index only, never of the other conversations.

Passages are windows of `turns_per_passage` consecutive turns of one session (default 1: each
turn is a passage), written `[<session date time>] <speaker>: <text>` (further turns of a window
as more `<speaker>: <text>` lines) so that "when did ..." questions can be answered from the
passage; a photo's caption follows its turn's text as `[shares a photo: <caption>]`. The date
stays in the text because the bundled embedder ranks better with it (Recall@5 0.380 with,
0.340 without on locomo-dev); it is also a field. With `context_turns=N` the N turns before a
window (same session) come first, after the date, as context lines: the passage is still about
its own turns (its `dia_ids`, and gold), the context ones are listed in `context_dia_ids`. Each
sample's windows are cached as a JSONL corpus ({"text", "sample_id", "session", "turn" (the
window's first turn, counted over the whole conversation from 0), "speaker" (comma-joined when
a window has several), "dia_ids" (comma-joined), "date_time", and "context_dia_ids" when there
is context}) like QMSum's; scalar extras become passage metadata, which the `conversation`
preset's steps read. Passage ids are the ones `rag index` gives (each window chunked by the
ingestion code with the loading settings' chunking).

Gold: the passages holding any of a question's evidence dia_ids. Evidence ids that match no turn
of the sample (LoCoMo has a few) are noted on the question as 'unmatched_gold' and reported once;
recall is scored over the evidence that matched. Answers: categories 1-4 score EM/F1 against
`answer` (also per category, `f1_cat<n>`); category 5 has no reference answer (EM/F1 skip it,
metadata 'adversarial' is set) and is scored by whether the prediction declines
(`eval.metrics.declines`, mean `declined_cat5`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.datasets.gold import mark_unmatched
from eval.datasets.locomo_layout import ADVERSARIAL, Conversation, Session, Turn, parse_conversation
from eval.datasets.model import Dataset, QAItem
from eval.datasets.per_document import (
    corpus_folder,
    data_hash,
    parse_documents,
    per_document_dataset,
    record_passage_ids,
    write_corpus,
)
from eval.datasets.selection import selected_indices
from rag.errors import ConfigError, InputError
from rag.settings import Settings

logger = logging.getLogger(__name__)

#: Names the passage definition in the cache folder's hash: change it when passages change.
PASSAGE_FORMAT = "locomo-turns-v2"
#: The figures the summary table shows: recall over evidence turns, answer F1 (categories
#: 1-4), and how often the reader declines what the conversation never says (category 5).
HEADLINE = ["recall@5", "recall@10", "f1", f"declined_cat{ADVERSARIAL}"]

# Sample ids become file names; anything else in them is replaced.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Window:
    """Consecutive turns of one session, as one passage."""

    session: Session
    turns: list[Turn]
    #: The window's first turn, counted over the whole conversation from 0.
    position: int = 0
    #: Earlier turns of the session shown before the window's own, as context.
    context: tuple[Turn, ...] = ()

    @property
    def text(self) -> str:
        """The context and own turns as `speaker: text` lines after the session's date."""
        lines = "\n".join(f"{t.speaker}: {t.text}" for t in (*self.context, *self.turns))
        return f"[{self.session.date_time}] {lines}"

    def record(self, sample_id: str) -> dict[str, Any]:
        """The window as a corpus record; its scalar extras become passage metadata."""
        record: dict[str, Any] = {
            "text": self.text,
            "sample_id": sample_id,
            "session": self.session.number,
            "turn": self.position,
            "speaker": ",".join(dict.fromkeys(t.speaker for t in self.turns)),
            "dia_ids": ",".join(t.dia_id for t in self.turns),
            "date_time": self.session.date_time,
        }
        if self.context:
            record["context_dia_ids"] = ",".join(t.dia_id for t in self.context)
        return record


def windows(
    conversation: Conversation, turns_per_passage: int = 1, context_turns: int = 0
) -> list[Window]:
    """The conversation's turns in windows of `turns_per_passage`, never across sessions,
    each after up to `context_turns` earlier turns of its session."""
    found, position = [], 0
    for session in conversation.sessions:
        for start in range(0, len(session.turns), turns_per_passage):
            context = tuple(session.turns[max(0, start - context_turns) : start])
            own = session.turns[start : start + turns_per_passage]
            found.append(Window(session, own, position, context))
            position += len(own)
    return found


def _items(
    conversation: Conversation, found: list[Window], ids: list[list[str]]
) -> tuple[list[QAItem], dict[str, list[str]]]:
    """The conversation's questions with gold from their evidence, and the evidence unmatched."""
    where: dict[str, list[int]] = {}
    for n, window in enumerate(found):
        for turn in window.turns:
            where.setdefault(turn.dia_id, []).append(n)
    items, unmatched = [], {}
    for n, q in enumerate(conversation.questions):
        qid = f"{conversation.id}-q{n}"
        gold = [pid for e in q.evidence for w in where.get(e, []) for pid in ids[w]]
        missing = [e for e in q.evidence if e not in where]
        if missing:
            unmatched[qid] = missing
        metadata: dict[str, Any] = {
            "document": conversation.id,
            "category": q.category,
            "evidence": q.evidence,
        }
        if q.category == ADVERSARIAL:
            metadata["adversarial"] = True
            if q.adversarial_answer:
                metadata["adversarial_answer"] = q.adversarial_answer
        items.append(
            QAItem(
                id=qid,
                question=q.question,
                answers=[q.answer] if q.answer else [],
                gold_ids=list(dict.fromkeys(gold)),
                metadata=metadata,
            )
        )
    return items, unmatched


def _documents(conversations: list[Conversation], path: Path) -> dict[str, str]:
    """Each sample's corpus file name; sample ids must be distinct, also as file names."""
    names: dict[str, str] = {}
    for conversation in conversations:
        name = _UNSAFE.sub("_", conversation.id) + ".jsonl"
        if conversation.id in names or name in names.values():
            raise InputError(f"{path}: sample_id {conversation.id!r} appears twice")
        names[conversation.id] = name
    return names


def load_locomo(
    path: Path,
    name: str,
    selection: dict[str, Any],
    settings: Settings,
    turns_per_passage: int = 1,
    context_turns: int = 0,
) -> Dataset:
    """Load a LoCoMo conversations file: one corpus per sample, each question against its own;
    passages of `turns_per_passage` turns after `context_turns` turns of context."""
    _check_count("turns_per_passage", turns_per_passage, 1)
    _check_count("context_turns", context_turns, 0)
    conversations = parse_documents(path, "sample", parse_conversation, "conversations")
    passage_format = f"{PASSAGE_FORMAT}:{turns_per_passage}:{context_turns}"
    folder = corpus_folder(settings, "locomo", data_hash(path, passage_format, {}))
    files = _documents(conversations, path)
    documents: dict[str, Path] = {}
    items: list[QAItem] = []
    unmatched: dict[str, list[str]] = {}
    turn_count = window_count = passage_count = 0
    for conversation in conversations:
        corpus = folder / files[conversation.id]
        found = windows(conversation, turns_per_passage, context_turns)
        write_corpus(corpus, (w.record(conversation.id) for w in found))
        ids = record_passage_ids(corpus, settings.chunking)
        documents[conversation.id] = corpus
        asked, missing = _items(conversation, found, ids)
        items += asked
        unmatched.update(missing)
        turn_count += sum(len(w.turns) for w in found)
        window_count += len(found)
        passage_count += len({pid for window_ids in ids for pid in window_ids})
    items = [items[i] for i in selected_indices(len(items), selection)]
    logger.info(
        "%s: %d conversations, %d turns in %d passages of up to %d turns (%d passages at "
        "chunk_size %d), %d questions; per-conversation retrieval: each question is evaluated "
        "against its own conversation only",
        path,
        len(conversations),
        turn_count,
        window_count,
        turns_per_passage,
        passage_count,
        settings.chunking.chunk_size,
        len(items),
    )
    _report(items, unmatched, path)
    return per_document_dataset(
        name,
        path,
        folder,
        documents,
        items,
        passage_count,
        data_hash(path, passage_format, selection),
        HEADLINE,
        settings,
    )


def _check_count(name: str, value: object, least: int) -> None:
    """A whole number of at least `least`, or a ConfigError naming the option."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    if value < least:
        raise ConfigError(f"{name} must be at least {least}, got {value}")


def _report(items: list[QAItem], unmatched: dict[str, list[str]], path: Path) -> None:
    """Mark and report evidence that matches no turn, and questions nothing can score."""
    mark_unmatched(
        items,
        unmatched,
        path,
        "have evidence dia_ids that match no turn of their conversation; recall is scored over "
        "the evidence that matched",
    )
    without_gold = sum(not item.gold_ids for item in items)
    if without_gold:
        logger.info("%d questions have no gold turns; retrieval metrics skip them", without_gold)
    without_answer = sum(
        not item.answers and not item.metadata.get("adversarial") for item in items
    )
    if without_answer:
        logger.warning(
            "%s: %d questions of categories 1-4 have no answer; EM and F1 skip them",
            path,
            without_answer,
        )
