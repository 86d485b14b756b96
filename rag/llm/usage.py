"""LLM usage attributed to whoever made the call: a context variable per query step.

`ManagedLLM` reports every call here; a pipeline step opens a scope around its work, so calls
are counted per step and per query even with many queries running in threads at once. Scopes
nest: a call counts in its own scope and in every enclosing one.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Usage:
    """LLM calls (backend requests), cache hits and tokens counted in one scope."""

    calls: int = 0
    cached: int = 0
    tokens: int = 0
    parent: Usage | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, calls: int, cached: int, tokens: int) -> None:
        """Count usage here and in every enclosing scope."""
        scope: Usage | None = self
        while scope is not None:
            with scope._lock:
                scope.calls += calls
                scope.cached += cached
                scope.tokens += tokens
            scope = scope.parent


_current: contextvars.ContextVar[Usage | None] = contextvars.ContextVar(
    "memrag_llm_usage", default=None
)


class usage_scope:
    """Count the LLM usage of the code inside the block (and of threads started with
    `in_this_context` from it)."""

    __slots__ = ("_token", "usage")

    def __enter__(self) -> Usage:
        """Open a scope nested in the current one."""
        self.usage = Usage(parent=_current.get())
        self._token = _current.set(self.usage)
        return self.usage

    def __exit__(self, *exc: object) -> None:
        """Return to the enclosing scope."""
        _current.reset(self._token)


def record_usage(*, calls: int = 0, cached: int = 0, tokens: int = 0) -> None:
    """Attribute usage to the current scope, if any."""
    usage = _current.get()
    if usage is not None:
        usage.add(calls, cached, tokens)


def in_this_context(func: Callable[..., T]) -> Callable[..., T]:
    """`func` bound to a copy of the caller's context, for running in a worker thread."""
    context = contextvars.copy_context()

    def run(*args: Any, **kwargs: Any) -> T:
        return context.run(func, *args, **kwargs)

    return run
