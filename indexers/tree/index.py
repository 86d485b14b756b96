"""TreeIndex: summary trees over passages (RAPTOR, MemWalker or MemTree), one index kind."""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from indexers.base import Index, KindConfig, SearchResult
from indexers.context import BuildContext
from indexers.tree.builders import BUILDERS, TreeBuilder, position_key
from indexers.tree.config import TreeSearch, TreeSettings
from indexers.tree.editor import TreeEditor, unit
from indexers.tree.model import VECTORS_FILE, Span, SummaryTree, TreeNode
from indexers.tree.search import TreeSearchResult, collapsed, navigate_by_embedding, traverse
from rag.embed.base import Embedder
from rag.errors import ConfigError, IndexFormatError
from rag.manifest import verify_saved
from rag.operators.navigate import LLMNavigator
from rag.operators.per_index import build_operator
from rag.operators.registry import resolve
from rag.operators.summarize import Summarizer
from rag.query import Query
from rag.types import Passage

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"


class TreeIndex(Index[TreeSearch]):
    """Passages as the leaves of summary trees, searched collapsed, by traversal or by walking.

    The builder (`[tree] builder`) decides the shape and states its add/delete costs; in every
    case an add or delete re-summarizes each touched summary node once, in batches (see
    TreeEditor), and `last_update` reports how many summaries that took.
    """

    kind: ClassVar[str] = "tree"
    settings_section: ClassVar[str | None] = "tree"
    build_config: ClassVar[type[KindConfig]] = TreeSettings
    search_config = TreeSearch
    uses_passage_vectors: ClassVar[bool] = True
    builds_with_llm: ClassVar[bool] = True
    rebuilt_when_settings_change: ClassVar[bool] = True

    def __init__(
        self,
        embedder: Embedder,
        settings: TreeSettings | None = None,
        summarizer: Summarizer | None = None,
        *,
        context: BuildContext | None = None,
    ) -> None:
        """An empty tree; `summarizer` (or one made from the context) writes the summaries."""
        self.embedder = embedder
        self.settings = settings or TreeSettings()
        self.tree = SummaryTree(embedder.dim)
        self.builder: TreeBuilder = BUILDERS[self.settings.builder](self.settings)
        self._summarizer = summarizer
        self._context = context
        self.last_update: dict[str, float] = {}
        # Summaries and LLM calls of this process's edits, for the build report.
        self._made = {"summaries": 0, "llm_calls": 0}
        self._stage_seconds: dict[str, float] = defaultdict(float)

    @classmethod
    def create(cls, context: BuildContext) -> Self:
        """An empty tree with the `[tree]` settings; its summarizer is made on the first add."""
        from indexers.registry import kind_settings

        settings = kind_settings(cls, context.settings)
        assert isinstance(settings, TreeSettings)
        return cls(context.embedder, settings, context=context)

    # ---- operators -------------------------------------------------------------------------
    def summarizer_name(self) -> str:
        """'llm' or 'extractive' (or another registered name): what summarizes new nodes."""
        if self._summarizer is not None:
            return self._summarizer.name
        configured = self._context is not None and self._context.llm_configured
        return resolve(
            "summarizer", self.settings.summarizer, llm_available=configured, require_llm=False
        ).name

    def operator_names(self) -> dict[str, str]:
        """The summarizer and builder of this tree."""
        return {"summarize": self.summarizer_name(), "tree_builder": self.settings.builder}

    def summarizer(self) -> Summarizer:
        """The summarizer: the index dir's, built once, on first use."""
        if self._summarizer is None:
            if self._context is None:
                made: Summarizer = build_operator(
                    "summarizer", self.settings.summarizer, max_tokens=self.settings.summary_tokens
                )
            else:
                made = self._context.operator(
                    "summarizer", self.settings.summarizer, max_tokens=self.settings.summary_tokens
                )
            self._summarizer = made
        return self._summarizer

    def _editor(self) -> TreeEditor:
        """An editor of this tree with its summarizer."""
        show = self._context is not None and self._context.show_progress
        return TreeEditor(self.tree, self.summarizer(), self.embedder, show_progress=show)

    def _finish(self, editor: TreeEditor, start: float) -> None:
        """Summarize what the edit touched and record what it cost."""
        editor.refresh()
        self.last_update = {
            "summaries": int(editor.stats["summaries"]),
            "llm_calls": int(editor.stats["llm_calls"]),
            "seconds": round(time.perf_counter() - start, 3),
        }
        self._made["summaries"] += int(editor.stats["summaries"])
        self._made["llm_calls"] += int(editor.stats["llm_calls"])
        self._stage_seconds["tree:summarize"] += editor.stats["summarize_s"]
        self._stage_seconds["tree:embed"] += editor.stats["embed_s"]
        shaped = time.perf_counter() - start - editor.stats["summarize_s"] - editor.stats["embed_s"]
        self._stage_seconds["tree:shape"] += shaped

    def build_counts(self) -> dict[str, int]:
        """Nodes held, and summaries made and LLM calls spent by this run's edits."""
        summaries = sum(1 for _ in self.tree.summary_nodes())
        return {
            "tree_nodes": len(self.tree),
            "tree_summary_nodes": summaries,
            "tree_summaries_made": self._made["summaries"],
            "tree_llm_calls": self._made["llm_calls"],
        }

    def take_stage_seconds(self) -> dict[str, float]:
        """Seconds spent shaping, summarizing and embedding since the last call."""
        taken = dict(self._stage_seconds)
        self._stage_seconds.clear()
        return taken

    # ---- add / delete ----------------------------------------------------------------------
    def _partition(self, passage: Passage) -> str:
        """Which tree of the forest a passage belongs to."""
        return passage.source if self.settings.scope == "document" else ""

    def _leaf(self, passage: Passage) -> TreeNode:
        """The leaf node of a passage."""
        from rag.tokens import count_tokens

        text = passage.embedding_text
        start = passage.start if passage.start is not None else 0
        end = passage.end if passage.end is not None else start + len(passage.text)
        return TreeNode(
            id=passage.id,
            level=0,
            text=text,
            partition=self._partition(passage),
            leaves=[passage.id],
            spans=[Span(passage.source, start, end)],
            provenance={"kind": "passage"},
            tokens=count_tokens(text),
        )

    def add(self, passages: Sequence[Passage], vectors: np.ndarray | None = None) -> None:
        """Place the passages not yet in the tree, then re-summarize what they touched."""
        start = time.perf_counter()
        fresh = {p.id: i for i, p in enumerate(passages) if p.id not in self.tree.nodes}
        if not fresh:
            return
        chosen = [passages[i] for i in fresh.values()]
        if vectors is None:
            batch = self.embedder.embed([p.embedding_text for p in chosen])
        else:
            batch = np.asarray(vectors)[list(fresh.values())]
        by_partition: dict[str, list[str]] = defaultdict(list)
        for passage, vector in zip(chosen, batch, strict=True):
            leaf = self._leaf(passage)
            self.tree.put(leaf, unit(np.asarray(vector, dtype=np.float32)))
            by_partition[leaf.partition].append(leaf.id)
        editor = self._editor()
        for partition, leaves in by_partition.items():
            ordered = sorted(leaves, key=lambda n: position_key(self.tree.nodes[n]))
            self.builder.insert(editor, partition, ordered)
        self._finish(editor, start)

    def delete(self, ids: Iterable[str]) -> None:
        """Remove passages; their ancestors are re-summarized once each."""
        start = time.perf_counter()
        gone = [pid for pid in ids if pid in self.tree.nodes and self.tree.nodes[pid].is_leaf]
        if not gone:
            return
        editor = self._editor()
        for pid in gone:
            self.builder.remove(editor, pid)
        self._finish(editor, start)

    def rebuild(self) -> None:
        """Build every tree of the forest again from its passages (RAPTOR: re-cluster)."""
        start = time.perf_counter()
        editor = self._editor()
        for partition in sorted({n.partition for n in self.tree.nodes.values()}):
            self.builder.rebuild(editor, partition)
        self._finish(editor, start)

    # ---- search ----------------------------------------------------------------------------
    def _search(self, query: Query, k: int, config: TreeSearch) -> SearchResult:
        """Collapsed, traverse or navigate, as `config.mode` says."""
        if not self.tree.nodes:
            return SearchResult([])
        found = self._run_search(query, k, config)
        details: dict[str, Any] = {"mode": config.mode, **found.details}
        if found.context:
            details["context"] = found.context
        if found.walk:
            details["walk"] = found.walk
        return SearchResult(found.hits, details)

    def _run_search(self, query: Query, k: int, config: TreeSearch) -> TreeSearchResult:
        """Dispatch on the search mode (and, to navigate, on the navigator)."""
        vector = query.vector
        if config.mode == "collapsed":
            return collapsed(self.tree, vector, k, config)
        if config.mode == "traverse":
            return traverse(self.tree, vector, k, config)
        operators = self._context.operators if self._context is not None else None
        navigator = (
            operators.get("navigator", config.navigator, llm=query.llm)
            if operators is not None
            else build_operator("navigator", config.navigator, llm=query.llm)
        )
        if not isinstance(navigator, LLMNavigator):
            return navigate_by_embedding(self.tree, vector, k, config)
        from indexers.tree.navigation import navigate_by_llm

        return navigate_by_llm(self.tree, vector, query.text, k, config, navigator)

    # ---- files -----------------------------------------------------------------------------
    def ids(self) -> set[str]:
        """The passage ids held."""
        return {n.id for n in self.tree.leaf_nodes()}

    def save(self, directory: Path) -> None:
        """Write nodes.jsonl, vectors.npy and config.json."""
        self.tree.save(directory)
        config = {
            "dim": self.embedder.dim,
            "next_id": self.tree.next_id,
            "summarizer": self.summarizer_name(),
            **self.settings.model_dump(),
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")

    @classmethod
    def read_config(cls, directory: Path) -> dict[str, Any]:
        """The saved config.json."""
        try:
            config: dict[str, Any] = json.loads((directory / CONFIG_FILE).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexFormatError(f"{directory}: unreadable tree config ({exc})") from exc
        return config

    @classmethod
    def saved_build_config(cls, directory: Path) -> TreeSettings:
        """The `[tree]` settings the saved tree was built with."""
        config = cls.read_config(directory)
        return TreeSettings(**{k: v for k, v in config.items() if k in TreeSettings.model_fields})

    @classmethod
    def load(cls, directory: Path, context: BuildContext) -> Self:
        """Open a saved tree, checking every node; the embedder must match the saved dim."""
        verify_saved(directory)
        config = cls.read_config(directory)
        dim, next_id = config.get("dim"), config.get("next_id", 0)
        if dim != context.embedder.dim:
            raise IndexFormatError(
                f"{directory}: tree vectors have dim {dim}, embedder {context.embedder.dim}"
            )
        saved = cls.saved_build_config(directory)
        cls._warn_if_settings_changed(saved, context, directory)
        self = cls(context.embedder, saved, context=context)
        try:
            self.tree = SummaryTree.load(directory, dim, next_id)
        except EOFError:
            # numpy's answer to an empty .npy; unanswered it reaches the CLI as 'Aborted.'.
            raise IndexFormatError(f"{directory / VECTORS_FILE}: empty or truncated") from None
        return self

    @classmethod
    def _warn_if_settings_changed(
        cls, saved: TreeSettings, context: BuildContext, directory: Path
    ) -> None:
        """Say so when `[tree]` now asks for another shape than the saved tree has."""
        from indexers.registry import kind_settings

        if not context.section(cls.settings_section):
            return
        try:
            current = kind_settings(cls, context.settings)
        except ConfigError:
            return
        changed = [k for k, v in saved.model_dump().items() if getattr(current, k) != v]
        if changed:
            logger.warning(
                "%s: the tree was built with other [tree] settings (%s); the saved ones are "
                "used until `rag index --rebuild`",
                directory,
                ", ".join(changed),
            )
