"""Index kinds by name: one entry per kind, so builder, pipelines and CLI never branch on one."""

from __future__ import annotations

from indexers.base import Index, KindConfig, validate_config
from indexers.bm25 import BM25Index
from indexers.graph import GraphIndex
from indexers.milvus import MilvusIndex
from indexers.tree import TreeIndex
from indexers.vector import VectorIndex
from rag.errors import ConfigError
from rag.settings import Settings

#: Every index kind memrag knows; a new kind is one more line here.
INDEX_KINDS: dict[str, type[Index]] = {
    cls.kind: cls for cls in (VectorIndex, BM25Index, GraphIndex, TreeIndex, MilvusIndex)
}
DEFAULT_KINDS = (VectorIndex.kind, BM25Index.kind)


def index_kind(name: str) -> type[Index]:
    """The class of index kind `name`, naming the known kinds when it is unknown."""
    if name not in INDEX_KINDS:
        raise ConfigError(f"unknown index kind {name!r} (known: {', '.join(INDEX_KINDS)})")
    return INDEX_KINDS[name]


def kind_settings(kind: type[Index], settings: Settings) -> KindConfig:
    """A kind's typed build config from its settings section."""
    section = kind.settings_section
    raw = settings.section(section) if section else {}
    return validate_config(kind.build_config, raw, settings.source, f"{section}.")


def check_settings(settings: Settings) -> None:
    """Fail on a settings section no index kind reads, or one a kind cannot validate."""
    owners = {k.settings_section: k for k in INDEX_KINDS.values() if k.settings_section}
    for name in settings.sections():
        if name not in owners:
            raise ConfigError(
                f"{settings.source}: unknown settings section [{name}] "
                f"(core: {', '.join(Settings.model_fields)}; index kinds: {', '.join(owners)})"
            )
        kind_settings(owners[name], settings)


def parse_kinds(spec: str) -> list[str]:
    """'dense,bm25,graph' as a list of known kinds, in order, without repeats."""
    kinds = [k.strip() for k in spec.split(",") if k.strip()]
    for name in kinds:
        index_kind(name)
    if not kinds:
        raise ConfigError("--kinds: name at least one index kind")
    return list(dict.fromkeys(kinds))
