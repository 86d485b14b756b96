"""Entity phrase normalization: the key that decides when two mentions are the same node."""

from __future__ import annotations

import re

_NON_WORD = re.compile(r"[\W_]+")


def normalize_phrase(text: str) -> str:
    """Lower-case, turn punctuation into spaces and collapse runs of spaces.

    Unicode letters are kept (unlike an ASCII-only filter) so that "Zürich" and "Zurich" stay
    distinct nodes and can still be joined by a synonymy edge.
    """
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())
