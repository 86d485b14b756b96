"""Recognize and validate QMSum's meeting records (transcript turns, queries, evidence spans)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.datasets.files import find_by_content, first_record, string_field
from rag.errors import InputError

#: The field that marks a record as a QMSum meeting.
TRANSCRIPT = "meeting_transcripts"
SPECIFIC = "specific_query_list"
GENERAL = "general_query_list"


@dataclass(frozen=True)
class Query:
    """A query on one meeting, its reference answer and its evidence spans (inclusive turns)."""

    query: str
    answer: str
    spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Meeting:
    """One meeting: its (speaker, content) turns in order, and its queries."""

    id: str
    turns: list[tuple[str, str]]
    specific: list[Query]
    general: list[Query]


def is_meetings_file(path: Path) -> bool:
    """Whether a .json/.jsonl file holds QMSum meeting records (judged by its first record)."""
    first = first_record(path)
    return isinstance(first, dict) and TRANSCRIPT in first


def find_meetings(path: Path) -> Path | None:
    """The QMSum meetings file that `path` is or that its folder holds, or None."""
    return find_by_content(path, is_meetings_file, "QMSum meeting")


def _turn_number(value: Any, where: str) -> int:
    """A turn number written as an int or a string of digits."""
    if isinstance(value, bool):
        raise InputError(f"{where}: {value!r} is not a turn number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise InputError(f"{where}: {value!r} is not a turn number")


def _spans(value: Any, turns: int, where: str) -> list[tuple[int, int]]:
    """The [start, end] pairs of a relevant_text_span, checked against the transcript length."""
    if not isinstance(value, list):
        raise InputError(f"{where}: 'relevant_text_span' must be a list of [start, end] pairs")
    spans = []
    for span in value:
        if not isinstance(span, list) or len(span) != 2:
            raise InputError(f"{where}: span {span!r} is not two turn numbers [start, end]")
        start, end = (_turn_number(x, f"{where}: span {span!r}") for x in span)
        if start > end:
            raise InputError(f"{where}: span {span!r} starts after it ends")
        if end >= turns:
            raise InputError(
                f"{where}: span {span!r} goes past the last turn ({turns - 1}) of the transcript"
            )
        spans.append((start, end))
    return spans


def _queries(record: dict[str, Any], key: str, turns: int, where: str) -> list[Query]:
    """The queries under `key` (absent means none); specific ones must carry their spans."""
    value = record.get(key, [])
    if not isinstance(value, list):
        raise InputError(f"{where}: '{key}' must be a list of queries")
    queries = []
    for n, q in enumerate(value):
        at = f"{where}, {key}[{n}]"
        if not isinstance(q, dict):
            raise InputError(f"{at} is a JSON {type(q).__name__}, not a query object")
        spans = _spans(q.get("relevant_text_span"), turns, at) if key == SPECIFIC else []
        queries.append(
            Query(
                string_field(q, "query", at).strip(), string_field(q, "answer", at).strip(), spans
            )
        )
    return queries


def parse_meeting(record: Any, meeting_id: str, where: str) -> Meeting:
    """Validate one meeting record into a Meeting; errors name the record and the field."""
    if not isinstance(record, dict):
        raise InputError(f"{where} is a JSON {type(record).__name__}, not a meeting object")
    transcript = record.get(TRANSCRIPT)
    if not isinstance(transcript, list) or not transcript:
        raise InputError(
            f"{where} ({meeting_id}) has no transcript: '{TRANSCRIPT}' must be a non-empty list "
            "of {speaker, content}"
        )
    turns = [
        (
            string_field(t, "speaker", f"{where}, turn {n}"),
            string_field(t, "content", f"{where}, turn {n}"),
        )
        for n, t in enumerate(transcript)
    ]
    return Meeting(
        id=meeting_id,
        turns=turns,
        specific=_queries(record, SPECIFIC, len(turns), where),
        general=_queries(record, GENERAL, len(turns), where),
    )
