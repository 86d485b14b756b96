"""An extractor actor that fails on one file, for the Ray engine's failure tests.

In a module of its own so that Ray workers import it by name (the tests put the repository
root on the workers' path).
"""

from __future__ import annotations

from collections.abc import Sequence

from indexers.engine.ray_stages import ExtractActor
from rag.operators.openie.base import Extractor
from rag.operators.openie.types import Extraction
from rag.settings import Settings
from rag.types import Passage

FAILING_FILE = "danube.txt"


class _FailsOnOneFile(Extractor):
    """The real extractor, except that a passage of FAILING_FILE raises (a worker's crash)."""

    def __init__(self, inner: Extractor) -> None:
        """Wrap the actor's real extractor."""
        self.inner, self.name = inner, inner.name

    def extract(
        self, passages: Sequence[Passage], *, show_progress: bool = False
    ) -> list[Extraction]:
        """Raise on the failing file's passages, else extract as usual."""
        if any(p.source.endswith(FAILING_FILE) for p in passages):
            raise RuntimeError("the extractor's model was lost halfway through")
        return self.inner.extract(passages)

    def query_entities(self, text: str) -> list[str]:
        """Delegated."""
        return self.inner.query_entities(text)


class FailingExtractActor(ExtractActor):
    """The real extractor actor around an extractor that fails on FAILING_FILE."""

    def __init__(self, settings: Settings, spec: str) -> None:
        """Build the real extractor, then wrap it."""
        super().__init__(settings, spec)
        self.extractor = _FailsOnOneFile(self.extractor)
