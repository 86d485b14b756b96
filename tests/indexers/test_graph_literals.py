"""Values an extractor types as literals (dates, amounts) get no synonymy edges in the graph."""

from __future__ import annotations

from collections.abc import Sequence

from indexers.graph import GraphIndex
from rag.embed.base import Embedder
from rag.operators.openie import Extraction, Extractor, PatternOpenIE
from rag.types import Passage

TRIPLES = {
    "Opening": [("Grand Hall", "opened on", "14 July 2011")],
    "Closing": [("Grand Hall", "closed on", "15 July 2011")],
    "Army": [("United States Army", "fought in", "Korea")],
    "Army 2": [("US Army", "fought in", "Vietnam")],
}
DATES = ("14 July 2011", "15 July 2011")


class TypedTriples(Extractor):
    """Test extractor: fixed triples per title, dates typed as literals when `typed`."""

    name = "typed"

    def __init__(self, typed: bool) -> None:
        """Type the dates as values, or leave every part untyped."""
        self.typed = typed

    def extract(
        self, passages: Sequence[Passage], *, show_progress: bool = False
    ) -> list[Extraction]:
        """The fixed triples of each passage's title."""
        found = []
        for p in passages:
            triples = TRIPLES[p.title or ""]
            literals = [o for _, _, o in triples if o in DATES] if self.typed else []
            found.append(Extraction(passage_id=p.id, triples=triples, literals=literals))
        return found

    def query_entities(self, text: str) -> list[str]:
        """The pattern rules' names."""
        return PatternOpenIE().query_entities(text)


def _synonym_names(embedder: Embedder, typed: bool, batches: int) -> set[frozenset[str]]:
    """The synonymy pairs (as names) of a graph built from TRIPLES in `batches` adds."""
    index = GraphIndex(embedder, extractor=TypedTriples(typed))
    passages = [Passage.from_text(f"{title}.", title=title) for title in TRIPLES]
    step = len(passages) // batches
    for start in range(0, len(passages), step):
        index.add(passages[start : start + step])
    names = index.graph.entities
    return {frozenset((names[a], names[b])) for a, b in index.graph.synonyms}


def test_typed_dates_get_no_synonymy_edges_and_names_still_do(embedder: Embedder) -> None:
    """Two close dates are linked only while untyped; two spellings of a name stay linked."""
    dates = frozenset(d.lower() for d in DATES)
    untyped = _synonym_names(embedder, typed=False, batches=1)
    assert dates in untyped
    for batches in (1, 2):
        typed = _synonym_names(embedder, typed=True, batches=batches)
        assert not any(pair & dates for pair in typed)
        assert frozenset(("united states army", "us army")) in typed
