"""BuildContext: what an index kind's factory may use: embedder, settings, LLM, progress."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rag.closing import Closing
from rag.embed.base import Embedder
from rag.operators.per_index import IndexOperators
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.llm.middleware import ManagedLLM


@dataclass
class BuildContext(Closing):
    """Shared by every index kind of one index dir; the LLM is created only if a kind asks."""

    embedder: Embedder
    settings: Settings
    _llm: ManagedLLM | None = field(default=None, init=False, repr=False)
    _llm_made: bool = field(default=False, init=False, repr=False)
    _operators: IndexOperators | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def show_progress(self) -> bool:
        """Whether long work shows progress bars."""
        return self.settings.show_progress

    @property
    def llm(self) -> ManagedLLM | None:
        """The configured LLM with its middleware (None when offline), made on first use."""
        with self._lock:
            if not self._llm_made:
                from rag.llm import make_llm

                self._llm = make_llm(self.settings.llm, self.settings.cache_dir)
                self._llm_made = True
            return self._llm

    @property
    def llm_configured(self) -> bool:
        """Whether the settings name an LLM (what `auto` resolves by), without making one."""
        return self.settings.llm.provider != "none"

    @property
    def operators(self) -> IndexOperators:
        """This index dir's operators: each resolved, built and warmed up once, on first use."""
        with self._lock:
            if self._operators is None:
                self._operators = IndexOperators(self.embedder, self.settings.cache_dir)
            return self._operators

    def operator(self, role: str, spec: str, **options: Any) -> Any:
        """The operator `spec` selects for a role, `auto` resolved by whether the settings name
        an LLM; the LLM is made only when the chosen implementation needs it."""
        resolved = self.operators.resolve(role, spec, llm_available=self.llm_configured)
        llm = self.llm if resolved.implementation.needs_llm else None
        return self.operators.build(resolved, llm, **options)

    def section(self, name: str | None) -> dict[str, Any]:
        """The raw settings of one kind's section (empty when absent or None)."""
        return self.settings.section(name) if name else {}

    def close(self) -> None:
        """Close the operators and the LLM, if they were made."""
        if self._operators is not None:
            self._operators.close()
        if self._llm is not None:
            self._llm.close()
