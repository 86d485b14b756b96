"""CachedExtractor: misses only reach the inner extractor, and results survive on disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.llm import make_llm
from rag.operators.openie import (
    CachedExtractor,
    Extraction,
    Extractor,
    HippoRAGOpenIECache,
    LLMOpenIE,
    PatternOpenIE,
)
from rag.operators.per_index import build_operator
from rag.settings import LLMSettings
from rag.types import Passage
from tests.conftest import FACTS


class CountingExtractor(Extractor):
    """PatternOpenIE that counts the passages it is given and can fail on a marked one."""

    name = "counting"

    def __init__(self, fail_on: str | None = None) -> None:
        """Count from zero; raise when a passage's text contains fail_on."""
        self.seen: list[str] = []
        self.fail_on = fail_on

    def extract(
        self, passages: Sequence[Passage], *, show_progress: bool = False
    ) -> list[Extraction]:
        """Extract with the pattern rules, counting each passage."""
        if self.fail_on and any(self.fail_on in p.text for p in passages):
            raise RuntimeError("interrupted")
        self.seen.extend(p.id for p in passages)
        return PatternOpenIE().extract(passages)

    def query_entities(self, text: str) -> list[str]:
        """The pattern rules' question entities."""
        return PatternOpenIE().query_entities(text)


def _passages() -> list[Passage]:
    """The shared one-sentence facts."""
    return [Passage.from_text(text, title=title) for title, text in FACTS]


def test_second_call_and_new_instance_hit_the_cache(tmp_path: Path) -> None:
    """Nothing is extracted twice, within an instance or across instances."""
    passages = _passages()
    inner = CountingExtractor()
    with CachedExtractor(inner, tmp_path, batch_size=3) as cached:
        assert cached.name == "counting"
        first = cached.extract(passages[:5])
        assert len(inner.seen) == 5
        assert cached.extract(passages[:5]) == first
        assert len(inner.seen) == 5
        assert cached.query_entities("Where is Paris?") == ["Paris"]
    again = CountingExtractor()
    with CachedExtractor(again, tmp_path) as cached:
        found = cached.extract(list(reversed(passages)))
    assert again.seen == [p.id for p in reversed(passages[5:])]
    assert found[-5:] == list(reversed(first))
    assert found == PatternOpenIE().extract(list(reversed(passages)))
    assert (tmp_path / "openie").is_dir()


def test_interrupted_run_resumes(tmp_path: Path) -> None:
    """Batches written before a failure are not extracted again."""
    passages = [*_passages()[:4], Passage.from_text("boom"), *_passages()[4:]]
    failing = CachedExtractor(CountingExtractor(fail_on="boom"), tmp_path, batch_size=2)
    with failing, pytest.raises(RuntimeError, match="interrupted"):
        failing.extract(passages)
    healthy = CountingExtractor()
    with CachedExtractor(healthy, tmp_path, batch_size=2) as cached:
        found = cached.extract(passages)
    assert healthy.seen == [p.id for p in passages[4:]]
    assert [f.passage_id for f in found] == [p.id for p in passages]


def test_extractor_by_spec(tmp_path: Path) -> None:
    """Specs map to extractors; a cache dir wraps the LLM only; bad specs are errors."""
    assert isinstance(build_operator("openie", "offline"), PatternOpenIE)
    assert isinstance(build_operator("openie", "auto"), PatternOpenIE)
    assert isinstance(build_operator("openie", " pattern "), PatternOpenIE)
    # The rules are fast and change with the code: caching them would serve stale triples.
    assert isinstance(build_operator("openie", "pattern", cache_dir=tmp_path), PatternOpenIE)
    from_file = build_operator("openie", "cache:/data/openie-x.json", cache_dir=tmp_path)
    assert isinstance(from_file, HippoRAGOpenIECache)
    assert from_file.path == Path("/data/openie-x.json")
    assert isinstance(from_file.fallback, PatternOpenIE)
    with pytest.raises(ConfigError, match="needs an LLM"):
        build_operator("openie", "llm")
    for bad in ("nosuch", "cache:", "", "pattern:x"):
        with pytest.raises(ConfigError, match=r"unknown openie .*known: auto, llm, offline"):
            build_operator("openie", bad)
    settings = LLMSettings(
        provider="openai",
        model="m",
        base_url="http://127.0.0.1:9/v1",
        api_key_env="MEMRAG_TEST_NO_SUCH_KEY",
        max_concurrency=3,
    )
    llm = make_llm(settings, tmp_path / "llm")
    assert llm is not None
    with llm:
        cached = build_operator("openie", "llm", llm=llm, cache_dir=tmp_path)
        assert isinstance(cached, CachedExtractor) and isinstance(cached.inner, LLMOpenIE)
        assert cached.name == "llm:m" and cached.inner.max_workers == 3
        # Entries are keyed by prompts and decoding parameters too, so edits never serve stale.
        assert cached.key.startswith("llm:m|") and cached.key == cached.inner.cache_key
        cached.close()
    hotter = make_llm(settings.model_copy(update={"temperature": 0.7}), tmp_path / "llm2")
    assert hotter is not None
    with hotter:
        assert LLMOpenIE(hotter).cache_key != cached.key
