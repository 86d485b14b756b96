"""The tree index kind: conformance for each builder and search mode, and tree behaviour."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from indexers.base import Index
from indexers.context import BuildContext
from indexers.tree import TreeIndex, TreeSettings
from indexers.tree.model import SummaryTree
from rag.embed.base import Embedder
from rag.errors import IndexFormatError
from rag.settings import Settings
from rag.types import Passage, TreeReason
from tests.indexers.conformance import IndexConformance
from tests.indexers.tree_corpus import topic_of, topic_passages

MODES: list[dict[str, Any]] = [
    {"mode": "traverse"},
    {"mode": "traverse", "beam": 1},
    {"mode": "navigate"},
    {"mode": "navigate", "max_steps": 2},
    {"mode": "collapsed", "token_budget": 10},
]


class TestRaptor(IndexConformance):
    def make_index(self, embedder: Embedder) -> Index:
        return TreeIndex(embedder, TreeSettings(builder="raptor"))

    def search_configs(self) -> list[dict[str, Any]]:
        return MODES


class TestMemWalker(IndexConformance):
    def make_index(self, embedder: Embedder) -> Index:
        return TreeIndex(embedder, TreeSettings(builder="memwalker", memwalker_fanout=3))

    def search_configs(self) -> list[dict[str, Any]]:
        return MODES


class TestMemTree(IndexConformance):
    def make_index(self, embedder: Embedder) -> Index:
        return TreeIndex(embedder, TreeSettings(builder="memtree", memtree_threshold=0.1))

    def search_configs(self) -> list[dict[str, Any]]:
        return MODES


@pytest.fixture(scope="module")
def topics() -> list[Passage]:
    return topic_passages()


def _topics_under(index: TreeIndex, node_id: str, texts: dict[str, str]) -> set[str]:
    return {topic_of(texts[p]) for p in index.tree.nodes[node_id].leaves}


def test_raptor_clusters_passages_by_topic_reproducibly(
    embedder: Embedder, topics: list[Passage]
) -> None:
    texts = {p.id: p.text for p in topics}
    shapes = []
    for _ in range(2):
        index = TreeIndex(embedder, TreeSettings(builder="raptor", seed=7))
        index.add(topics)
        firsts = [n for n in index.tree.summary_nodes() if n.level == 1]
        assert all(len(_topics_under(index, n.id, texts)) == 1 for n in firsts)
        assert {t for n in firsts for t in _topics_under(index, n.id, texts)} == {
            "volcano",
            "chess",
            "bread",
            "football",
        }
        assert index.last_update["llm_calls"] == 0
        shapes.append(sorted(sorted(n.children) for n in index.tree.summary_nodes()))
    assert shapes[0] == shapes[1]


def test_memwalker_groups_consecutive_passages_and_keeps_order_on_insert(
    embedder: Embedder, topics: list[Passage]
) -> None:
    index = TreeIndex(
        embedder, TreeSettings(builder="memwalker", memwalker_fanout=4, memwalker_max_fanout=5)
    )
    every_other = topics[::2]
    index.add(every_other)
    order = [p.id for p in every_other]
    firsts = [n for n in index.tree.summary_nodes() if n.level == 1]
    assert [n.children for n in firsts] == [order[i : i + 4] for i in range(0, 16, 4)]
    index.add(topics[1::2][:4])  # passages 1, 3, 5, 7 land between their neighbours
    (root,) = index.tree.roots()
    assert index.tree.nodes[root].leaves == [p.id for p in topics if p.id in index.ids()]
    assert all(len(n.children) <= 5 for n in index.tree.summary_nodes())
    assert index.last_update["summaries"] <= 2 * 3 + 1  # touched groups, splits and the root
    index.tree.check("memwalker tree")


def test_memtree_inserts_similar_passages_together_and_deletes_cleanly(
    embedder: Embedder, topics: list[Passage], tmp_path: Path
) -> None:
    texts = {p.id: p.text for p in topics}
    index = TreeIndex(embedder, TreeSettings(builder="memtree"))
    for passage in topics:  # one at a time, as memories arrive
        index.add([passage])
    summaries = list(index.tree.summary_nodes())
    assert summaries and all(len(_topics_under(index, n.id, texts)) == 1 for n in summaries)
    assert all(n.provenance["summarizer"] == "extractive" for n in summaries)
    index.delete([p.id for p in topics[:6]])
    assert index.ids() == {p.id for p in topics[6:]}
    assert all(len(n.children) >= 2 for n in index.tree.summary_nodes())
    index.save(tmp_path / "t")
    loaded = TreeIndex.load(tmp_path / "t", BuildContext(embedder, Settings(show_progress=False)))
    assert loaded.ids() == index.ids()


def test_adding_a_batch_resummarizes_each_touched_node_once(
    embedder: Embedder, topics: list[Passage]
) -> None:
    index = TreeIndex(embedder, TreeSettings(builder="raptor"))
    index.add(topics[:24])
    index.add(topics[24:])
    touched = {a for p in topics[24:] for a in index.tree.ancestors(p.id)}
    assert index.last_update["summaries"] == len(touched)


def test_hits_carry_the_path_from_a_root_and_summaries_are_context(
    embedder: Embedder, topics: list[Passage]
) -> None:
    index = TreeIndex(embedder, TreeSettings(builder="raptor"))
    index.add(topics)
    result = index.search_with_details("Who won the world chess championship?", 5)
    for hit in result.hits:
        reason = hit.reason
        assert isinstance(reason, TreeReason)
        assert reason.path[-1] == hit.passage_id
        assert reason.path[0] in index.tree.roots()
    context = result.details["context"]
    assert context and sum(index.tree.nodes[c["node"]].tokens for c in context) <= 2000
    assert all(index.tree.nodes[c["node"]].level >= 1 for c in context)


def test_document_scope_makes_one_tree_per_source(embedder: Embedder) -> None:
    passages = [
        Passage.from_text(f"Passage {i} of the {doc} report.", source=doc, start=i * 40)
        for doc in ("alpha.txt", "beta.txt")
        for i in range(4)
    ]
    index = TreeIndex(embedder, TreeSettings(builder="memwalker", scope="document"))
    index.add(passages)
    roots = index.tree.roots()
    assert len(roots) == 2
    assert {index.tree.nodes[r].spans[0].document for r in roots} == {"alpha.txt", "beta.txt"}
    assert all(len(index.tree.nodes[r].spans) == 1 for r in roots)


def test_a_node_whose_child_is_missing_is_a_load_error(
    embedder: Embedder, passages: list[Passage], tmp_path: Path
) -> None:
    index = TreeIndex(embedder, TreeSettings(builder="memwalker", memwalker_fanout=3))
    index.add(passages)
    index.save(tmp_path / "t")
    nodes = tmp_path / "t" / "nodes.jsonl"
    lines = nodes.read_text().splitlines()
    victim = json.loads(lines[0])["id"]
    nodes.write_text("\n".join(lines[1:]) + "\n")
    import numpy as np

    vectors = np.load(tmp_path / "t" / "vectors.npy")
    np.save(tmp_path / "t" / "vectors.npy", vectors[1:])
    with pytest.raises(IndexFormatError, match=rf"node 's\d+' has missing children: {victim}"):
        SummaryTree.load(tmp_path / "t", embedder.dim, 0)


def test_changed_tree_settings_are_named_on_load(
    embedder: Embedder, passages: list[Passage], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index = TreeIndex(embedder, TreeSettings(builder="memtree"))
    index.add(passages)
    index.save(tmp_path / "t")
    settings = Settings(show_progress=False).with_section("tree", builder="raptor")
    loaded = TreeIndex.load(tmp_path / "t", BuildContext(embedder, settings))
    assert loaded.settings.builder == "memtree"
    assert "builder" in caplog.text and "--rebuild" in caplog.text
