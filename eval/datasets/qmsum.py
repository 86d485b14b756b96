"""QMSum: long meeting transcripts whose queries are each evaluated against their own meeting.

Layout (QMSum's own, github.com/Yale-LILY/QMSum): a .jsonl file (or a .json list) with one
meeting per record: `meeting_transcripts` (a list of {speaker, content}; a turn's index in it is
its turn number), `specific_query_list` ({query, answer, relevant_text_span}) and
`general_query_list` ({query, answer}). Spans are [start, end] pairs of turn numbers, inclusive,
written as strings. The records carry no meeting id: a meeting is named by its position in the
file, from 1 (`meeting-01`).

Passages are windows of consecutive whole turns holding at most 200 words of content (split on
whitespace; the speaker label is not counted, as in the qmsum-val reference table, which this
reproduces: 1,827 windows over 35 meetings): a window closes before the turn that would pass 200,
and a longer turn is a window of its own. A window's text is its turns as `speaker: content`
lines joined by "\\n", with no title.

Each meeting's windows are written as a JSONL corpus ({"text", "meeting", "turn_start",
"turn_end"}; `rag index` keeps the scalar extras as passage metadata) into a cache folder named
by the data's content hash. Passage ids are the ones `rag index` gives: each meeting's records
are read and chunked by the ingestion code itself with the given chunking settings. At the
default chunk_size (512 tokens) a window stays one passage unless it is a long single turn (20
of the 1,827 windows of qmsum-val), which becomes several; each of them is relevant when its
window is. The gold thus fits that chunking, and the runner refuses an index chunked otherwise.

Gold: a passage is relevant to a specific query when any of its turns lies inside any of the
query's spans. General queries ("summarize the meeting") have no spans, hence no gold: retrieval
metrics skip them (their count is logged and reported), answer metrics score them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.datasets.model import Dataset, QAItem
from eval.datasets.per_document import (
    corpus_folder,
    data_hash,
    parse_documents,
    per_document_dataset,
    write_corpus,
)
from eval.datasets.qmsum_layout import Meeting, parse_meeting
from eval.datasets.selection import selected_indices
from rag.ingest.chunking import chunk_documents
from rag.ingest.records import read_jsonl
from rag.settings import Settings
from rag.types import Passage

logger = logging.getLogger(__name__)

#: Words of turn content a window holds at most.
WINDOW_WORDS = 200
#: Names the passage definition in the cache folder's hash: change it when windows change.
WINDOW_FORMAT = f"qmsum-windows-v1:{WINDOW_WORDS}"
#: The figures the summary table shows for this set: spans are wide, so precision and nDCG
#: say more than recall, and answers are summaries, scored by ROUGE-L.
HEADLINE = ["hit@5", "precision@5", "ndcg@10", "rougeL"]


@dataclass(frozen=True)
class Window:
    """Consecutive whole turns of one meeting, as one passage text."""

    turn_start: int
    turn_end: int
    text: str


def windows(meeting: Meeting, max_words: int = WINDOW_WORDS) -> list[Window]:
    """The meeting's turns grouped into windows of at most `max_words` words of content."""
    found: list[Window] = []
    lines: list[str] = []
    start, words = 0, 0
    for number, (speaker, content) in enumerate(meeting.turns):
        size = len(content.split())
        if lines and words + size > max_words:
            found.append(Window(start, number - 1, "\n".join(lines)))
            lines, words = [], 0
        if not lines:
            start = number
        lines.append(f"{speaker}: {content}")
        words += size
    if lines:
        found.append(Window(start, len(meeting.turns) - 1, "\n".join(lines)))
    return found


def _records(meeting: Meeting) -> list[dict[str, Any]]:
    """The meeting's windows as corpus records."""
    return [
        {"text": w.text, "meeting": meeting.id, "turn_start": w.turn_start, "turn_end": w.turn_end}
        for w in windows(meeting)
    ]


def _gold(passages: list[Passage], spans: list[tuple[int, int]]) -> list[str]:
    """Ids of the passages with a turn inside any span."""
    return [
        p.id
        for p in passages
        if any(
            p.metadata["turn_start"] <= end and start <= p.metadata["turn_end"]
            for start, end in spans
        )
    ]


def _items(meeting: Meeting, passages: list[Passage]) -> list[QAItem]:
    """The meeting's queries, specific ones then general ones, with gold from their spans."""
    items = [
        QAItem(
            id=f"{meeting.id}-s{n}",
            question=q.query,
            answers=[q.answer] if q.answer else [],
            gold_ids=_gold(passages, q.spans),
            metadata={
                "document": meeting.id,
                "query_type": "specific",
                "spans": [list(s) for s in q.spans],
            },
        )
        for n, q in enumerate(meeting.specific)
    ]
    items += [
        QAItem(
            id=f"{meeting.id}-g{n}",
            question=q.query,
            answers=[q.answer] if q.answer else [],
            metadata={"document": meeting.id, "query_type": "general"},
        )
        for n, q in enumerate(meeting.general)
    ]
    return items


def load_qmsum(path: Path, name: str, selection: dict[str, Any], settings: Settings) -> Dataset:
    """Load a QMSum meetings file: one corpus per meeting, each query against its own meeting."""
    meetings = parse_documents(path, "meeting", parse_meeting, "meetings")
    # Named by content alone, so the file and its folder, loaded either way, share one cache.
    folder = corpus_folder(settings, "qmsum", data_hash(path, WINDOW_FORMAT, {}))
    documents: dict[str, Path] = {}
    items: list[QAItem] = []
    window_count = passage_count = 0
    for meeting in meetings:
        corpus = folder / f"{meeting.id}.jsonl"
        write_corpus(corpus, _records(meeting))
        # Read and chunked by the ingestion code itself, so ids are those `rag index` gives.
        docs = read_jsonl(corpus)
        passages = chunk_documents(docs, settings.chunking)
        documents[meeting.id] = corpus
        items += _items(meeting, passages)
        window_count += len(docs)
        passage_count += len(passages)
    items = [items[i] for i in selected_indices(len(items), selection)]
    without_gold = sum(not item.gold_ids for item in items)
    logger.info(
        "%s: %d meetings, %d turn windows of up to %d words (%d passages at chunk_size %d), "
        "%d queries; each query is evaluated against its own meeting only",
        path,
        len(meetings),
        window_count,
        WINDOW_WORDS,
        passage_count,
        settings.chunking.chunk_size,
        len(items),
    )
    if without_gold:
        logger.info(
            "%d queries have no evidence spans (QMSum's general queries); retrieval metrics "
            "skip them",
            without_gold,
        )
    return per_document_dataset(
        name,
        path,
        folder,
        documents,
        items,
        passage_count,
        data_hash(path, WINDOW_FORMAT, selection),
        HEADLINE,
        settings,
    )
