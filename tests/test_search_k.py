"""`RagIndex.search(q, k)` returns k hits for every preset, not the preset's own top 5."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from pipelines.pipeline import Pipeline, preset_names
from rag.settings import Settings

SAMPLE = Path(__file__).resolve().parents[1] / "rag" / "data" / "sample"
QUESTION = "Which bridge, canal, library, glacier, desert, lighthouse or press opened first?"

TOPICS = {
    "lighthouse": "The Alexandria lighthouse stood on the island of Pharos and guided ships.",
    "volcano": "Mount Vesuvius erupted in 79 AD and buried the Roman town of Pompeii.",
    "telescope": "Galileo Galilei improved the telescope and observed the moons of Jupiter.",
    "printing": "Johannes Gutenberg built a printing press with movable type in Mainz.",
    "penicillin": "Alexander Fleming noticed in London that mould killed bacteria in 1928.",
    "railway": "George Stephenson's Rocket won the Rainhill trials near Liverpool in 1829.",
    "glacier": "The Aletsch Glacier in the Swiss Alps is the largest glacier in Europe.",
    "desert": "The Atacama Desert in Chile is one of the driest places on Earth.",
    "bridge": "The Golden Gate Bridge in San Francisco opened to traffic in 1937.",
    "canal": "The Panama Canal joins the Atlantic and the Pacific and opened in 1914.",
    "library": "The Library of Alexandria was a centre of scholarship in ancient Egypt.",
    "orchestra": "The Vienna Philharmonic gives a New Year's Concert in the Musikverein.",
}


def corpus(folder: Path) -> Path:
    """The bundled sample plus twelve one-paragraph documents (19 passages in all)."""
    folder.mkdir()
    for source in SAMPLE.iterdir():
        (folder / source.name).write_bytes(source.read_bytes())
    for name, text in TOPICS.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("builder", ["raptor", "memwalker", "memtree"])
def test_search_returns_k_hits_for_every_preset(
    tmp_path: Path, settings: Settings, builder: str
) -> None:
    tree_settings = settings.with_section("tree", builder=builder)
    kinds = ["dense", "bm25", "graph", "tree"]
    with rag.build([corpus(tmp_path / "docs")], tmp_path / "idx", tree_settings, kinds) as idx:
        assert idx.stats()["counts"]["passages"] > 12
        # BM25 ranks only passages holding a query term: fewer than k is all there is.
        lexical = len(idx.search(QUESTION, k=100, pipeline="bm25"))
        assert lexical > 5
        for name in preset_names():
            wanted = Pipeline.load(name).build.get("tree", {}).get("builder", "raptor")
            if wanted != builder:
                continue
            for k in (6, 10):
                hits = idx.search(QUESTION, k=k, pipeline=name)
                expected = min(k, lexical) if name == "bm25" else k
                assert len(hits) == expected, (name, k, len(hits))
                assert len({h.passage_id for h in hits}) == len(hits), name
