"""Tables the pages show: missing values read as a dash, not Python's None."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

#: What a cell with no value (a passage one pipeline did not rank) shows.
MISSING = "–"


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows as a table whose missing cells show a dash rather than None or NaN."""
    frame = pd.DataFrame(list(rows), columns=list(columns) if columns else None)
    # Object dtype first: a dash cannot sit in an integer or float column.
    return frame.astype(object).where(frame.notna(), MISSING)
