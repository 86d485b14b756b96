"""The `[milvus]` settings section and the per-query search options of the milvus kind."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from indexers.base import KindConfig


class MilvusSettings(KindConfig):
    """The Milvus collection behind the `milvus` kind (settings section `[milvus]`)."""

    uri: str | None = Field(
        None, description="Unset: Milvus Lite in the kind's folder; else http://host:19530."
    )
    token_env: str | None = Field(
        None, description="Environment variable holding the server's token (never saved)."
    )
    collection: str = Field("memrag", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
    drop_existing: bool = Field(
        False, description="Server only: a new build may replace a collection of that name."
    )
    metric: Literal["IP", "COSINE"] = "IP"
    index_type: Literal["FLAT", "HNSW", "IVF_FLAT", "AUTOINDEX"] = "FLAT"
    index_params: dict[str, int | float | str] = Field(
        default_factory=dict, description="Build params, e.g. {M = 32, efConstruction = 200}."
    )


class MilvusSearch(KindConfig):
    """Per-query Milvus search params; None keeps the server's default."""

    ef: int | None = Field(None, ge=1, description="HNSW: candidates explored per query.")
    nprobe: int | None = Field(None, ge=1, description="IVF_FLAT: lists visited per query.")

    def params(self, metric: str) -> dict[str, object]:
        """pymilvus `search_params` for these options."""
        chosen = {"ef": self.ef, "nprobe": self.nprobe}
        return {"metric_type": metric, "params": {k: v for k, v in chosen.items() if v is not None}}
