"""The memrag inspector's entry point: `rag app` runs `streamlit run` on this file."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app import resources
from app.widgets import error_card, index_picker

HERE = Path(__file__).resolve().parent
PAGES = [
    ("indexes.py", "Indexes", ":material/folder_open:"),
    ("ask.py", "Ask", ":material/question_answer:"),
    ("compare.py", "Compare", ":material/compare_arrows:"),
    ("evaluation.py", "Evaluation", ":material/leaderboard:"),
    ("graph.py", "Graph", ":material/hub:"),
    ("tree.py", "Tree", ":material/account_tree:"),
]


def main() -> None:
    """Set up the page, check the roots, pick an index, and run the chosen page."""
    st.set_page_config(page_title="memrag inspector", page_icon=":mag:", layout="wide")
    pages = [
        st.Page(HERE / "views" / name, title=title, icon=icon, default=n == 0)
        for n, (name, title, icon) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    try:
        roots = resources.roots()
    except Exception as exc:  # a bad --root must say so on the page, not crash it
        error_card("The app's root folders", exc)
        st.stop()
    st.sidebar.caption("Reading under: " + ", ".join(f"`{f}`" for f in roots.folders))
    index_picker()
    page.run()


main()
