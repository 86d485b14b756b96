"""The recognition-memory fact filter against a real local OpenAI-compatible server."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from indexers.graph import GraphIndex, GraphSearch, retrieve
from rag.embed.base import Embedder
from rag.operators.recognition import recognize_facts
from rag.query import Query
from rag.types import Passage
from tests.indexers.test_graph import BRIDGE, TEXTS, FixedTriples

FACTS = ["Alice Varga was born in Lindholm", "Bob Kent plays chess", "Lindholm is in Veldia"]
Reply = Callable[[list[dict[str, Any]]], str]


def test_keeps_the_facts_the_llm_names(make_stub: Any) -> None:
    _, llm = make_stub(lambda messages: 'Relevant: ```json\n{"relevant": [3, 1, 1]}\n```')
    assert recognize_facts(llm, "Where is Alice's birthplace?", FACTS).tolist() == [0, 2]


def test_out_of_range_numbers_are_dropped_and_logged(
    make_stub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _, llm = make_stub(lambda messages: '{"relevant": [2, 7, "x"]}')
    with caplog.at_level(logging.WARNING):
        assert recognize_facts(llm, "Who plays chess?", FACTS).tolist() == [1]
    assert "out-of-range" in caplog.text


def test_unparseable_reply_keeps_every_fact_with_a_logged_reason(
    make_stub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _, llm = make_stub(lambda messages: "I think the first and the third ones.")
    with caplog.at_level(logging.WARNING):
        assert recognize_facts(llm, "Where?", FACTS).tolist() == [0, 1, 2]
    assert "keeping all facts" in caplog.text


def test_hipporag2_seeds_only_from_recognized_facts(make_stub: Any, embedder: Embedder) -> None:
    def reply(messages: list[dict[str, Any]]) -> str:
        prompt = messages[-1]["content"]
        if "Candidate facts" not in prompt:
            return '{"named_entities": []}'
        listed = [line for line in prompt.splitlines() if line[:2].rstrip(".").isdigit()]
        keep = [i for i, line in enumerate(listed, 1) if "Lindholm is a town in" in line]
        return f'{{"relevant": {keep}}}'

    index = GraphIndex(embedder, extractor=FixedTriples(BRIDGE))
    index.add([Passage.from_text(text, title=title) for title, text in TEXTS.items()])
    query = "Which region is the birthplace of Alice Varga in?"
    config = GraphSearch(recognition="on", query_entity_weight=0.0)
    _, llm = make_stub(reply)
    result = retrieve(index, Query(query, embedder=embedder, llm=llm), 3, config)
    assert [fact for fact, _ in result.facts] == ["Lindholm is a town in Northern Veldia"]
    assert {name for name, _ in result.seeds} == {"Lindholm", "Northern Veldia"}
