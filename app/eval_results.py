"""A `rag eval --out` folder read back: summary, per-question records and traces (read-only)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.safety import Roots
from eval.records import QuestionRecord
from eval.report import ResultTable
from pipelines.trace_log import TraceRecord, read_traces
from rag.errors import InputError

logger = logging.getLogger(__name__)


@dataclass
class EvalRun:
    """What one eval folder holds; `records` maps pipeline name -> question id -> record."""

    folder: Path
    table: ResultTable
    records: dict[str, dict[str, QuestionRecord]] = field(default_factory=dict)
    # pipeline name -> the stem of its records and traces files
    files: dict[str, str] = field(default_factory=dict)
    skipped: int = 0

    @property
    def pipelines(self) -> list[str]:
        """Pipelines with records, in the summary's order when it has one."""
        order = [r["pipeline"] for r in self.table.rows]
        return [p for p in order if p in self.records] + sorted(
            p for p in self.records if p not in order
        )

    def question_ids(self) -> list[str]:
        """Every question any pipeline answered, in first-seen order."""
        return list(dict.fromkeys(q for recs in self.records.values() for q in recs))

    def metrics(self) -> list[str]:
        """The per-question scores the records carry."""
        names: dict[str, None] = {}
        for recs in self.records.values():
            for rec in list(recs.values())[:1]:
                names.update(dict.fromkeys(rec.scores))
        return list(names)


def _records(path: Path) -> tuple[list[QuestionRecord], int]:
    """The readable records of one file and how many lines were not (a torn last write)."""
    good, bad = [], 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            good.append(QuestionRecord.model_validate_json(line))
        except ValidationError:
            logger.warning("%s:%d: not a question record, skipped", path, n)
            bad += 1
    return good, bad


def read_eval(folder: Path, roots: Roots) -> EvalRun:
    """Read summary.json (when there) and records/*.jsonl; never writes or repairs anything.

    The folder, the records folder and each file are checked against the roots as they are
    opened: a symlinked `records/` or record file is refused, not followed.
    """
    folder = roots.check(folder)
    summary = roots.check(folder / "summary.json")
    data: dict[str, Any] = {"meta": {}, "rows": []}
    if summary.is_file():
        try:
            data = json.loads(summary.read_text(encoding="utf-8"))
            if not isinstance(data.get("rows"), list):
                raise ValueError("no 'rows' list")
        except (ValueError, AttributeError, UnicodeDecodeError) as exc:
            raise InputError(f"{summary}: not a rag eval summary ({exc})") from exc
    meta = data.get("meta") or {}
    run = EvalRun(folder, ResultTable(data["rows"], meta))
    records_dir = roots.check(folder / "records")
    for found in sorted(records_dir.glob("*.jsonl")):
        path = roots.check(found)
        records, bad = _records(path)
        run.skipped += bad
        if records:
            name = records[0].pipeline
            run.records[name] = {r.question_id: r for r in records}
            run.files[name] = found.stem
    if not run.records and not run.table.rows:
        raise InputError(f"{folder}: no summary.json and no records/*.jsonl to show")
    return run


def question_rows(run: EvalRun, pipelines: list[str], metric: str) -> list[dict[str, Any]]:
    """Per question: its text and the metric for each pipeline (None when not asked)."""
    rows = []
    for qid in run.question_ids():
        first = next(run.records[p][qid] for p in run.records if qid in run.records[p])
        row: dict[str, Any] = {"question_id": qid, "question": first.question}
        for p in pipelines:
            rec = run.records.get(p, {}).get(qid)
            row[p] = rec.scores.get(metric) if rec else None
        rows.append(row)
    return rows


def gold_rows(
    gold: list[str], a: QuestionRecord | None, b: QuestionRecord | None, k: int
) -> list[dict[str, Any]]:
    """Each gold passage's rank in A and in B, and whether only one found it within top k."""
    rank_a = _ranks(a)
    rank_b = _ranks(b)
    rows = []
    for pid in gold:
        ra, rb = rank_a.get(pid), rank_b.get(pid)
        in_a, in_b = ra is not None and ra <= k, rb is not None and rb <= k
        status = "both" if in_a and in_b else "A only" if in_a else "B only" if in_b else "neither"
        rows.append({"gold passage": pid, "rank A": ra, "rank B": rb, f"in top {k}": status})
    return rows


def _ranks(record: QuestionRecord | None) -> dict[str, int]:
    """Passage id -> 1-based rank in a record's retrieved list."""
    if record is None:
        return {}
    return {pid: n for n, (pid, _) in enumerate(record.retrieved, start=1)}


def trace_file(run: EvalRun, pipeline: str, roots: Roots) -> Path | None:
    """Where the run saved one pipeline's traces, if it did (refused when it leads out)."""
    path = roots.check(run.folder / "traces" / f"{run.files.get(pipeline, pipeline)}.jsonl")
    return path if path.is_file() else None


def traces_by_question(path: Path) -> dict[str, TraceRecord]:
    """A trace file's records by question id (records without one are keyed by position)."""
    return {t.question_id or f"#{n}": t for n, t in enumerate(read_traces(path), start=1)}
