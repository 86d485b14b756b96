"""The Index contract every index kind meets: create, add, delete, search, save, load."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, Self, TypeVar, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from indexers.context import BuildContext
from rag.errors import ConfigError
from rag.query import Query
from rag.search_details import DETAILED_KINDS, SearchDetails
from rag.types import Hit, Passage

if TYPE_CHECKING:
    from indexers.tree.model import SummaryTree


class KindConfig(BaseModel):
    """Base of a kind's build and search configs; unknown keys are errors, not silent typos."""

    model_config = ConfigDict(extra="forbid")


class NoOptions(KindConfig):
    """The config of a kind that has no options of this sort."""


@dataclass
class SearchResult:
    """Hits, best first, and what the search found on the way (seeds, facts, ...) for traces.

    A kind's `_search` reports `details` as a mapping; `search_with_details` validates it into
    `search`, the kind's typed details, which is what steps and the inspector read.
    """

    hits: list[Hit]
    details: dict[str, Any] = field(default_factory=dict)
    search: SearchDetails | None = None


_SEARCH_DETAILS: TypeAdapter[SearchDetails] = TypeAdapter(SearchDetails)


def typed_details(kind: str, details: Mapping[str, Any]) -> SearchDetails | None:
    """A kind's reported details as its typed model; a key the model lacks is an error."""
    if not details or kind not in DETAILED_KINDS:
        return None
    return _SEARCH_DETAILS.validate_python({"type": kind, **details})


@runtime_checkable
class FactSource(Protocol):
    """An index that can name the facts nearest a query (a knowledge graph)."""

    def nearest_facts(self, vector: np.ndarray, limit: int) -> list[str]:
        """The texts of the `limit` facts most similar to a query vector, nearest first."""
        ...


@runtime_checkable
class CorpusMemory(Protocol):
    """An index that holds a compressed view of the whole corpus: a tree of summaries."""

    @property
    def tree(self) -> SummaryTree:
        """The summary tree, whose upper levels summarize the corpus."""
        ...


SearchT = TypeVar("SearchT", bound=KindConfig)
ConfigT = TypeVar("ConfigT", bound=KindConfig)


def validate_config(model: type[ConfigT], value: Any, where: str, prefix: str = "") -> ConfigT:
    """`value` (a model, mapping or None) as `model`, or a one-line ConfigError naming `where`.

    `prefix` is put before each field name in the message (e.g. 'vector.kind').
    """
    if isinstance(value, model):
        return value
    try:
        return model.model_validate(dict(value or {}))
    except ValidationError as exc:
        problems = "; ".join(
            f"{prefix}{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: expected a mapping of options ({exc})") from None


class Index(ABC, Generic[SearchT]):
    """A searchable memory over passages, keyed by passage id.

    Each implementation states in its docstring what `add` and `delete` cost. Queries reach it
    only through `search(query, k, config)`, with `config` of the kind's `search_config`.
    """

    #: Name of the index kind; also its sub-folder in an index dir and the retriever name in hits.
    kind: ClassVar[str]
    #: The settings section its build options are read from (None: it has none).
    settings_section: ClassVar[str | None] = None
    #: Typed build options, read from `settings_section`.
    build_config: ClassVar[type[KindConfig]] = NoOptions
    #: Typed query options, given per pipeline step as a `search:` mapping.
    search_config: type[SearchT]
    #: Whether `add` can use passage embeddings the builder computed once for every kind.
    uses_passage_vectors: ClassVar[bool] = False
    #: Whether building calls the configured LLM (so the LLM is part of the build's identity).
    builds_with_llm: ClassVar[bool] = False
    #: Whether an update whose settings section differs from the saved one rebuilds the kind.
    rebuilt_when_settings_change: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def create(cls, context: BuildContext) -> Self:
        """An empty index configured from the build context."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path, context: BuildContext) -> Self:
        """Open an index written by `save`."""

    @classmethod
    def saved_build_config(cls, directory: Path) -> KindConfig | None:
        """The build settings a saved index was made with (None: the kind does not record them)."""
        return None

    @abstractmethod
    def add(self, passages: Sequence[Passage], vectors: np.ndarray | None = None) -> None:
        """Index passages (ids already present are ignored); `vectors` are their embeddings."""

    @abstractmethod
    def delete(self, ids: Iterable[str]) -> None:
        """Remove passages by id; unknown ids are ignored."""

    def search(
        self, query: Query | str, k: int, config: SearchT | Mapping[str, Any] | None = None
    ) -> list[Hit]:
        """Return up to k hits, best first; a plain string is embedded with the index's embedder."""
        return self.search_with_details(query, k, config).hits

    def search_with_details(
        self, query: Query | str, k: int, config: SearchT | Mapping[str, Any] | None = None
    ) -> SearchResult:
        """`search`, plus what the kind found on the way (for traces and the inspector)."""
        if isinstance(query, str):
            query = Query(query, embedder=getattr(self, "embedder", None))
        where = f"{self.kind} search config"
        result = self._search(query, k, validate_config(self.search_config, config, where))
        if result.search is None:
            result.search = typed_details(self.kind, result.details)
        return result

    @abstractmethod
    def _search(self, query: Query, k: int, config: SearchT) -> SearchResult:
        """The kind's own search, with a validated config."""

    @abstractmethod
    def save(self, directory: Path) -> None:
        """Write the index into `directory` (created if needed) in open formats."""

    @abstractmethod
    def ids(self) -> set[str]:
        """The passage ids held."""

    def operator_names(self) -> dict[str, str]:
        """Operators this kind builds with, for the manifest (e.g. {'openie': 'offline'})."""
        return {}

    def take_stage_seconds(self) -> dict[str, float]:
        """Seconds per build stage since the last call (for build reports); none by default."""
        return {}

    def build_counts(self) -> dict[str, int]:
        """What the index holds and what building it cost beyond passages (e.g. tree nodes,
        summaries made, LLM calls), for the manifest; none by default."""
        return {}

    def __len__(self) -> int:
        """Number of passages held."""
        return len(self.ids())
