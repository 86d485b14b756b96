"""SpacyOpenIE: dependency-parse triples on hand-written sentences, its cache and its extra."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from rag.errors import MissingExtraError
from rag.operators.openie import CachedExtractor, Extraction
from rag.operators.openie.spacy_extractor import MODEL, SpacyOpenIE, load_model
from rag.operators.per_index import build_operator
from rag.types import Passage


def _spacy_installed() -> bool:
    """Whether spaCy and the English model of memrag[nlp] load."""
    try:
        load_model()
    except MissingExtraError:
        return False
    return True


needs_spacy = pytest.mark.skipif(
    not _spacy_installed(), reason=f"spaCy or {MODEL} not installed (memrag[nlp])"
)


@pytest.fixture(scope="module")
def extractor() -> SpacyOpenIE:
    """One loaded extractor for the module (loading takes about a second)."""
    return SpacyOpenIE()


def _read(extractor: SpacyOpenIE, text: str, title: str = "") -> Extraction:
    """The extraction of one passage."""
    return extractor.extract([Passage.from_text(text, title=title)])[0]


@needs_spacy
@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        # Apposition "X, the Y of Z", and the passive main verb with its preposition.
        (
            "Marie Curie",
            "Marie Curie, the wife of Pierre Curie, was born in Warsaw.",
            [("Marie Curie", "wife of", "Pierre Curie"), ("Marie Curie", "was born in", "Warsaw")],
        ),
        # Passive with an agent; "the tower" is the definite noun the title holds.
        (
            "Eiffel Tower",
            "The tower was designed by Gustave Eiffel and was completed in 1889.",
            [
                ("Eiffel Tower", "was designed by", "Gustave Eiffel"),
                ("Eiffel Tower", "was completed in", "1889"),
            ],
        ),
        # Coordinated agents each get the triple.
        (
            "Abbey Road",
            "Abbey Road was recorded by John Lennon and Paul McCartney.",
            [
                ("Abbey Road", "was recorded by", "John Lennon"),
                ("Abbey Road", "was recorded by", "Paul McCartney"),
            ],
        ),
        # A pronoun subject is the title; a possessive pronoun's noun is the title's.
        (
            "Albert Einstein",
            "He was born in Ulm. His father was Hermann Einstein.",
            [
                ("Albert Einstein", "was born in", "Ulm"),
                ("Albert Einstein", "father is", "Hermann Einstein"),
            ],
        ),
        # Copula with a prepositional complement, and a named possessor.
        (
            "Paris",
            "Paris is the capital of France. Spain's capital is Madrid.",
            [("Paris", "is capital of", "France"), ("Spain", "capital is", "Madrid")],
        ),
        # An attribute the passage states of its title.
        (
            "Vogue",
            "The current editor is Anna Wintour.",
            [("Vogue", "current editor is", "Anna Wintour")],
        ),
        # A relative pronoun is the noun its clause modifies.
        (
            "Mount Everest",
            "Edmund Hillary, who climbed Mount Everest, was a New Zealand mountaineer.",
            [("Edmund Hillary", "climbed", "Mount Everest")],
        ),
    ],
)
def test_known_triples_are_found(
    extractor: SpacyOpenIE, title: str, text: str, expected: list[tuple[str, str, str]]
) -> None:
    """Each sentence yields the triples a reader would write down."""
    triples = _read(extractor, text, title).triples
    for triple in expected:
        assert triple in triples


@needs_spacy
def test_a_pronoun_without_a_title_is_dropped(extractor: SpacyOpenIE) -> None:
    """With no title to stand for "he", no triple has a pronoun or a guessed subject."""
    extraction = _read(extractor, "He was born in Ulm.")
    assert extraction.triples == []
    assert extraction.entities == ["Ulm"]


@needs_spacy
def test_names_are_normalized_and_dates_are_never_subjects(extractor: SpacyOpenIE) -> None:
    """Leading articles and a final 's go; the title's spelling wins; a year is an object."""
    extraction = _read(
        extractor,
        "The Beatles were an English rock band formed in Liverpool in 1960. "
        "In 1960 the Beatles's manager was Allan Williams.",
        "The Beatles",
    )
    assert ("The Beatles", "formed in", "Liverpool") in extraction.triples
    assert ("The Beatles", "formed in", "1960") in extraction.triples
    assert "Beatles" not in {part for t in extraction.triples for part in (t[0], t[2])}
    assert all(subject != "1960" for subject, _, _ in extraction.triples)
    assert extraction.entities[0] == "The Beatles"


@needs_spacy
def test_every_named_entity_reaches_a_triple(extractor: SpacyOpenIE) -> None:
    """Only triples make graph nodes, so an entity no rule placed is tied to the title."""
    extraction = _read(extractor, "Hillary, born in Auckland, later lived in Nepal.", "Hillary")
    placed = {part for t in extraction.triples for part in (t[0], t[2])}
    assert set(extraction.entities) - {"Hillary"} <= placed


@needs_spacy
def test_question_entities_come_from_ner(extractor: SpacyOpenIE) -> None:
    """A question's names, lowercase words left out; none found gives []."""
    assert extractor.query_entities("Who was the wife of Pierre Curie?") == ["Pierre Curie"]
    assert extractor.query_entities("who wrote it?") == []


class _Counting(SpacyOpenIE):
    """SpacyOpenIE that records the passages it parses and can be interrupted."""

    def __init__(self, fail_on: str | None = None) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.fail_on = fail_on

    def extract(
        self, passages: Sequence[Passage], *, show_progress: bool = False
    ) -> list[Extraction]:
        if self.fail_on and any(self.fail_on in p.text for p in passages):
            raise RuntimeError("killed")
        self.seen.extend(p.id for p in passages)
        return super().extract(passages)


@needs_spacy
def test_cache_resumes_a_killed_build_and_extracts_only_new_passages(tmp_path: Path) -> None:
    """Batches done before a crash are kept; a re-index parses only passages not seen."""
    passages = [
        Passage.from_text(f"Town {n} lies on the river Rhine.", title=f"Town {n}") for n in range(6)
    ]
    killed = CachedExtractor(_Counting(fail_on="Town 4"), tmp_path, batch_size=2)
    with killed, pytest.raises(RuntimeError):
        killed.extract(passages)
    resumed = _Counting()
    with CachedExtractor(resumed, tmp_path, batch_size=2) as cached:
        first = cached.extract(passages)
        assert resumed.seen == [p.id for p in passages[4:]]
        more = Passage.from_text("Town 9 lies on the Danube.", title="Town 9")
        cached.extract([*passages, more])
        assert resumed.seen[-1] == more.id and len(resumed.seen) == 3
    assert [e.passage_id for e in first] == [p.id for p in passages]
    assert all(e.extractor == "spacy" for e in first)


@needs_spacy
def test_cache_key_names_the_model_version_and_rules() -> None:
    """Changed rules or another model never serve stale extractions."""
    key = SpacyOpenIE().cache_key
    assert key.startswith(f"spacy:{MODEL}:3.8") and ":rules" in key


@needs_spacy
def test_registry_builds_spacy_behind_the_cache(tmp_path: Path) -> None:
    """`--extractor spacy` resolves to the spaCy extractor, cached per passage."""
    built = build_operator("openie", "spacy", cache_dir=tmp_path)
    assert isinstance(built, CachedExtractor) and isinstance(built.inner, SpacyOpenIE)
    built.close()
    assert isinstance(build_operator("openie", "spacy"), SpacyOpenIE)


def test_missing_spacy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without spaCy, the first use says to install memrag[nlp] (no spaCy needed to test)."""
    monkeypatch.setitem(sys.modules, "spacy", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'memrag\[nlp\]'"):
        SpacyOpenIE().extract([Passage.from_text("Ulm is a city.", title="Ulm")])


@needs_spacy
def test_missing_model_names_the_extra() -> None:
    """spaCy without the model is the same one-line message."""
    with pytest.raises(MissingExtraError, match=r"memrag\[nlp\]"):
        load_model("en_core_web_sm_no_such_model")
