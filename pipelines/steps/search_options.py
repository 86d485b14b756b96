"""Which index a step searches and with what options: shared by `retrieve` and wrapping steps."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from indexers.base import KindConfig, validate_config
from indexers.registry import index_kind


class SearchOptions(BaseModel):
    """An index of the index dir, hits per searched text, and the kind's typed search options."""

    model_config = ConfigDict(extra="forbid")

    index: str = Field("dense", description="Which index of the index dir to search.")
    k: int | None = Field(None, ge=1, description="Hits per searched text; default top_k.")
    search: dict[str, Any] = Field(
        default_factory=dict, description="The index kind's search options (its search config)."
    )

    @model_validator(mode="after")
    def _known_kind_and_options(self) -> SearchOptions:
        """The index kind exists and the options are valid for it (checked at load)."""
        _ = self.config
        return self

    @cached_property
    def config(self) -> KindConfig:
        """The search options, validated as the index kind's search config."""
        kind = index_kind(self.index)
        return validate_config(kind.search_config, self.search, f"{self.index} search")

    @property
    def target(self) -> str:
        """E.g. 'dense' or 'graph:hipporag2'."""
        method = getattr(self.config, "method", None)
        return self.index + (f":{method}" if method else "")
