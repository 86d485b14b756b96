"""networkx views of a KnowledgeGraph, for inspection and GraphML export."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from graphs.knowledge_graph import KnowledgeGraph


def entity_node(row: int) -> str:
    """The networkx name of an entity row."""
    return f"e{row}"


def passage_node(passage_id: str) -> str:
    """The networkx name of a passage."""
    return f"p:{passage_id}"


def to_networkx(graph: KnowledgeGraph, *, passages: bool = True) -> nx.Graph:
    """An undirected networkx graph with node kinds and labels, and edge kinds and weights.

    Fact edges carry the relations asserted between their two entities; parallel facts between
    the same pair are one edge whose weight counts them, as in the PageRank graph.
    """
    view = nx.Graph()
    for row, (key, label) in enumerate(zip(graph.entities, graph.entity_labels, strict=True)):
        view.add_node(
            entity_node(row),
            kind="entity",
            label=label,
            phrase=key,
            passages=len(graph.entity_passages[row]),
        )
    for (s, relation, o), ps in zip(graph.facts, graph.fact_passages, strict=True):
        if s == o:
            continue
        a, b = entity_node(s), entity_node(o)
        if view.has_edge(a, b):
            edge = view.edges[a, b]
            edge["weight"] += len(ps)
            edge["relations"] = f"{edge['relations']}; {relation}"
        else:
            view.add_edge(a, b, kind="fact", weight=float(len(ps)), relations=relation)
    for (x, y), sim in graph.synonyms.items():
        u, v = entity_node(x), entity_node(y)
        if not view.has_edge(u, v):
            view.add_edge(u, v, kind="synonymy", weight=float(sim), relations="")
    if passages:
        for prow, pid in enumerate(graph.passages):
            view.add_node(passage_node(pid), kind="passage", label=pid, phrase="", passages=1)
            for e in sorted(graph.passage_entities(prow)):
                view.add_edge(
                    passage_node(pid), entity_node(e), kind="passage", weight=1.0, relations=""
                )
    return view


def write_graphml(graph: KnowledgeGraph, path: Path, *, passages: bool = True) -> None:
    """Export the graph as GraphML (opens in Gephi, Cytoscape, yEd, networkx)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(to_networkx(graph, passages=passages), path)


def neighbourhood(graph: KnowledgeGraph, phrase: str, limit: int = 25) -> dict[str, object]:
    """An entity's facts, synonyms and passages, for `rag inspect --graph --entity`."""
    row = graph.entity_row(phrase)
    if row is None:
        raise KeyError(phrase)
    facts = [
        {"fact": graph.fact_texts[f], "passages": len(graph.fact_passages[f])}
        for f, (s, _, o) in enumerate(graph.facts)
        if row in (s, o)
    ]
    synonyms = sorted(
        (
            (graph.entity_labels[b if a == row else a], round(sim, 3))
            for (a, b), sim in graph.synonyms.items()
            if row in (a, b)
        ),
        key=lambda x: -x[1],
    )
    return {
        "entity": graph.entity_labels[row],
        "phrase": graph.entities[row],
        "passages": sorted(graph.passages[p] for p in graph.entity_passages[row])[:limit],
        "facts": facts[:limit],
        "synonyms": synonyms[:limit],
    }
