"""HippoRAGOpenIECache on small files written here, and on the real MuSiQue cache if present."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from rag.errors import InputError
from rag.operators.openie import HippoRAGOpenIECache, PatternOpenIE
from rag.types import Passage
from tests.conftest import SHARED_DATA

MUSIQUE = SHARED_DATA / "musique-100"

DOCS: list[dict[str, Any]] = [
    {
        "title": "Ulm",
        "text": "Ulm is a city on the Danube.",
        "passage": "Ulm\nUlm is a city on the Danube.",
        "extracted_entities": ["Ulm", "Danube", 1879],
        "extracted_triples": [
            ["Ulm", "is a city on", "Danube"],
            ["Ulm", "is a city"],
            ["Ulm", "", "Danube"],
            ["Ulm", "lies in", "Baden-Württemberg", "Germany"],
        ],
    },
    {
        "title": "Hubble",
        "text": "Hubble was launched in 1990.",
        "passage": "Hubble\nHubble was launched in 1990.",
        "extracted_entities": ["Hubble", "1990"],
        "extracted_triples": [["Hubble", "launched in", 1990]],
    },
]


def _write(path: Path, docs: list[dict[str, Any]]) -> Path:
    """A HippoRAG-shaped file, with the NaN literals the real one has."""
    body = json.dumps({"docs": docs})
    path.write_text(f'{{"docs": {body[9:-1]}, "avg_ent_chars": NaN, "current_cost": 0.0}}')
    return path


def test_match_by_id_text_and_passage_field(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Exact (title, text), text under another title, and "title\\ntext" all match."""
    cache = HippoRAGOpenIECache(_write(tmp_path / "openie-test.json", DOCS))
    assert cache.name == "cache:openie-test.json"
    exact = Passage.from_text("Ulm is a city on the Danube.", title="Ulm")
    chunk = Passage.from_text("Hubble was launched in 1990.", title="Hubble (part 1)")
    joined = Passage.from_text("Hubble\nHubble was launched in 1990.")
    with caplog.at_level(logging.WARNING):
        found = cache.extract([exact, chunk, joined])
    assert [f.passage_id for f in found] == [exact.id, chunk.id, joined.id]
    assert found[0].entities == ["Ulm", "Danube", "1879"]
    assert found[0].triples == [("Ulm", "is a city on", "Danube")]
    assert found[1].triples == found[2].triples == [("Hubble", "launched in", "1990")]
    assert {f.extractor for f in found} == {"cache:openie-test.json"}
    assert "dropped 3 malformed triple(s) in 1 of 2 docs" in caplog.text


def test_unmatched_passages_go_to_the_fallback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A passage the file lacks is extracted by the fallback, in place, with a logged count."""
    cache = HippoRAGOpenIECache(_write(tmp_path / "o.json", DOCS), fallback=PatternOpenIE())
    known = Passage.from_text("Ulm is a city on the Danube.", title="Ulm")
    new = Passage.from_text("He was born in Warsaw in 1867.", title="Marie Curie")
    with caplog.at_level(logging.WARNING):
        found = cache.extract([new, known])
    assert [f.extractor for f in found] == ["pattern", "cache:o.json"]
    assert ("Marie Curie", "was born in", "Warsaw") in found[0].triples
    assert "1 of 2 passages not in the cache" in caplog.text
    assert cache.query_entities("Where is Ulm?") == ["Ulm"]


def test_unmatched_without_fallback_is_an_input_error(tmp_path: Path) -> None:
    """No fallback: the error names the file and the passage."""
    path = _write(tmp_path / "o.json", DOCS)
    cache = HippoRAGOpenIECache(path)
    with pytest.raises(InputError, match=r"o\.json.*1 of 1 passages.*'Nowhere'"):
        cache.extract([Passage.from_text("Not cached.", title="Nowhere")])
    with pytest.raises(InputError, match="fallback"):
        cache.query_entities("Where is Ulm?")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "not found"),
        ("{not json", "not valid JSON"),
        ('{"documents": []}', '"docs" list'),
        ('[{"title": "a"}]', '"docs" list'),
        ('{"docs": [{"title": "a"}]}', r'docs\[0\] is not an object with a "text"'),
    ],
)
def test_bad_files_are_input_errors(tmp_path: Path, content: str | None, problem: str) -> None:
    """Missing, unreadable or wrong-shaped files fail on first use, naming the file."""
    path = tmp_path / "openie-bad.json"
    if content is not None:
        path.write_text(content)
    cache = HippoRAGOpenIECache(path)  # Construction reads nothing.
    with pytest.raises(InputError, match=problem) as info:
        cache.extract([Passage.from_text("x")])
    assert str(path) in str(info.value)


@pytest.mark.skipif(
    not (MUSIQUE / "openie-gpt-3.5-turbo.json").exists(), reason="no ../shared data"
)
def test_real_musique_cache_covers_the_corpus() -> None:
    """Every one of the 1,890 corpus passages is found in HippoRAG's own OpenIE file."""
    corpus = json.loads((MUSIQUE / "corpus.json").read_text())
    passages = [Passage.from_text(d["text"], title=d["title"]) for d in corpus]
    cache = HippoRAGOpenIECache(MUSIQUE / "openie-gpt-3.5-turbo.json")
    found = cache.extract(passages)  # No fallback: a single miss would raise.
    assert len(found) == len(passages) == 1890
    assert all(f.entities for f in found)
    assert sum(len(f.triples) for f in found) > 15_000
    assert all(len(t) == 3 and all(t) for f in found for t in f.triples)
