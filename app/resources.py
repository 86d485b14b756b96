"""Everything the app loads, loaded once per process and shared by pages and sessions.

`st.cache_resource` holds the embedder (one per embedder settings, shared by every index), each
opened index dir (keyed by its path and manifest time, so a rebuilt index is reopened), the
knowledge-graph view and each tree; `st.cache_data` holds what is cheap to copy (manifests,
eval tables). Failures are not cached: a fixed index opens on the next try.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import networkx as nx
import streamlit as st

from app.discovery import Found, discover
from app.safety import PathRefused, Roots
from pipelines.rag_index import RagIndex
from rag.atomic import readable_path
from rag.embed import make_embedder
from rag.embed.base import Embedder
from rag.embed.lazy import LazyEmbedder
from rag.manifest import MANIFEST, Manifest, read_manifest
from rag.settings import Settings, load_settings


def roots() -> Roots:
    """The folders this app process may read (from `rag app --root`)."""
    return Roots.from_env()


@st.cache_data(ttl=30, show_spinner="Looking for index dirs and eval results…")
def _found(folders: tuple[str, ...]) -> Found:
    """What lies under these roots (re-searched every 30 s)."""
    return discover(Roots(folders))


def found() -> Found:
    """Index dirs, eval folders and trace files under the roots."""
    return _found(tuple(str(f) for f in roots().folders))


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """Settings from `rag app --config` and RAG_* variables; query embeddings are not cached
    on disk, so the app writes nothing."""
    loaded = load_settings(os.environ.get("RAG_CONFIG") or None)
    embedder = loaded.embedder.model_copy(update={"cache": False})
    return loaded.model_copy(update={"embedder": embedder, "show_progress": False})


@st.cache_resource(show_spinner="Loading the embedding model…")
def shared_embedder(key: str) -> Embedder:
    """One embedding model per embedder settings (`key`), shared by every open index."""
    current = settings()
    return make_embedder(current.embedder, current.cache_dir)


def readable_dir(path: str | Path) -> Path:
    """Where the index dir at `path` is read from (itself, or its retired copy mid-swap),
    resolved, with that folder and everything below it checked against the roots.

    Checked on every call, before any cache is consulted: a link planted after a first
    opening is refused on the next one.
    """
    checked = roots()
    folder = checked.check(path)
    where = readable_path(folder)
    if where == folder:
        return checked.check_tree(folder)
    # The retired `.NAME.old` copy is a sibling the user never named: it is judged on its own.
    try:
        return checked.check_tree(where)
    except PathRefused as exc:
        raise PathRefused(
            f"{folder} does not exist and its retired copy is refused: {exc}"
        ) from None


def checked_dir(path: str | Path) -> Path:
    """The resolved folder at `path`, once it (or its retired copy) passed `readable_dir`."""
    folder = roots().check(path)
    readable_dir(folder)
    return folder


def manifest_stamp(where: Path) -> int:
    """The manifest's modification time in a checked folder: a rebuild swaps in a new one."""
    try:
        return (where / MANIFEST).stat().st_mtime_ns
    except OSError:
        return 0


@st.cache_data(show_spinner=False)
def _manifest(where: str, stamp: int) -> Manifest:
    """The manifest of a checked folder (raises IndexFormatError when missing or corrupt)."""
    return read_manifest(Path(where))


def manifest(path: str | Path) -> Manifest:
    """The manifest of the index dir at `path`, checked against the roots."""
    where = readable_dir(path)
    return _manifest(str(where), manifest_stamp(where))


@st.cache_resource(show_spinner="Opening the index…", max_entries=8)
def _open_index(where: str, stamp: int) -> RagIndex:
    """Open a checked folder read-only, with the shared embedding model."""
    current = settings()
    # The checked folder itself: reopening the name could land on an unchecked retired copy.
    index = RagIndex.open(where, current)
    recorded = index.index_dir.manifest.embedder
    key = current.embedder.model_dump_json()
    # The dir's own lazy embedder would load a second copy of the model per index.
    index.index_dir.context.embedder = LazyEmbedder(
        lambda: shared_embedder(key), recorded.name, recorded.dim
    )
    return index


def open_index(path: str | Path) -> RagIndex:
    """The opened index dir at `path` (checked against the roots), from the cache."""
    where = readable_dir(path)
    return _open_index(str(where), manifest_stamp(where))


@st.cache_resource(show_spinner="Drawing the knowledge graph…", max_entries=4)
def _graph_view(where: str, stamp: int) -> nx.Graph:
    """The networkx view of a checked folder's knowledge graph, with passage nodes."""
    from graphs.views import to_networkx

    return to_networkx(knowledge_graph(where))


def graph_view(folder: str | Path) -> nx.Graph:
    """The networkx view of the knowledge graph of an index dir (checked against the roots)."""
    where = readable_dir(folder)
    return _graph_view(str(where), manifest_stamp(where))


def knowledge_graph(folder: str | Path) -> Any:
    """The KnowledgeGraph of an index dir, as loaded for queries (shared with the Ask page)."""
    return open_index(folder).resources.index("graph").graph  # type: ignore[attr-defined]


@st.cache_resource(show_spinner="Reading the tree…", max_entries=4)
def _tree(where: str, stamp: int) -> tuple[Any, dict[str, Any]]:
    """A checked folder's saved summary tree and its config, read without any model."""
    from indexers.tree.outline import read_tree

    return read_tree(Path(where) / "tree")


def tree_of(folder: str | Path) -> tuple[Any, dict[str, Any]]:
    """The summary tree of an index dir (checked against the roots) and its config."""
    where = readable_dir(folder)
    return _tree(str(where), manifest_stamp(where))
