"""The question a form starts with: one the chosen index dir can answer, not the demo's."""

from __future__ import annotations

from importlib import resources as package_files
from pathlib import Path

import streamlit as st

from app import resources

#: The question the bundled sample (`rag demo`) answers.
DEMO_QUESTION = "When was the Hubble Space Telescope launched?"
#: Session keys of the results whose question is worth offering again, by page.
RESULT_KEYS = ("ask_result", "cmp_result")


def built_from_sample(index_path: Path) -> bool:
    """Whether the index dir was built from the bundled sample, which the demo question fits."""
    try:
        sources = resources.manifest(index_path).sources
    except Exception:  # an unreadable dir gets no demo question; its page says why
        return False
    sample = Path(str(package_files.files("rag") / "data" / "sample")).resolve()
    return bool(sources) and all(Path(s).parent == sample for s in sources)


def _asked(index: str | None) -> str | None:
    """The question last asked of an index dir in this session (Ask first, then Compare)."""
    for key in RESULT_KEYS:
        result = st.session_state.get(key)
        if index and result and result.get("index") == index and result.get("question"):
            return str(result["question"])
    return None


def starting_question(index_path: Path) -> str:
    """The question last asked of this index in the session, else the demo's for the demo."""
    asked = _asked(str(index_path))
    if asked is not None:
        return asked
    if built_from_sample(index_path):
        return DEMO_QUESTION
    return title_question(index_path)


def title_question(index_path: Path) -> str:
    """A question about the first titled passage of the index ("" when none is titled)."""
    try:
        store = resources.open_index(index_path).index_dir.store
        title = next((p.title for p in store.iter_passages() if p.title), None)
    except Exception:  # the page itself says what is wrong with the dir
        return ""
    return f"What is {title}?" if title else ""


def question_input(label: str, key: str, index_path: Path) -> str:
    """A question box that starts over, with a fitting question, when the index changes.

    What the user typed stays while the index stays; a new index replaces only a question the
    form itself filled in.
    """
    owner, filled = f"{key}_for", f"{key}_filled"
    previous = st.session_state.get(owner)
    # Streamlit drops a widget's state when its page is left: coming back fills it again.
    if previous != str(index_path) or key not in st.session_state:
        current = st.session_state.get(key, "")
        # Replaced: nothing, what the form filled in, or a question already asked there.
        if current in ("", st.session_state.get(filled), _asked(previous)):
            st.session_state[key] = st.session_state[filled] = starting_question(index_path)
        st.session_state[owner] = str(index_path)
    return str(st.text_input(label, key=key, placeholder="A question this index's passages answer"))
