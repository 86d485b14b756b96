"""Per-stage LLM usage counters: calls, cache hits, tokens, seconds and errors."""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass

logger = logging.getLogger(__name__)


@dataclass
class StageMetrics:
    """Usage of one stage: `calls` are backend requests (each retry attempt counts once)."""

    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    errors: int = 0


class LLMMetrics:
    """Thread-safe usage counters keyed by stage name ('summarize', 'generate', ...)."""

    def __init__(self) -> None:
        """Start with no stages recorded."""
        self._stages: dict[str, StageMetrics] = {}
        self._lock = threading.Lock()

    def _stage(self, stage: str) -> StageMetrics:
        """The counters of `stage`, created on first use; call with the lock held."""
        return self._stages.setdefault(stage, StageMetrics())

    def record_call(
        self, stage: str, *, prompt_tokens: int, completion_tokens: int, seconds: float
    ) -> None:
        """Count one backend request that answered."""
        with self._lock:
            metrics = self._stage(stage)
            metrics.calls += 1
            metrics.prompt_tokens += prompt_tokens
            metrics.completion_tokens += completion_tokens
            metrics.seconds += seconds

    def record_error(self, stage: str, *, seconds: float) -> None:
        """Count one backend request that failed (it is also a call)."""
        with self._lock:
            metrics = self._stage(stage)
            metrics.calls += 1
            metrics.errors += 1
            metrics.seconds += seconds

    def record_cache_hit(self, stage: str) -> None:
        """Count one call answered from the disk cache without a backend request."""
        with self._lock:
            self._stage(stage).cache_hits += 1

    def stage(self, stage: str) -> StageMetrics:
        """A snapshot of one stage's counters (zeros when it never ran)."""
        with self._lock:
            return StageMetrics(**asdict(self._stages.get(stage, StageMetrics())))

    def summary(self) -> dict[str, dict[str, int | float]]:
        """All stages as plain dicts, for traces, manifests and eval reports."""
        with self._lock:
            return {name: asdict(metrics) for name, metrics in sorted(self._stages.items())}

    def total(self) -> StageMetrics:
        """The counters summed over every stage."""
        total = StageMetrics()
        with self._lock:
            for metrics in self._stages.values():
                total.calls += metrics.calls
                total.cache_hits += metrics.cache_hits
                total.prompt_tokens += metrics.prompt_tokens
                total.completion_tokens += metrics.completion_tokens
                total.seconds += metrics.seconds
                total.errors += metrics.errors
        return total
