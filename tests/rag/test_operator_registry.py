"""The operator registry: one vocabulary per role, aliases, errors, and one build per index."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from indexers.context import BuildContext
from indexers.graph.config import GraphSearch, GraphSettings
from indexers.tree.config import TreeSearch, TreeSettings
from pipelines.steps.clues import DraftCluesStep
from pipelines.steps.generate import GenerateStep
from pipelines.steps.iterate import IterateStep
from rag.embed.base import Embedder
from rag.errors import ConfigError
from rag.operators import registry
from rag.operators.bridge_reasoner import BridgeReasoner
from rag.operators.per_index import IndexOperators, build_operator
from rag.operators.registry import BuildInputs, Resolved, resolve
from rag.settings import Settings
from tests.rag.openai_stub_server import StubOpenAIServer
from tests.stub_llm import stub_llm_settings

#: role -> (its LLM implementation, its offline default, the class each builds).
ROLES = {
    "reader": ("LLMReader", "extractive", "ExtractiveReader"),
    "openie": ("LLMOpenIE", "pattern", "PatternOpenIE"),
    "summarizer": ("LLMSummarizer", "extractive", "ExtractiveSummarizer"),
    "navigator": ("LLMNavigator", "embedding", "EmbeddingNavigator"),
    "reasoner": ("LLMReasoner", "bridge", "BridgeReasoner"),
    "drafter": ("LLMClueDrafter", "feedback", "OfflineClueDrafters"),
    "recognition": ("LLMRecognition", "keep_all", "KeepAllFacts"),
    "reranker": ("LLMRelevanceScorer", "best_sentence", "BestSentenceScorer"),
}


@pytest.fixture
def stub_settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings whose LLM is the project's client against a loopback stub server."""
    with StubOpenAIServer() as server:
        yield Settings(cache_dir=tmp_path, show_progress=False, llm=stub_llm_settings(server))


def test_every_role_is_registered_with_its_offline_default() -> None:
    assert [r.name for r in registry.roles()] == list(ROLES)
    for role in registry.roles():
        assert role.offline == ROLES[role.name][1]
        assert {"llm", role.offline} <= set(role.implementations)
        assert role.implementations["llm"].needs_llm
        assert not role.implementations[role.offline].needs_llm


@pytest.mark.parametrize("role", list(ROLES))
def test_vocabulary_without_an_llm(role: str) -> None:
    offline = ROLES[role][1]
    assert resolve(role, "auto", llm_available=False).name == offline
    assert resolve(role, "auto", llm_available=False).word == "offline"
    assert resolve(role, "offline", llm_available=False).name == offline
    assert resolve(role, f" {offline} ", llm_available=False).name == offline
    with pytest.raises(ConfigError, match=rf"^{role} 'llm' needs an LLM: set llm\.provider"):
        resolve(role, "llm", llm_available=False)
    # Recorded, not built: a saved index may name an LLM operator that this run lacks.
    assert resolve(role, "llm", llm_available=False, require_llm=False).name == "llm"


@pytest.mark.parametrize("role", list(ROLES))
def test_vocabulary_with_an_llm(role: str) -> None:
    offline = ROLES[role][1]
    assert resolve(role, "auto", llm_available=True).name == "llm"
    assert resolve(role, "auto", llm_available=True).word == "llm"
    assert resolve(role, "llm", llm_available=True).name == "llm"
    assert resolve(role, "offline", llm_available=True).name == offline
    assert resolve(role, offline, llm_available=True).name == offline


@pytest.mark.parametrize("role", list(ROLES))
def test_an_unknown_name_is_a_config_error_naming_the_known_ones(role: str) -> None:
    known = registry.role(role).known()
    with pytest.raises(ConfigError) as caught:
        resolve(role, "spacy-large", llm_available=True)
    message = str(caught.value)
    assert message.startswith(f"unknown {role} 'spacy-large'; known: auto, llm, offline")
    assert all(word in message for word in known) and ROLES[role][1] in message


def test_unknown_roles_and_malformed_arguments_are_errors() -> None:
    with pytest.raises(ConfigError, match="unknown operator role 'rerank'; roles: drafter"):
        resolve("rerank", "auto", llm_available=False)
    for bad in ("cache:", "cache", "pattern:x", "off", ""):
        with pytest.raises(ConfigError, match="unknown openie"):
            resolve("openie", bad, llm_available=False)
    found = resolve("openie", "cache:~/openie.json", llm_available=True)
    assert (found.name, found.argument, found.label) == ("cache", "~/openie.json", found.word)


def test_old_words_resolve_with_one_deprecation_note(caplog: pytest.LogCaptureFixture) -> None:
    registry._noted.clear()
    with caplog.at_level(logging.WARNING, logger="rag.operators.registry"):
        assert resolve("recognition", "off", llm_available=True).name == "keep_all"
        assert resolve("recognition", "off", llm_available=True).name == "keep_all"
        assert resolve("recognition", "on", llm_available=True).name == "llm"
    notes = [r.getMessage() for r in caplog.records]
    assert notes == [
        "recognition 'off' is deprecated; it means 'keep_all'",
        "recognition 'on' is deprecated; it means 'llm'",
    ]
    caplog.clear()
    # The implementations' own names (the old 'extractive', 'embedding') are not deprecated.
    with caplog.at_level(logging.WARNING, logger="rag.operators.registry"):
        assert resolve("reader", "extractive", llm_available=True).name == "extractive"
        assert resolve("navigator", "embedding", llm_available=True).name == "embedding"
        assert resolve("openie", "pattern", llm_available=True).name == "pattern"
    assert not caplog.records
    with pytest.raises(ConfigError, match="recognition 'on' needs an LLM"):
        resolve("recognition", "on", llm_available=False)


def test_settings_and_steps_accept_the_vocabulary_and_old_words() -> None:
    for word in ("auto", "llm", "offline", "extractive"):
        assert TreeSettings(summarizer=word).summarizer == word
        assert GenerateStep(reader=word).reader == word
    for word in ("auto", "llm", "offline", "embedding"):
        assert TreeSearch(navigator=word).navigator == word
    for word in ("auto", "offline", "pattern", "llm", "cache:/data/x.json"):
        assert GraphSettings(extractor=word).extractor == word
    for word in ("auto", "on", "off", "llm", "offline", "keep_all"):
        assert GraphSearch(recognition=word).recognition == word
    assert IterateStep(reasoner="bridge").reasoner == "bridge"
    assert DraftCluesStep(drafter="feedback").drafter == "feedback"
    with pytest.raises(ValidationError, match="unknown summarizer 'abstractive'; known: auto"):
        TreeSettings(summarizer="abstractive")
    with pytest.raises(ValidationError, match="unknown reader 'bert'"):
        GenerateStep(reader="bert")
    with pytest.raises(ValidationError, match="unknown openie 'nosuch'"):
        GraphSettings(extractor="nosuch")
    assert GraphSettings(extractor="spacy").extractor == "spacy"
    assert "offline (= extractive)" in (GenerateStep.model_fields["reader"].description or "")


@pytest.mark.parametrize("role", list(ROLES))
def test_each_word_builds_its_class_with_and_without_an_llm(
    role: str, embedder: Embedder, stub_settings: Settings
) -> None:
    llm_class, offline, offline_class = ROLES[role]
    with BuildContext(embedder, stub_settings) as context:
        llm = context.llm
        assert llm is not None
        assert type(build_operator(role, "auto", llm=llm, embedder=embedder)).__name__ == llm_class
        assert type(build_operator(role, "llm", llm=llm, embedder=embedder)).__name__ == llm_class
        for word in ("offline", offline):
            made = build_operator(role, word, llm=llm, embedder=embedder)
            assert type(made).__name__ == offline_class
    made = build_operator(role, "auto", embedder=embedder)
    assert type(made).__name__ == offline_class


def test_an_operator_is_built_and_warmed_once_per_opened_index(
    embedder: Embedder, stub_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[BuildInputs] = []
    warmed: list[str] = []

    class Counted:
        """An operator that counts its warm-ups."""

        def warm_up(self) -> None:
            warmed.append("reader")

    def counted(inputs: BuildInputs) -> Counted:
        built.append(inputs)
        return Counted()

    entry = registry.role("reader").implementations["extractive"]
    monkeypatch.setitem(
        registry.role("reader").implementations,
        "extractive",
        registry.Implementation("reader", "extractive", counted, entry.summary, options=("k",)),
    )
    offline = Settings(cache_dir=stub_settings.cache_dir, show_progress=False)
    with BuildContext(embedder, offline) as context:
        first = context.operators.get("reader", "auto", k=5, unused="dropped")
        for spec in ("auto", "offline", "extractive"):
            assert context.operators.get("reader", spec, k=5) is first
        assert context.operator("reader", "offline", k=5) is first
        assert context.operators.builds == {("reader", "extractive"): 1}
        assert warmed == ["reader"] and built[0].options == {"k": 5}
        assert built[0].embedder is embedder and built[0].llm is None
        # Another option value is another operator; another opened index builds its own.
        assert context.operators.get("reader", "auto", k=6) is not first
        assert context.operators.builds == {("reader", "extractive"): 2}
    with BuildContext(embedder, offline) as reopened:
        assert reopened.operators.get("reader", "auto", k=5) is not first
        assert reopened.operators.builds == {("reader", "extractive"): 1}
    assert len(built) == len(warmed) == 3


def test_llm_operators_are_built_once_and_the_llm_made_only_when_needed(
    embedder: Embedder, stub_settings: Settings
) -> None:
    with BuildContext(embedder, stub_settings) as context:
        offline = context.operator("summarizer", "offline", max_tokens=50)
        assert offline.name == "extractive" and not context._llm_made
        summarizer = context.operator("summarizer", "auto", max_tokens=50)
        assert summarizer.name == "llm" and context._llm_made
        assert context.operator("summarizer", "llm", max_tokens=50) is summarizer
        assert context.operators.get("summarizer", "auto", llm=context.llm, max_tokens=50) is (
            summarizer
        )
        assert context.operators.builds == {
            ("summarizer", "extractive"): 1,
            ("summarizer", "llm"): 1,
        }


def test_a_reasoner_built_once_keeps_no_state_between_questions(embedder: Embedder) -> None:
    operators = IndexOperators(embedder)
    shared = operators.get("reasoner", "offline", max_passages=3)
    assert isinstance(shared, BridgeReasoner) and shared.max_passages == 3
    one, two = shared.for_question("Who?"), shared.for_question("Where?")
    assert one is not shared and one is not two and one.reader is shared.reader
    one._looked_up["thought"] = ("name", "sentence")
    assert two._looked_up == {} and shared._looked_up == {}


def test_a_new_implementation_is_one_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    role = registry.role("openie")
    monkeypatch.setattr(role, "implementations", dict(role.implementations))

    @registry.register("openie", "spacy", "a spaCy pipeline", options=("model",))
    def _spacy(inputs: BuildInputs) -> Any:
        return ("spacy", dict(inputs.options))

    assert build_operator("openie", "spacy", model="en_core_web_sm", k=1) == (
        "spacy",
        {"model": "en_core_web_sm"},
    )
    assert GraphSettings(extractor="spacy").extractor == "spacy"
    found = resolve("openie", "spacy", llm_available=True)
    assert isinstance(found, Resolved) and found.word == "spacy"
    with pytest.raises(ValueError, match="resolver word"):
        registry.register("openie", "auto", "not a name")
