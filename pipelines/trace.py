"""Tracing steps: each run opens a TraceEvent, nested under the step that called it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rag.llm.usage import usage_scope
from rag.types import TraceEvent

if TYPE_CHECKING:
    from pipelines.state import QueryState


class traced:
    """Record one step's run: its own time and the LLM calls made inside it (nested included)."""

    __slots__ = ("_scope", "_start", "_usage", "event", "state")

    def __init__(self, state: QueryState, label: str) -> None:
        """Open the step's event under the step that is running, if any."""
        parent = state.open_events[-1].id if state.open_events else None
        self.state = state
        self.event = TraceEvent(id=len(state.trace), parent=parent, step=label)
        self._scope = usage_scope()

    def __enter__(self) -> TraceEvent:
        """Start timing and counting."""
        self.state.trace.append(self.event)
        self.state.open_events.append(self.event)
        self._usage = self._scope.__enter__()
        self._start = time.perf_counter()
        return self.event

    def __exit__(self, *exc: object) -> None:
        """Stop timing; copy the LLM use counted in the step onto its event."""
        event = self.event
        event.seconds = time.perf_counter() - self._start
        self._scope.__exit__(None, None, None)
        usage = self._usage
        event.llm_calls, event.llm_cached, event.llm_tokens = (
            usage.calls,
            usage.cached,
            usage.tokens,
        )
        self.state.open_events.pop()


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
