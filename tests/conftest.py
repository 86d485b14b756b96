"""Shared fixtures: the real bundled embedder (loaded once) and small real passages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from rag.embed import make_embedder
from rag.embed.base import Embedder
from rag.settings import EmbedderSettings, Settings
from rag.types import Passage
from tests.stub_llm import make_stub  # noqa: F401  (a fixture for every test package)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLE = Path(__file__).resolve().parents[1] / "rag" / "data" / "sample"

FACTS = [
    ("Eiffel Tower", "The Eiffel Tower in Paris was completed in 1889 for the World's Fair."),
    ("Marie Curie", "Marie Curie won the Nobel Prize in Chemistry in 1911 for discovering radium."),
    ("Python", "Guido van Rossum released the first version of Python in 1991."),
    ("Great Barrier Reef", "The Great Barrier Reef lies off the coast of Queensland, Australia."),
    ("Hubble", "The Hubble Space Telescope was launched aboard Space Shuttle Discovery in 1990."),
    ("Ada Lovelace", "Ada Lovelace wrote an algorithm for Babbage's Analytical Engine in 1843."),
    ("Mount Everest", "Mount Everest, on the border of Nepal and China, is 8,849 metres high."),
    ("Amazon River", "The Amazon River carries more water than any other river on Earth."),
]


# Tests pin the precision that runs the same on every CPU kind (bf16, or fp32 where the CPU has
# no bf16), so that exact rankings and answers hold everywhere; the int8 variant has its own
# tests (tests/rag/test_embed_int8.py), and subprocesses inherit this through the environment.
os.environ.setdefault("RAG_EMBEDDER__PRECISION", "bf16")


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache dir for the session, so the model is exported for OpenVINO once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def embedder(session_cache: Path) -> Embedder:
    """The bundled all-MiniLM-L6-v2 with the default backend."""
    return make_embedder(EmbedderSettings(precision="bf16"), session_cache)


@pytest.fixture
def settings(session_cache: Path) -> Settings:
    """Default settings with the session's caches and no progress bars."""
    return Settings(cache_dir=session_cache, show_progress=False)


@pytest.fixture
def passages() -> list[Passage]:
    """Eight one-sentence passages on distinct topics."""
    return [Passage.from_text(text, title=title, source="facts") for title, text in FACTS]


@pytest.fixture
def env(session_cache: Path) -> dict[str, str]:
    """Environment for CLI runs: the session cache and no progress bars."""
    return {"RAG_CACHE_DIR": str(session_cache), "RAG_SHOW_PROGRESS": "false"}


#: Questions over FACTS: (id, question, answer, index of the one gold passage in FACTS).
TINY_QUESTIONS = [
    ("q1", "When was the Eiffel Tower completed?", "1889", 0),
    ("q2", "Who released the first version of Python?", "Guido van Rossum", 2),
    ("q3", "Which river carries the most water?", "Amazon River", 7),
]


def write_tiny_dataset(folder: Path) -> Path:
    """Write a HippoRAG-layout folder with MuSiQue-style questions over the FACTS corpus."""
    folder.mkdir()
    corpus = [{"title": t, "text": x} for t, x in FACTS]
    (folder / "corpus.json").write_text(json.dumps(corpus))
    questions = [
        {
            "id": qid,
            "question": q,
            "answer": a,
            "answer_aliases": [],
            "paragraphs": [
                {"title": t, "paragraph_text": x, "is_supporting": i == gold}
                for i, (t, x) in enumerate(FACTS)
            ],
        }
        for qid, q, a, gold in TINY_QUESTIONS
    ]
    (folder / "questions.json").write_text(json.dumps(questions))
    return folder


SLOW_LIST = Path(__file__).with_name("slow_tests.txt")


def _slow_entries() -> list[str]:
    """The lines of tests/slow_tests.txt that name tests (comments and blanks left out)."""
    lines = SLOW_LIST.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests listed in slow_tests.txt `slow`; a listed test that no longer exists in
    a collected file fails the run, so the fast lane's list cannot rot unnoticed."""
    entries = _slow_entries()
    used: set[str] = set()
    for item in items:
        node = item.nodeid.split("[", 1)[0]
        for entry in entries:
            if node == entry or (entry.endswith(("/", ".py")) and node.startswith(entry)):
                item.add_marker(pytest.mark.slow)
                used.add(entry)
    collected = {item.nodeid.split("::", 1)[0] for item in items}
    stale = [e for e in entries if e not in used and e.split("::", 1)[0] in collected]
    if stale:
        raise pytest.UsageError(f"{SLOW_LIST.name} names tests that do not exist: {stale}")
