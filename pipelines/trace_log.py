"""Saved traces: one JSON object per query per line, the format the inspector app reads.

Each line is a `TraceRecord`: format tag, pipeline, index dir, question, answer text with its
citations, the ranked hits with typed reasons, and the trace events (`id`, `parent`, `step`,
`inputs`, `outputs`, `seconds`, `llm_calls`, `llm_cached`, `llm_tokens`), parents before
children. Written by `rag query --trace-out FILE` and, per pipeline, by `rag eval --out`.

Event outputs are typed (`rag.trace_outputs`) and keep the keys they always had in JSON, with a
`type` tag added; an untagged line from before reads into the same models by its step label,
so the format stays `memrag.trace/1`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from rag.errors import InputError
from rag.types import Answer, Citation, Hit, TraceEvent

logger = logging.getLogger(__name__)


class TraceRecord(BaseModel):
    """What one pipeline did with one question."""

    format: Literal["memrag.trace/1"] = "memrag.trace/1"
    pipeline: str
    index: str = ""
    question_id: str | None = None
    question: str
    answer: str = ""
    reader: str = ""
    citations: list[Citation] = Field(default_factory=list)
    hits: list[Hit] = Field(default_factory=list)
    events: list[TraceEvent] = Field(default_factory=list)

    @classmethod
    def of(
        cls, answer: Answer, pipeline: str, index: str = "", question_id: str | None = None
    ) -> TraceRecord:
        """The record of one answered (or retrieval-only) question."""
        return cls(
            pipeline=pipeline,
            index=index,
            question_id=question_id,
            question=answer.question,
            answer=answer.text,
            reader=answer.reader,
            citations=answer.citations,
            hits=answer.hits,
            events=answer.trace,
        )

    def to_answer(self) -> Answer:
        """The answer this record was made of (`of`'s inverse)."""
        return Answer(
            question=self.question,
            text=self.answer,
            citations=self.citations,
            hits=self.hits,
            trace=self.events,
            reader=self.reader,
        )


def append_trace(path: Path, record: TraceRecord) -> None:
    """Append one record as a line (the folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(record.model_dump_json() + "\n")


def read_traces(path: Path) -> Iterator[TraceRecord]:
    """The records of a trace file; a torn or foreign line is skipped with a logged reason."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read trace file ({exc})") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield TraceRecord.model_validate_json(line)
        except ValidationError as exc:
            logger.warning("%s:%d: not a memrag trace record, skipped (%s)", path, n, exc.title)
