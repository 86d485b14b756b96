"""PatternOpenIE on real sentences: names, dates, amounts, quotes and the title-pronoun rule."""

from __future__ import annotations

from rag.operators.openie import PatternOpenIE
from rag.types import Passage

JOURNAL = Passage.from_text(
    "The Journal of Mathematical Physics is a peer-reviewed journal published monthly by the "
    "American Institute of Physics devoted to the publication of papers in mathematical physics. "
    "The journal was first published bimonthly beginning in January 1960; it became a monthly "
    "publication in 1963. The current editor is Jan Philip Solovej from University of "
    "Copenhagen. Its 2018 Impact Factor is 1.355",
    title="Journal of Mathematical Physics",
)
EINSTEIN = Passage.from_text(
    "Albert Einstein (14 March 1879 – 18 April 1955) was a German-born theoretical physicist. "
    "He was born in 1879 in Ulm. In 1921 he received the Nobel Prize in Physics.",
    title="Albert Einstein",
)
NAPOLEON = Passage.from_text(
    "Napoleon died on Saint Helena on 5 May 1821. Charles de Gaulle and Ludwig van Beethoven "
    'admired him. The song "Hey Jude" is unrelated. Mount Everest is 8,849 metres high, and '
    "France and Germany are neighbours.",
    title="Napoleon",
)


def test_names_dates_and_connectors() -> None:
    """Capitalized runs with 'of' inside, month-year dates and years; sentence case dropped."""
    found = PatternOpenIE().extract([JOURNAL])[0]
    assert found.passage_id == JOURNAL.id and found.extractor == "pattern"
    for entity in [
        "Journal of Mathematical Physics",
        "American Institute of Physics",
        "January 1960",
        "1963",
        "Jan Philip Solovej",
        "University of Copenhagen",
    ]:
        assert entity in found.entities
    assert not {"The", "Its", "The Journal of Mathematical Physics"} & set(found.entities)
    assert ("Jan Philip Solovej", "from", "University of Copenhagen") in found.triples


def test_title_is_the_subject_of_pronoun_sentences() -> None:
    """'He was born in 1879' in a passage titled Albert Einstein becomes a triple about him."""
    found = PatternOpenIE().extract([EINSTEIN])[0]
    assert found.entities[0] == "Albert Einstein"
    assert {"14 March 1879", "18 April 1955", "1879", "Ulm", "Nobel Prize"} <= set(found.entities)
    assert ("Albert Einstein", "was born in", "1879") in found.triples
    # A year is an object, never a subject.
    assert all(subject != "1879" for subject, _, _ in found.triples)


def test_quotes_amounts_particles_and_lists() -> None:
    """Quoted titles, numbers with units, 'de'/'van' inside names; 'X and Y' is no relation."""
    found = PatternOpenIE().extract([NAPOLEON])[0]
    for entity in [
        "Saint Helena",
        "5 May 1821",
        "Charles de Gaulle",
        "Ludwig van Beethoven",
        "Hey Jude",
        "Mount Everest",
        "8,849 metres",
    ]:
        assert entity in found.entities
    assert ("Napoleon", "died on", "Saint Helena") in found.triples
    pairs = {(s, o) for s, _, o in found.triples}
    assert ("France", "Germany") not in pairs
    assert ("Charles de Gaulle", "Ludwig van Beethoven") not in pairs


def test_deterministic_and_in_input_order() -> None:
    """Same input, same output, from one instance or a fresh one; one result per passage."""
    passages = [JOURNAL, EINSTEIN, NAPOLEON]
    first = PatternOpenIE().extract(passages)
    assert [e.passage_id for e in first] == [p.id for p in passages]
    assert PatternOpenIE().extract(passages) == first
    assert PatternOpenIE().extract(list(reversed(passages))) == list(reversed(first))


def test_query_entities() -> None:
    """Question words are not entities; a question without names gives []."""
    extractor = PatternOpenIE()
    assert extractor.query_entities("Who won the 1911 Nobel Prize in Chemistry?") == [
        "1911",
        "Nobel Prize",
        "Chemistry",
    ]
    assert extractor.query_entities('When was "Hey Jude" released by the Beatles?') == [
        "Hey Jude",
        "Beatles",
    ]
    # MuSiQue's Wikipedia text quotes with ``...''.
    assert "Say Hello 2 Heaven" in extractor.query_entities("Who wrote ``Say Hello 2 Heaven ''?")
    assert extractor.query_entities("what is the capital of the country where tea grows?") == []


def test_passage_without_title_or_names() -> None:
    """No title and no capitals: nothing found, nothing invented."""
    found = PatternOpenIE().extract([Passage.from_text("it rained all day and then it stopped.")])
    assert (found[0].entities, found[0].triples) == ([], [])
