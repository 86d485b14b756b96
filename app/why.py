"""The Ask page's "why" panels: PageRank subgraph, tree paths, clues, and IRCoT rounds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app import resources
from app.explain import clue_events, clue_rows, iterate_events, iteration_rounds, passage_label
from app.pictures import layered_positions, network_figure, pagerank_subgraph
from app.trees import path_rows
from app.widgets import guard, passages_of
from rag.trace_outputs import CluesOutput, IterateOutput
from rag.types import GraphReason, Hit, Passage, TraceEvent, TreeReason


def show_why(
    hits: Sequence[Hit],
    events: Sequence[TraceEvent],
    passages: dict[str, Passage],
    index_path: Path | None,
) -> None:
    """Every panel that applies to this result; a plain dense result has none."""
    titles = {pid: passage_label(p, pid) for pid, p in passages.items()}
    shown = False
    if any(isinstance(h.reason, GraphReason) for h in hits):
        shown = True
        with st.container(border=True):
            _graph_panel(hits, events, titles)
    if any(isinstance(h.reason, TreeReason) for h in hits):
        shown = True
        with st.container(border=True), guard("Reading the tree for the hits' paths"):
            _tree_panel(hits, index_path, titles)
    for _, clues in clue_events(events):
        shown = True
        with st.container(border=True):
            _clue_panel(clues, hits, titles)
    for event, iterated in iterate_events(events):
        shown = True
        with st.container(border=True):
            _iterate_panel(event.id, iterated, events, titles, index_path)
    if not shown:
        st.caption("No graph, tree, clue or iteration steps in this pipeline.")


def _graph_panel(hits: Sequence[Hit], events: Sequence[TraceEvent], titles: dict[str, str]) -> None:
    """Seed entities -> facts -> passages, sized by seed weight, fact score and PageRank."""
    st.markdown("#### PageRank subgraph")
    view = pagerank_subgraph(hits, events, titles)
    if view.number_of_nodes() == 0:
        st.info("The graph hits carry no seeds or facts (a dense fallback).")
        return
    title = "seed entities → matched facts → passages (size: weight, score, PageRank mass)"
    # Room on both sides for the entity labels (left) and passage titles (right).
    figure = network_figure(view, layered_positions(view), title, x_range=(-0.9, 2.9))
    st.plotly_chart(figure, width="stretch")
    fallbacks = {h.reason.fallback for h in hits if isinstance(h.reason, GraphReason)} - {None}
    if fallbacks:
        st.caption("fallback: " + "; ".join(sorted(str(f) for f in fallbacks)))


def _tree_panel(hits: Sequence[Hit], index_path: Path | None, titles: dict[str, str]) -> None:
    """Each tree hit's path from the root, with the summaries along it."""
    st.markdown("#### Tree paths")
    if index_path is None:
        st.info("The index dir is not open, so the summaries cannot be shown.")
        return
    tree, _ = resources.tree_of(index_path)
    for rank, hit in enumerate(hits, start=1):
        if not isinstance(hit.reason, TreeReason):
            continue
        with st.expander(f"#{rank} {titles.get(hit.passage_id, hit.passage_id)}", rank == 1):
            # A nested list: each node one level deeper than the node above it on the path.
            lines = [
                "  " * row["depth"]
                + f"- `{row['node']}` (level {'?' if row['level'] is None else row['level']}): "
                + row["text"]
                for row in path_rows(tree, hit.reason.path)
            ]
            st.markdown("\n".join(lines))


def _clue_panel(out: CluesOutput, hits: Sequence[Hit], titles: dict[str, str]) -> None:
    """The clues drafted, what each found, and which clue found each final hit."""
    drafters = ", ".join(out.drafters)
    st.markdown("#### Clues")
    st.caption(f"memory: {out.memory or 'none'}" + (f" · drafters: {drafters}" if drafters else ""))
    clues = pd.DataFrame(
        [
            {
                "clue": c.text,
                "kind": c.kind,
                "drafter": c.drafter,
                "found": ", ".join(titles.get(p, p) for p in c.hits),
            }
            for c in out.clues
        ]
    )
    st.dataframe(clues, hide_index=True, width="stretch")
    rows = clue_rows(out, hits)
    for row in rows:
        row["title"] = titles.get(row["passage"], row["passage"])
        row["found by"] = " | ".join(row["found by"]) or "(fusion only)"
    st.markdown("Which text found each hit")
    st.dataframe(
        pd.DataFrame(rows)[["rank", "title", "found by", "passage"]],
        hide_index=True,
        width="stretch",
    )


def _iterate_panel(
    parent: int,
    out: IterateOutput,
    events: Sequence[TraceEvent],
    titles: dict[str, str],
    index_path: Path | None,
) -> None:
    """Each round: the text searched (question, then thoughts) and what it newly retrieved."""
    st.markdown(
        f"#### Iterations: {len(out.thoughts)} thoughts, stopped on {out.stop_reason or '?'}"
    )
    if out.answer:
        st.caption(f"reasoner's answer: {out.answer}")
    rows = iteration_rounds(events, parent)
    # Passages a round found and the final ranking dropped are named by title too.
    titles = _round_titles(rows, titles, index_path)
    for row in rows:
        label = "question" if row["round"] == 0 else f"thought {row['round']}"
        new = ", ".join(titles.get(p, p) for p in row["new"]) or "nothing new"
        stop = f" — stop: {row['stop']}" if row["stop"] else ""
        st.markdown(f"**{label}**: {row['searched'] or '(none)'}{stop}")
        top = ", ".join(titles.get(p, p) for p in row["top"][:5])
        st.caption(f"new: {new} · top after the round: {top} · {row['ms']} ms")


def _round_titles(
    rows: list[dict[str, Any]], titles: dict[str, str], index_path: Path | None
) -> dict[str, str]:
    """Titles for every passage the rounds name, not only the final hits (fetched by id)."""
    missing = [p for r in rows for p in [*r["new"], *r["top"]] if p not in titles]
    found = passages_of(index_path, missing)
    return {**titles, **{pid: passage_label(p, pid) for pid, p in found.items()}}
