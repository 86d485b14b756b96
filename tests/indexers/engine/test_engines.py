"""Engine choice without Ray: the in-process path never imports Ray; asking for Ray without it
installed names the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from indexers.engine import LocalEngine, make_engine
from indexers.engine.stages import StageError, failed, files_of, parse_source
from rag.embed.base import Embedder
from rag.embed.cache import CachedEmbedder, text_key
from rag.errors import MissingExtraError
from rag.ingest import discover_sources
from rag.settings import Settings
from tests.conftest import FACTS, SAMPLE


def test_an_in_process_build_never_imports_ray(tmp_path: Path, session_cache: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from indexers.builder import build_index
        from rag.settings import Settings
        settings = Settings(cache_dir={str(session_cache)!r}, show_progress=False)
        build_index([{str(SAMPLE / "eiffel_tower.md")!r}], {str(tmp_path / "idx")!r}, settings,
                    ["bm25"])
        assert "ray" not in sys.modules, "the in-process build imported ray"
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_ray_engine_without_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # an import of ray now fails as if absent
    engine = make_engine(Settings(engine={"name": "ray"}))
    with pytest.raises(MissingExtraError, match=r"pip install 'memrag\[ray\]'"):
        list(engine.parse(discover_sources([SAMPLE / "eiffel_tower.md"], {})))


def test_the_default_engine_is_in_process() -> None:
    assert isinstance(make_engine(Settings()), LocalEngine)


def test_parse_source_reports_an_unreadable_file_instead_of_raising(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    [src] = discover_sources([bad], {})
    parsed = parse_source(src, Settings().chunking)
    assert parsed.passages == [] and parsed.problem and "bad.json" in parsed.problem


def test_a_failed_batch_names_its_first_files() -> None:
    files = ["/d/a.txt", "/d/b.txt", "/d/a.txt", "/d/c.txt", "/d/e.txt"]
    error = failed("embed", files, OSError("x"))
    assert isinstance(error, StageError)
    assert str(error).startswith("/d/a.txt, /d/b.txt, /d/c.txt (and 1 more files): the embed")
    assert files_of([]) == "(no file)"


class _Recording(Embedder):
    """The real embedder, recording the texts of each model call."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim, self.calls = inner, inner.name, inner.dim, []

    @property
    def cache_key(self) -> str:
        return self.inner.cache_key

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def test_planned_steps_are_the_model_calls_embed_makes(embedder: Embedder, tmp_path: Path) -> None:
    """What the Ray engine sends to its actors is what the writer would have embedded itself."""
    texts = [text for _, text in FACTS] * 2 + ["short", "a slightly longer text"]
    here = CachedEmbedder(_Recording(embedder), tmp_path / "a", chunk_size=3)
    planned = CachedEmbedder(_Recording(embedder), tmp_path / "b", chunk_size=3)
    steps = planned.missing_steps(texts, planned={text_key(embedder.cache_key, "short")})
    expected = here.embed(texts)
    assert isinstance(here.inner, _Recording)
    assert [[t for _, t in step] for step in steps] == [
        call for call in here.inner.calls if call != ["short"]
    ]
    for step in steps:
        keys = [k for k, _ in step]
        planned.put(keys, here.embed([t for _, t in step]))
    planned.put([text_key(embedder.cache_key, "short")], here.embed(["short"]))
    assert np.array_equal(planned.embed(texts), expected)
    assert planned.missing_steps(texts) == [] and planned.inner.calls == []  # type: ignore[attr-defined]
