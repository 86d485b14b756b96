"""Pictures: the PageRank subgraph behind graph hits, an entity's neighbourhood, a tree.

Graphs are laid out with networkx and drawn with plotly; node size follows PageRank mass,
seed weight or fact score, as the caller says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import networkx as nx
import plotly.graph_objects as go

from app.explain import graph_searches, shorten
from rag.types import GraphReason, Hit, TraceEvent

#: Where each kind's labels sit, so that they do not cover the markers of a column.
TEXT_POSITIONS = {"entity": "middle left", "fact": "top center", "passage": "middle right"}
#: Characters of a label written beside its marker (hover shows it whole).
LABEL_CHARS = 32
#: Node colours by kind.
COLOURS = {"entity": "#e4572e", "fact": "#f3a712", "passage": "#29335c", "synonymy": "#a8c686"}


def pagerank_subgraph(
    hits: Sequence[Hit], events: Sequence[TraceEvent], titles: dict[str, str]
) -> nx.DiGraph:
    """Seed entities -> matched facts -> passages, from graph hits' reasons and the graph step.

    A seed joins a fact whose text names it; a seed that names no fact joins the passages whose
    reason lists it. Node `mass` is the seed weight, the fact score or the passage's PageRank.
    """
    view = nx.DiGraph()
    fact_scores: dict[str, float] = {}
    seed_weights: dict[str, float] = {}
    for search in graph_searches(events):
        fact_scores.update({fact: score for fact, score in search.facts})
        seed_weights.update({name: weight for name, weight in search.seeds})
    for hit in hits:
        reason = hit.reason
        if not isinstance(reason, GraphReason):
            continue
        pnode = f"p:{hit.passage_id}"
        view.add_node(
            pnode,
            kind="passage",
            label=titles.get(hit.passage_id, hit.passage_id),
            mass=reason.pagerank or 0.0,
        )
        for fact in reason.facts:
            fnode = f"f:{fact}"
            view.add_node(fnode, kind="fact", label=fact, mass=fact_scores.get(fact, 0.0))
            view.add_edge(fnode, pnode)
        for name, weight in reason.seeds:
            enode = f"e:{name}"
            view.add_node(enode, kind="entity", label=name, mass=seed_weights.get(name, weight))
            named = [f for f in reason.facts if name.lower() in f.lower()]
            for fact in named:
                view.add_edge(enode, f"f:{fact}")
            if not named:
                view.add_edge(enode, pnode)
    return view


def labelled_nodes(view: nx.Graph, pos: dict[Any, tuple[float, float]], limit: int) -> set[Any]:
    """The nodes whose labels are written: heaviest first, none too close to a written one."""
    if not pos:
        return set()
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    # A label is about a sixth of the picture wide and a twentieth high.
    width = ((max(xs) - min(xs)) or 1.0) / 6
    height = ((max(ys) - min(ys)) or 1.0) / 20
    order = sorted(view.nodes, key=lambda n: -float(view.nodes[n].get("mass", 0.0)))
    shown: list[Any] = []
    for node in order:
        if len(shown) >= limit:
            break
        x, y = pos[node]
        if all(abs(x - pos[o][0]) > width or abs(y - pos[o][1]) > height for o in shown):
            shown.append(node)
    return set(shown)


def _sizes(view: nx.Graph, kind: str, low: float, high: float) -> dict[str, float]:
    """Marker sizes for nodes of one kind, by `mass` relative to the largest of that kind."""
    nodes = [n for n, d in view.nodes(data=True) if d.get("kind") == kind]
    top = max((view.nodes[n].get("mass", 0.0) for n in nodes), default=0.0) or 1.0
    return {
        n: low + (high - low) * math.sqrt(max(view.nodes[n].get("mass", 0.0), 0.0) / top)
        for n in nodes
    }


def layered_positions(view: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Entities left, facts in the middle, passages right, each column spread evenly."""
    columns = {"entity": 0.0, "fact": 1.0, "passage": 2.0}
    pos: dict[str, tuple[float, float]] = {}
    for kind, x in columns.items():
        nodes = sorted(
            (n for n, d in view.nodes(data=True) if d.get("kind") == kind),
            key=lambda n: -view.nodes[n].get("mass", 0.0),
        )
        for i, n in enumerate(nodes):
            pos[n] = (x, -(i - (len(nodes) - 1) / 2))
    return pos


def network_figure(
    view: nx.Graph,
    pos: dict[Any, tuple[float, float]],
    title: str,
    height: int = 480,
    x_range: tuple[float, float] | None = None,
    max_labels: int = 16,
) -> go.Figure:
    """Draw a graph: one trace of edges, one of nodes per kind, labels on hover and beside.

    Only the heaviest nodes whose labels do not collide get one written beside them; every
    node names itself on hover.
    """
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for u, v in view.edges():
        (x0, y0), (x1, y1) = pos[u], pos[v]
        edge_x += [x0, x1, None]
        edge_y += [y0, y1, None]
    traces: list[go.Scatter] = [
        go.Scatter(
            x=edge_x,
            y=edge_y,
            mode="lines",
            line={"width": 1, "color": "#bbbbbb"},
            hoverinfo="skip",
            showlegend=False,
        )
    ]
    shown = labelled_nodes(view, pos, max_labels)
    for kind in ("entity", "fact", "passage"):
        nodes = [n for n, d in view.nodes(data=True) if d.get("kind") == kind]
        if not nodes:
            continue
        sizes = _sizes(view, kind, 10, 40)
        labels = [str(view.nodes[n].get("label", n)) for n in nodes]
        traces.append(
            go.Scatter(
                x=[pos[n][0] for n in nodes],
                y=[pos[n][1] for n in nodes],
                mode="markers+text",
                name=kind,
                text=[
                    shorten(lbl, LABEL_CHARS) if n in shown else ""
                    for n, lbl in zip(nodes, labels, strict=True)
                ],
                textposition=TEXT_POSITIONS[kind],
                hovertext=[
                    f"{lbl}<br>{kind} mass {view.nodes[n].get('mass', 0.0):.4g}"
                    for n, lbl in zip(nodes, labels, strict=True)
                ],
                hoverinfo="text",
                marker={"size": [sizes[n] for n in nodes], "color": COLOURS[kind]},
            )
        )
    if x_range is None and pos:
        # Labels sit beside the outer markers: leave them a quarter of the width each side.
        xs = [x for x, _ in pos.values()]
        pad = 0.25 * ((max(xs) - min(xs)) or 1.0)
        x_range = (min(xs) - pad, max(xs) + pad)
    fig = go.Figure(traces)
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"visible": False, **({"range": list(x_range)} if x_range else {})},
        yaxis={"visible": False},
        legend={"orientation": "h"},
    )
    return fig


def neighbourhood_view(
    full: nx.Graph, centre: str, titles: dict[str, str], limit: int = 60
) -> nx.Graph:
    """An entity node, its neighbours (entities and passages), and the edges among them."""
    near = sorted(
        full.neighbors(centre), key=lambda n: -float(full.edges[centre, n].get("weight", 1.0))
    )[: limit - 1]
    sub = full.subgraph([centre, *near]).copy()
    for node, data in sub.nodes(data=True):
        if data.get("kind") == "passage":
            pid = str(data.get("label", node))
            data["label"] = titles.get(pid, pid)
        data["mass"] = 2.0 if node == centre else float(data.get("passages", 1))
    return sub


def spring_positions(view: nx.Graph) -> dict[Any, tuple[float, float]]:
    """A force-directed layout, fixed by a seed so the picture is the same on every run."""
    return {n: (float(x), float(y)) for n, (x, y) in nx.spring_layout(view, seed=0).items()}


def tree_figure(rows: Sequence[dict[str, Any]], title: str, height: int = 520) -> go.Figure:
    """A sunburst of a tree (click a node to zoom into it); rows have id, parent, label, size."""
    fig = go.Figure(
        go.Sunburst(
            ids=[r["id"] for r in rows],
            parents=[r["parent"] for r in rows],
            labels=[r["label"] for r in rows],
            hovertext=[r["hover"] for r in rows],
            hoverinfo="text",
            maxdepth=3,
        )
    )
    fig.update_layout(title=title, height=height, margin={"l": 0, "r": 0, "t": 40, "b": 0})
    return fig
