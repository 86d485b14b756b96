"""The Index contract every index kind meets: add, delete, search, save, load."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar, Self

from rag.embed.base import Embedder
from rag.types import Hit, Passage


class Index(ABC):
    """A searchable memory over passages, keyed by passage id.

    Each implementation states in its docstring what `add` and `delete` cost.
    """

    #: Name of the index kind; also its sub-folder in an index dir and the retriever name in hits.
    kind: ClassVar[str]

    @abstractmethod
    def add(self, passages: Sequence[Passage]) -> None:
        """Index passages; ids already present are ignored."""

    @abstractmethod
    def delete(self, ids: Iterable[str]) -> None:
        """Remove passages by id; unknown ids are ignored."""

    @abstractmethod
    def search(self, query: str, k: int) -> list[Hit]:
        """Return up to k hits, best first."""

    @abstractmethod
    def save(self, directory: Path) -> None:
        """Write the index into `directory` (created if needed) in open formats."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path, embedder: Embedder | None = None) -> Self:
        """Open an index written by `save`; kinds that embed queries need the embedder."""

    @abstractmethod
    def ids(self) -> set[str]:
        """The passage ids held."""

    def __len__(self) -> int:
        """Number of passages held."""
        return len(self.ids())
