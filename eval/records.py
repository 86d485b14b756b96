"""Per-question result records, appended to JSONL as they are made so a killed run resumes."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from rag.types import Answer

logger = logging.getLogger(__name__)


class QuestionRecord(BaseModel):
    """What one pipeline did with one question, and how it scored."""

    question_id: str
    question: str
    pipeline: str
    gold_ids: list[str]
    answers: list[str]
    retrieved: list[tuple[str, float]] = Field(description="Ranked (passage id, score).")
    prediction: str
    citations: list[str]
    latency_ms: float
    llm_calls: int = 0
    llm_tokens: int = 0
    trace: list[dict[str, Any]] = Field(description="Per step: name, ms, LLM calls.")
    scores: dict[str, float | None]
    drafters: list[str] = Field(
        default_factory=list, description="The clue drafters that ran (clue pipelines)."
    )
    category: int | None = Field(
        default=None, description="The question's category (LoCoMo's 1-5), for per-category means."
    )

    @classmethod
    def trace_summary(cls, answer: Answer) -> list[dict[str, Any]]:
        """A compact view of an answer's trace: step, milliseconds, LLM calls and tokens."""
        return [
            {
                "step": e.step,
                "ms": round(e.seconds * 1000, 2),
                "llm_calls": e.llm_calls,
                "llm_tokens": e.llm_tokens,
            }
            for e in answer.trace
        ]


class RecordFile:
    """An append-only JSONL file of records for one pipeline."""

    def __init__(self, path: Path) -> None:
        """Use `path`, creating its folder."""
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def load(self) -> dict[str, QuestionRecord]:
        """Records already written, by question id; a torn last line from a kill is dropped."""
        done: dict[str, QuestionRecord] = {}
        if not self.path.exists():
            return done
        lines = self.path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines, start=1):
            try:
                record = QuestionRecord.model_validate_json(line)
            except ValidationError:
                logger.warning(
                    "%s:%d: unreadable record dropped (interrupted write?)", self.path, n
                )
                continue
            done[record.question_id] = record
        if len(done) < len(lines):
            self._rewrite(list(done.values()))
        return done

    def _rewrite(self, records: list[QuestionRecord]) -> None:
        """Rewrite the file with only good records, so appends start on a clean line."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")
        tmp.replace(self.path)

    def append(self, record: QuestionRecord) -> None:
        """Append one record and flush it to disk."""
        with self.path.open("a", encoding="utf-8") as f:
            f.write(record.model_dump_json() + "\n")
            f.flush()


def dump_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file, then rename)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
