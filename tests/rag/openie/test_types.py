"""clean_triples: what counts as a well-formed triple, and what is dropped."""

from __future__ import annotations

from typing import Any

import pytest

from rag.operators.openie import Extraction, clean_triples


@pytest.mark.parametrize(
    ("raw", "kept", "dropped"),
    [
        (None, [], 0),
        ([], [], 0),
        ("not a list", [], 1),
        (
            [["Ulm", "birthplace of", "Albert Einstein"]],
            [("Ulm", "birthplace of", "Albert Einstein")],
            0,
        ),
        ([("  Ulm ", " in ", "Germany  ")], [("Ulm", "in", "Germany")], 0),
        ([["Apollo", "launched in", 1969]], [("Apollo", "launched in", "1969")], 0),
        ([["Apollo", "launched in", 1969.0]], [("Apollo", "launched in", "1969")], 0),
        ([["Factor", "is", 1.355]], [("Factor", "is", "1.355")], 0),
        ([["Our World", "broadcast via satellite"]], [], 1),
        ([["Adam Wright", "is", "nephew of", "Alan Jackson"]], [], 1),
        ([["a", "", "c"], ["a", "   ", "c"]], [], 2),
        ([["a", None, "c"], ["a", True, "c"], ["a", float("nan"), "c"]], [], 3),
        ([["a", {"x": 1}, "c"], "a b c", 42], [], 3),
        ([["a", "b", "c"], ["a", "b", "c"], ["a", "b  ", "c"]], [("a", "b", "c")], 0),
    ],
)
def test_clean_triples(raw: Any, kept: list[tuple[str, str, str]], dropped: int) -> None:
    """Three non-empty parts survive (numbers as text); everything else is counted as dropped."""
    assert clean_triples(raw, where="test") == (kept, dropped)


def test_extraction_round_trips_as_json() -> None:
    """Triples come back as tuples after a JSON round trip, as CachedExtractor relies on."""
    extraction = Extraction(
        passage_id="p1", entities=["Ulm"], triples=[("Ulm", "in", "Germany")], extractor="x"
    )
    again = Extraction.model_validate_json(extraction.model_dump_json())
    assert again == extraction
    assert again.triples[0] == ("Ulm", "in", "Germany")
