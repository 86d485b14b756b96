"""Hits, reasons and traces as rows a table or chart can show (no Streamlit here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipelines.trace import trace_tree
from rag.types import (
    BM25Reason,
    DenseReason,
    FusionReason,
    GraphReason,
    Hit,
    HitReason,
    Passage,
    TraceEvent,
    TreeReason,
)


def reason_text(reason: HitReason | None) -> str:
    """One line saying why a retriever returned a passage."""
    if reason is None:
        return ""
    if isinstance(reason, DenseReason):
        return f"cosine {reason.similarity:.3f}"
    if isinstance(reason, BM25Reason):
        return "terms: " + (", ".join(reason.terms) or "none")
    if isinstance(reason, GraphReason):
        if reason.fallback:
            return f"{reason.method}: dense fallback ({reason.fallback})"
        mass = f"PageRank {reason.pagerank:.4f}, " if reason.pagerank is not None else ""
        seeds = ", ".join(name for name, _ in reason.seeds[:3])
        return f"{reason.method}: {mass}cosine {reason.dense:.3f}" + (
            f"; seeds {seeds}" if seeds else ""
        )
    if isinstance(reason, TreeReason):
        sim = f", cosine {reason.similarity:.3f}" if reason.similarity is not None else ""
        return f"tree layer {reason.layer} via {' › '.join(reason.path)}{sim}"
    if isinstance(reason, FusionReason):
        ranks = sorted(reason.ranks.items(), key=lambda kv: kv[1])
        return "RRF: " + ", ".join(f"{shorten(name)} #{rank}" for name, rank in ranks)
    return reason.type


def shorten(text: str, limit: int = 40) -> str:
    """A text on one line, cut with an ellipsis to fit a table cell, label or outline row."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


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


def events_named(events: Sequence[TraceEvent], prefix: str) -> list[TraceEvent]:
    """The events whose step name starts with `prefix` (e.g. 'draft_clues', 'iterate')."""
    return [e for e in events if e.step.split(":", 1)[0] == prefix]


def clue_rows(event: TraceEvent, hits: Sequence[Hit]) -> list[dict[str, Any]]:
    """Per final hit, which searched texts (the question and each clue) found it."""
    found_by: dict[str, list[str]] = {}
    for pid in event.outputs.get("question_hits", []):
        found_by.setdefault(pid, []).append("question")
    for clue in event.outputs.get("clues", []):
        for pid in clue.get("hits", []):
            found_by.setdefault(pid, []).append(clue.get("text", ""))
    return [
        {"rank": n, "passage": h.passage_id, "found by": found_by.get(h.passage_id, [])}
        for n, h in enumerate(hits, start=1)
    ]


def iteration_rounds(events: Sequence[TraceEvent], parent: int) -> list[dict[str, Any]]:
    """The rounds of one `iterate` step: what each searched and what it newly retrieved."""
    rounds = []
    for e in events:
        if e.parent != parent or not e.step.startswith("iteration:"):
            continue
        out = e.outputs
        rounds.append(
            {
                "round": int(e.step.split(":", 1)[1]),
                "searched": e.inputs.get("query") or out.get("thought") or "",
                "stop": out.get("stop_reason") or ("stop" if out.get("stop") else ""),
                "new": list(out.get("new", [])),
                "top": list(out.get("top", [])),
                "ms": round(e.seconds * 1000, 1),
                "details": {k: v for k, v in out.items() if k not in ("top", "new")},
            }
        )
    return rounds
