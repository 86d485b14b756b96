"""The Python face: `import rag` is light, and build / load / ask / search work end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rag
from rag.settings import Settings

SAMPLE = Path(__file__).resolve().parents[1] / "rag" / "data" / "sample"


def test_import_rag_loads_no_torch_and_configures_no_logging() -> None:
    code = (
        "import logging, sys; import rag; import rag.ingest.readers; "
        "assert 'torch' not in sys.modules, 'torch imported'; "
        "assert not logging.getLogger().handlers, logging.getLogger().handlers; "
        "assert callable(rag.build) and callable(rag.load)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_build_load_ask_and_search(tmp_path: Path, settings: Settings) -> None:
    built = rag.build([SAMPLE], out=tmp_path / "idx", settings=settings)
    assert built.build_report is not None and built.build_report.sources_read == 6
    built.close()

    idx = rag.load(str(tmp_path / "idx"), settings=settings)
    answer = idx.ask("In which city was Ada Lovelace born?", pipeline="dense")
    assert isinstance(answer, rag.Answer)
    assert answer.text == "London"
    cited = idx.passage(answer.citations[0].passage_id)
    assert cited is not None and answer.citations[0].quote in cited.text
    assert [e.step for e in answer.trace] == ["retrieve:dense", "generate"]
    assert all(e.seconds >= 0 for e in answer.trace)
    # The offline reader answers with the type asked for, citing the file by its title (a
    # Markdown file by its first heading, a text file by its name).
    for question, expected, title in [
        ("When did Marie Curie die?", "1934", "marie curie"),
        ("Where did Marie Curie die?", "Passy", "marie curie"),
        ("Where was Marie Curie born?", "Warsaw", "marie curie"),
        ("Who was Ada Lovelace's father?", "Lord Byron", "Ada Lovelace"),
        ("Which rocket launched the James Webb Space Telescope?", "Ariane 5", None),
    ]:
        answer = idx.ask(question, pipeline="dense")
        assert answer.text == expected, question
        assert title is None or answer.citations[0].title == title

    hits = idx.search("coral reef Queensland", k=3, pipeline="hybrid")
    assert len(hits) == 3 and hits[0].retriever == "rrf"
    top = idx.passage(hits[0].passage_id)
    assert top is not None and "Queensland" in top.text
    assert idx.stats()["counts"]["sources"] == 6
    idx.close()


def test_opening_loads_no_model_until_a_query_needs_one(tmp_path: Path, settings: Settings) -> None:
    rag.build([SAMPLE], out=tmp_path / "idx", settings=settings).close()
    with rag.load(str(tmp_path / "idx"), settings=settings) as idx:
        embedder = idx.resources.embedder
        assert not embedder.loaded  # type: ignore[attr-defined]
        assert idx.search("coral reef Queensland", k=1, pipeline="bm25")
        assert not embedder.loaded  # type: ignore[attr-defined]
        idx.warm_up()
        assert embedder.loaded  # type: ignore[attr-defined]
        assert idx.search("coral reef Queensland", k=1, pipeline="dense")


def test_blank_questions_and_k_below_one_are_errors(tmp_path: Path, settings: Settings) -> None:
    import pytest

    from rag.errors import InputError

    with rag.build([SAMPLE], out=tmp_path / "idx", settings=settings) as idx:
        for question in ("", "   \n"):
            with pytest.raises(InputError, match="question is empty"):
                idx.ask(question)
        for k in (0, -1):
            with pytest.raises(InputError, match="k must be at least 1"):
                idx.search("coral reef", k=k, pipeline="bm25")
