"""Tracing steps: each run opens a TraceEvent, nested under the step that called it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rag.llm.usage import usage_scope
from rag.types import TraceEvent

if TYPE_CHECKING:
    from pipelines.state import QueryState


@contextmanager
def traced(state: QueryState, label: str) -> Iterator[TraceEvent]:
    """Record one step's run: its own time and the LLM calls made inside it (nested included)."""
    parent = state.open_events[-1].id if state.open_events else None
    event = TraceEvent(id=len(state.trace), parent=parent, step=label)
    state.trace.append(event)
    state.open_events.append(event)
    start = time.perf_counter()
    try:
        with usage_scope() as usage:
            yield event
    finally:
        event.seconds = time.perf_counter() - start
        event.llm_calls, event.llm_cached, event.llm_tokens = (
            usage.calls,
            usage.cached,
            usage.tokens,
        )
        state.open_events.pop()


def trace_tree(events: list[TraceEvent]) -> list[tuple[int, TraceEvent]]:
    """Events in pre-order with their nesting depth, for printing as a tree."""
    depth: dict[int, int] = {}
    rows = []
    for event in events:
        depth[event.id] = 0 if event.parent is None else depth.get(event.parent, 0) + 1
        rows.append((depth[event.id], event))
    return rows


def format_trace(events: list[TraceEvent]) -> str:
    """The trace as an indented tree: step, milliseconds, LLM calls and tokens."""
    lines = []
    for depth, e in trace_tree(events):
        llm = f"  llm {e.llm_calls} calls, {e.llm_tokens} tokens" if e.llm_calls else ""
        cached = f", {e.llm_cached} cached" if e.llm_cached else ""
        lines.append(
            f"{'  ' * depth}{e.step:<{32 - 2 * depth}} {e.seconds * 1000:9.2f} ms{llm}{cached}"
        )
    return "\n".join(lines)
