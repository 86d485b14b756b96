"""Hits, reasons and traces as rows a table or chart can show (no Streamlit here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipelines.trace import trace_tree
from rag.search_details import GraphSearchDetails
from rag.trace_outputs import CluesOutput, IterateOutput, RetrieveOutput, RoundOutput
from rag.types import Hit, HitReason, Passage, TraceEvent
from rag.types import shorten as shorten  # tables, labels and outlines cut texts the same way


def reason_text(reason: HitReason | None) -> str:
    """One line saying why a retriever returned a passage (the reason says it itself)."""
    return reason.describe() if reason is not None else ""


def passage_label(passage: Passage | None, passage_id: str) -> str:
    """A passage's title (or id) for tables and pictures."""
    if passage is None:
        return passage_id
    return passage.title or passage.source.rsplit("/", 1)[-1] or passage_id


def hit_rows(hits: Sequence[Hit], passages: dict[str, Passage]) -> list[dict[str, Any]]:
    """One row per hit: rank, passage, score, retriever, why, and the text that found it."""
    rows = []
    for rank, hit in enumerate(hits, start=1):
        p = passages.get(hit.passage_id)
        rows.append(
            {
                "rank": rank,
                "passage": hit.passage_id,
                "title": passage_label(p, hit.passage_id),
                "score": round(hit.score, 5),
                "retriever": hit.retriever,
                "why": reason_text(hit.reason),
                "found by": (hit.reason.query if hit.reason else None) or "question",
                "text": " ".join(p.text.split())[:300] if p else "",
            }
        )
    return rows


def trace_rows(events: Sequence[TraceEvent]) -> list[dict[str, Any]]:
    """Events in run order with depth and a start time laid out from the durations.

    A trace records durations, not clocks: a top-level step starts when the one before it
    ended, and a nested step when its previous sibling ended, from its parent's start.
    """
    rows: list[dict[str, Any]] = []
    next_free: dict[int | None, float] = {None: 0.0}
    for depth, e in trace_tree(list(events)):
        begin = next_free.get(e.parent, 0.0)
        next_free[e.parent] = begin + e.seconds * 1000
        next_free[e.id] = begin
        rows.append(
            {
                "id": e.id,
                "depth": depth,
                "step": e.step,
                "label": "  " * depth + ("└ " if depth else "") + e.step,
                "start_ms": round(begin, 3),
                "end_ms": round(begin + e.seconds * 1000, 3),
                "ms": round(e.seconds * 1000, 2),
                "llm_calls": e.llm_calls,
                "llm_cached": e.llm_cached,
                "llm_tokens": e.llm_tokens,
            }
        )
    return rows


def total_ms(events: Sequence[TraceEvent]) -> float:
    """Time of the top-level steps, which include their nested ones."""
    return sum(e.seconds for e in events if e.parent is None) * 1000


def compare_rows(
    a: Sequence[Hit], b: Sequence[Hit], passages: dict[str, Passage]
) -> list[dict[str, Any]]:
    """The union of two rankings: each passage's rank in A and B, the change, and where."""
    rank_a = {h.passage_id: n for n, h in enumerate(a, start=1)}
    rank_b = {h.passage_id: n for n, h in enumerate(b, start=1)}
    order = list(dict.fromkeys([*rank_a, *rank_b]))
    rows = []
    for pid in order:
        ra, rb = rank_a.get(pid), rank_b.get(pid)
        where = "both" if ra and rb else "only A" if ra else "only B"
        rows.append(
            {
                "passage": pid,
                "title": passage_label(passages.get(pid), pid),
                "rank A": ra,
                "rank B": rb,
                # Positive: B ranks it higher than A does.
                "moved up in B": (ra - rb) if ra and rb else None,
                "in": where,
            }
        )
    return sorted(rows, key=lambda r: min(r["rank A"] or 10**6, r["rank B"] or 10**6))


def graph_searches(events: Sequence[TraceEvent]) -> list[GraphSearchDetails]:
    """What each graph search of a trace found: seed entities, matched facts, any fallback."""
    return [
        e.outputs.search
        for e in events
        if isinstance(e.outputs, RetrieveOutput)
        and isinstance(e.outputs.search, GraphSearchDetails)
    ]


def clue_events(events: Sequence[TraceEvent]) -> list[tuple[TraceEvent, CluesOutput]]:
    """The draft_clues steps of a trace, with their outputs."""
    return [(e, e.outputs) for e in events if isinstance(e.outputs, CluesOutput)]


def iterate_events(events: Sequence[TraceEvent]) -> list[tuple[TraceEvent, IterateOutput]]:
    """The iterate steps of a trace, with their outputs."""
    return [(e, e.outputs) for e in events if isinstance(e.outputs, IterateOutput)]


def clue_rows(clues: CluesOutput, hits: Sequence[Hit]) -> list[dict[str, Any]]:
    """Per final hit, which searched texts (the question and each clue) found it."""
    found_by: dict[str, list[str]] = {}
    for pid in clues.question_hits:
        found_by.setdefault(pid, []).append("question")
    for clue in clues.clues:
        for pid in clue.hits:
            found_by.setdefault(pid, []).append(clue.text)
    return [
        {"rank": n, "passage": h.passage_id, "found by": found_by.get(h.passage_id, [])}
        for n, h in enumerate(hits, start=1)
    ]


def iteration_rounds(events: Sequence[TraceEvent], parent: int) -> list[dict[str, Any]]:
    """The rounds of one `iterate` step: what each searched and what it newly retrieved."""
    rounds = []
    for e in events:
        out = e.outputs
        if e.parent != parent or not isinstance(out, RoundOutput):
            continue
        rounds.append(
            {
                "round": out.round,
                "searched": out.query or out.thought or "",
                "stop": out.stop_reason or ("stop" if out.stop else ""),
                "new": list(out.new),
                "top": list(out.top),
                "ms": round(e.seconds * 1000, 1),
                "details": out.model_dump(exclude={"type", "top", "new"}, exclude_none=True),
            }
        )
    return rounds
