"""The values among spaCy's triples (dates, amounts) are typed as literals; names are not."""

from __future__ import annotations

import pytest

from rag.operators.openie import Extraction
from rag.operators.openie.spacy_extractor import SpacyOpenIE
from rag.types import Passage
from tests.rag.openie.test_spacy_extractor import needs_spacy


@pytest.fixture(scope="module")
def extractor() -> SpacyOpenIE:
    """One loaded extractor for the module."""
    return SpacyOpenIE()


def _read(extractor: SpacyOpenIE, text: str, title: str) -> Extraction:
    """The extraction of one passage."""
    return extractor.extract([Passage.from_text(text, title=title)])[0]


@needs_spacy
def test_dates_and_amounts_are_typed_and_names_are_not(extractor: SpacyOpenIE) -> None:
    """A year, a full date and an amount are literals; the places and people beside them not."""
    extraction = _read(
        extractor,
        "The bridge was opened in 1932 by Jack Lang. It was closed on 14 July 2011. "
        "Its arch is 134 metres high and it cost 6.25 million pounds.",
        "Sydney Harbour Bridge",
    )
    assert ("Sydney Harbour Bridge", "was opened in", "1932") in extraction.triples
    assert ("Sydney Harbour Bridge", "was opened by", "Jack Lang") in extraction.triples
    assert {"1932", "14 July 2011"} <= set(extraction.literals)
    assert not {"Jack Lang", "Sydney Harbour Bridge"} & set(extraction.literals)


@needs_spacy
def test_every_literal_is_an_object_and_none_is_a_subject(extractor: SpacyOpenIE) -> None:
    """Literals are named once each, in triple order, and only as objects."""
    extraction = _read(
        extractor,
        "In 1960 the band was formed in Liverpool. In 1960 it played in Hamburg for 48 nights.",
        "The Beatles",
    )
    objects = [o for _, _, o in extraction.triples]
    subjects = {s for s, _, _ in extraction.triples}
    assert "1960" in extraction.literals
    assert len(set(extraction.literals)) == len(extraction.literals)
    assert extraction.literals == [o for o in dict.fromkeys(objects) if o in extraction.literals]
    assert not subjects & set(extraction.literals)


@needs_spacy
def test_a_passage_without_values_has_no_literals(extractor: SpacyOpenIE) -> None:
    """No date or amount in the text: the list is empty (the field's default elsewhere too)."""
    extraction = _read(extractor, "Marie Curie was born in Warsaw.", "Marie Curie")
    assert extraction.literals == []
    assert Extraction(passage_id="p").literals == []
