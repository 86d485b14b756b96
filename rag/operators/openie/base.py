"""The extractor contract: passages in, named entities and triples out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from rag.operators.openie.types import Extraction
from rag.types import Passage


class Extractor(ABC):
    """Reads passages into named entities and (subject, relation, object) triples."""

    #: Identity of the extractor, recorded in each Extraction and used as a cache key.
    name: str

    @abstractmethod
    def extract(
        self, passages: Sequence[Passage], *, show_progress: bool = False
    ) -> list[Extraction]:
        """One Extraction per passage, in the order given."""

    @abstractmethod
    def query_entities(self, text: str) -> list[str]:
        """The named entities of a question (HippoRAG 1 query NER); [] when none are found."""
