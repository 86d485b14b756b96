"""The retrieval a wrapping step (clue drafting, iteration) runs for each text it searches."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from indexers.base import KindConfig, SearchResult, validate_config
from indexers.registry import index_kind
from pipelines.state import QueryState
from pipelines.steps.retrieve import search_texts


class WrappedRetrieval(BaseModel):
    """Which index a wrapping step searches, how many hits per text, and the kind's options."""

    model_config = ConfigDict(extra="forbid")

    index: str = Field("dense", description="Which index of the index dir to search.")
    k: int | None = Field(None, ge=1, description="Hits per text; default retrieval.top_k.")
    search: dict[str, Any] = Field(
        default_factory=dict, description="The index kind's search options (its search config)."
    )

    @model_validator(mode="after")
    def _known_kind_and_options(self) -> WrappedRetrieval:
        """The index kind exists and the options are valid for it (checked at load)."""
        _ = self.config
        return self

    @cached_property
    def config(self) -> KindConfig:
        """The search options, validated as the index kind's search config."""
        kind = index_kind(self.index)
        return validate_config(kind.search_config, self.search, f"{self.index} search")

    @property
    def label(self) -> str:
        """E.g. 'dense' or 'graph:hipporag2'."""
        method = getattr(self.config, "method", None)
        return self.index + (f":{method}" if method else "")

    def hits_per_text(self, state: QueryState) -> int:
        """k, or the settings' top_k."""
        return self.k or state.resources.settings.retrieval.top_k

    def run(self, state: QueryState, texts: list[str], k: int | None = None) -> list[SearchResult]:
        """Search with each text (one embedding batch for all but the question)."""
        if not texts:
            return []
        return search_texts(state, self.index, texts, k or self.hits_per_text(state), self.config)
