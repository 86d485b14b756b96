"""Tree: the summary tree's outline, a sunburst picture, and a collapsible walk from the roots."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app import resources
from app.explain import passage_label, shorten
from app.pictures import tree_figure
from app.trees import children_of, counts_line, level_names, node_label, sunburst_rows
from app.widgets import guard, passages_of
from indexers.tree.model import SummaryTree
from indexers.tree.outline import outline

#: Nodes shown as nested sections at most, and passages listed under one node at most.
OUTLINE_NODES = 400
LEAVES_SHOWN = 20


def nested(
    tree: SummaryTree, node_id: str | None, titles: dict[str, str], budget: list[int]
) -> None:
    """A node's children as collapsible sections, passages as lines (within a node budget)."""
    kids = children_of(tree, node_id)
    leaves = [k for k in kids if k.is_leaf]
    for kid in (k for k in kids if not k.is_leaf):
        if budget[0] <= 0:
            st.caption("… (outline cut short; the picture above shows every node)")
            return
        budget[0] -= 1
        with st.expander(node_label(kid)):
            st.write(shorten(kid.text, 600))
            nested(tree, kid.id, titles, budget)
    for leaf in leaves[:LEAVES_SHOWN]:
        st.markdown(f"- {titles.get(leaf.id, leaf.id)} `{leaf.id}`: {shorten(leaf.text, 120)}")
    if len(leaves) > LEAVES_SHOWN:
        st.caption(f"… and {len(leaves) - LEAVES_SHOWN} more passages")


def explorer(index_path: Path) -> None:
    """Counts per level, the sunburst, and the outline."""
    tree, config = resources.tree_of(index_path)
    info = outline(tree, config)
    cols = st.columns(5)
    cols[0].metric("builder", str(info["builder"]))
    cols[1].metric("nodes", info["nodes"])
    cols[2].metric("passages", info["passages"])
    cols[3].metric("roots", info["roots"])
    cols[4].metric("mean fan-out", info["mean_fanout"])
    levels = info["levels"]
    st.caption(
        f"nodes per level: {counts_line(levels, level_names(levels))}  \n"
        f"summaries by: {counts_line(info['summarizers']) or 'none'} · "
        f"scope: {info['scope'] or 'corpus'}"
    )
    leaf_ids = [n.id for n in tree.leaf_nodes()]
    passages = passages_of(index_path, leaf_ids)
    titles = {pid: passage_label(p, pid) for pid, p in passages.items()}
    st.plotly_chart(
        tree_figure(sunburst_rows(tree, titles), "the tree (click a node to zoom in)"),
        width="stretch",
    )
    st.subheader("Outline")
    nested(tree, None, titles, [OUTLINE_NODES])


st.title("Tree")
chosen = st.session_state.get("chosen_index")
if not chosen:
    st.info("Pick an index dir in the sidebar.")
else:
    with guard(f"Reading the tree of {chosen}"):
        manifest = resources.manifest(chosen)
        if "tree" not in manifest.indexes:
            st.info("There is no tree in this index (build one with `rag index --kinds tree`).")
        else:
            explorer(Path(chosen))
