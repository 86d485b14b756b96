"""KnowledgeGraph: nodes, fact and synonymy edges, removal, storage and networkx views."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from graphs.knowledge_graph import KnowledgeGraph
from graphs.phrases import normalize_phrase
from graphs.storage import load_graph, save_graph
from graphs.views import neighbourhood, to_networkx, write_graphml

CURIE = [("Marie Curie", "won", "Nobel Prize"), ("Marie Curie", "born in", "Warsaw")]
PIERRE = [("Pierre Curie", "married", "Marie Curie"), ("Pierre Curie", "won", "Nobel Prize")]
WARSAW = [("Warsaw", "capital of", "Poland")]


def small_graph() -> KnowledgeGraph:
    graph = KnowledgeGraph()
    graph.add_passage("p1", CURIE)
    graph.add_passage("p2", PIERRE)
    graph.add_passage("p3", WARSAW)
    return graph


def test_phrases_are_normalized_into_one_node() -> None:
    assert normalize_phrase("  Marie  Curie's ") == "marie curie s"
    graph = KnowledgeGraph()
    graph.add_passage("a", [("MARIE CURIE", "won", "the Nobel-Prize")])
    graph.add_passage("b", [("marie curie", "won", "The Nobel Prize")])
    assert graph.n_entities == 2 and len(graph.facts) == 1
    assert graph.fact_passages[0] == {0, 1}
    assert graph.entity_row("Marie Curie") == 0


def test_fact_edges_are_weighted_by_passages_asserting_them() -> None:
    graph = small_graph()
    graph.add_passage("p4", [("Marie Curie", "won", "Nobel Prize")])
    src, dst, weight = graph.fact_edges()
    curie, nobel = graph.entity_row("Marie Curie"), graph.entity_row("Nobel Prize")
    pair = (src == curie) & (dst == nobel)
    assert weight[pair].tolist() == [2.0]


def test_specificity_is_one_over_passages() -> None:
    graph = small_graph()
    spec = graph.specificity()
    assert spec[graph.entity_row("Marie Curie")] == 0.5  # p1 and p2
    assert spec[graph.entity_row("Poland")] == 1.0


def test_csr_has_entity_then_passage_nodes() -> None:
    graph = small_graph()
    full = graph.csr()
    assert full.n_nodes == graph.n_entities + 3
    entity_only = graph.csr(passage_nodes=False)
    assert entity_only.n_nodes == graph.n_entities
    passage_node = graph.n_entities + graph.passage_row("p3")
    ids, _ = full.neighbors(passage_node)
    assert sorted(ids.tolist()) == sorted([graph.entity_row("Warsaw"), graph.entity_row("Poland")])


def test_synonymy_edges_enter_the_graph_only_when_asked() -> None:
    graph = small_graph()
    before = graph.csr(passage_nodes=False).n_edges
    graph.add_synonyms(np.array([0, 2]), np.array([4, 3]), np.array([0.9, 0.85]))
    assert graph.csr(passage_nodes=False).n_edges == before + 2
    assert graph.csr(passage_nodes=False, synonymy=False).n_edges == before


def test_removing_a_passage_keeps_shared_entities_and_facts() -> None:
    graph = small_graph()
    poland = graph.entity_row("Poland")
    graph.add_synonyms(np.array([poland]), np.array([graph.entity_row("Warsaw")]), np.array([0.9]))
    kept = graph.remove_passages(["p3", "unknown"])
    assert graph.passages == ["p1", "p2"]
    assert graph.entity_row("Poland") is None
    assert graph.entity_row("Warsaw") is not None  # still asserted by p1
    assert kept.entities.sum() == graph.n_entities and not kept.passages[2]
    assert graph.synonyms == {}  # the edge to the orphaned entity went with it
    removed_again = graph.remove_passages(["p1"])
    assert graph.entity_row("Marie Curie") is not None  # p2 still names her
    assert removed_again.facts.sum() == len(graph.facts) == 2
    for prow, facts in enumerate(graph.passage_facts):
        assert all(prow in graph.fact_passages[f] for f in facts)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    graph = small_graph()
    graph.add_synonyms(np.array([0]), np.array([3]), np.array([0.91]))
    save_graph(graph, tmp_path)
    loaded = load_graph(tmp_path)
    assert loaded.entities == graph.entities and loaded.facts == graph.facts
    assert loaded.passage_facts == graph.passage_facts
    assert loaded.entity_passages == graph.entity_passages
    assert loaded.synonyms.keys() == graph.synonyms.keys()
    assert np.array_equal(np.load(tmp_path / "csr_indptr.npy"), graph.csr().indptr)


def test_networkx_view_and_graphml_export(tmp_path: Path) -> None:
    graph = small_graph()
    view = to_networkx(graph)
    assert view.number_of_nodes() == graph.n_entities + graph.n_passages
    kinds = nx.get_edge_attributes(view, "kind")
    assert set(kinds.values()) == {"fact", "passage"}
    write_graphml(graph, tmp_path / "g.graphml")
    assert nx.read_graphml(tmp_path / "g.graphml").number_of_edges() == view.number_of_edges()
    info = neighbourhood(graph, "marie curie")
    assert info["passages"] == ["p1", "p2"] and len(info["facts"]) == 3
