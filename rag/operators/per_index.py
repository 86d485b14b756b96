"""Operators of one opened index: resolved once, built once and warmed up once, on first use."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.operators.registry import BuildInputs, Resolved, resolve

if TYPE_CHECKING:
    from rag.embed.base import Embedder
    from rag.llm.base import LLM

logger = logging.getLogger(__name__)


def build_resolved(
    resolved: Resolved,
    *,
    llm: LLM | None = None,
    embedder: Embedder | None = None,
    cache_dir: Path | None = None,
    **options: Any,
) -> Any:
    """Build a resolved implementation (not cached) and warm it up; unused options are dropped."""
    entry = resolved.implementation
    inputs = BuildInputs(
        llm=llm if entry.needs_llm else None,
        embedder=embedder,
        argument=resolved.argument,
        cache_dir=cache_dir,
        options={k: v for k, v in options.items() if k in entry.options},
    )
    operator = entry.builder(inputs)
    # Weights load now, not halfway through the first query: the LLM's (an in-process model),
    # then whatever the operator itself loads (an embedder, a bundled model).
    for holder in (inputs.llm, operator):
        warm_up = getattr(holder, "warm_up", None)
        if callable(warm_up):
            warm_up()
    logger.debug("built %s operator %s", resolved.role, resolved.label)
    return operator


def build_operator(
    role: str,
    spec: str,
    *,
    llm: LLM | None = None,
    embedder: Embedder | None = None,
    cache_dir: Path | None = None,
    **options: Any,
) -> Any:
    """Resolve `spec` for a role (llm given = an LLM is configured) and build it, uncached."""
    resolved = resolve(role, spec, llm_available=llm is not None)
    return build_resolved(resolved, llm=llm, embedder=embedder, cache_dir=cache_dir, **options)


class IndexOperators:
    """The operators one opened index dir uses, each built once per distinct configuration.

    An operator is keyed by its role, implementation, argument, the options it declares and the
    LLM it holds, so two steps asking for the same reader share one; `builds` counts
    constructions per (role, implementation) for tests and diagnostics.
    """

    def __init__(self, embedder: Embedder | None = None, cache_dir: Path | None = None) -> None:
        """Operators built here get this index's embedder and cache folder."""
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.builds: Counter[tuple[str, str]] = Counter()
        self._resolved: dict[tuple[str, str, bool], Resolved] = {}
        self._built: dict[Hashable, Any] = {}
        self._lock = threading.RLock()

    def resolve(self, role: str, spec: str, *, llm_available: bool) -> Resolved:
        """The implementation `spec` selects, resolved once per (role, spec, LLM or not)."""
        key = (role, spec, llm_available)
        with self._lock:
            if key not in self._resolved:
                self._resolved[key] = resolve(role, spec, llm_available=llm_available)
            return self._resolved[key]

    def get(self, role: str, spec: str, *, llm: LLM | None = None, **options: Any) -> Any:
        """The operator `spec` selects (`llm` given = an LLM is configured), built on first use."""
        return self.build(self.resolve(role, spec, llm_available=llm is not None), llm, **options)

    def build(self, resolved: Resolved, llm: LLM | None = None, **options: Any) -> Any:
        """The operator of a resolved implementation, built (and warmed up) on first use."""
        entry = resolved.implementation
        used = tuple(sorted((k, v) for k, v in options.items() if k in entry.options))
        # The LLM's identity is part of the key; the operator holds it, so the id stays unique.
        holder = id(llm) if entry.needs_llm else None
        key = (resolved.role, resolved.label, used, holder)
        with self._lock:
            if key not in self._built:
                self._built[key] = build_resolved(
                    resolved, llm=llm, embedder=self.embedder, cache_dir=self.cache_dir, **options
                )
                self.builds[(resolved.role, resolved.name)] += 1
            return self._built[key]

    def close(self) -> None:
        """Close the operators that hold files (a disk-cached extractor) and forget them all."""
        with self._lock:
            built, self._built = list(self._built.values()), {}
        for operator in built:
            close = getattr(operator, "close", None)
            if callable(close):
                close()
