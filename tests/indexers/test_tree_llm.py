"""LLM-backed tree operators end to end, against a real OpenAI-compatible server on loopback."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from indexers.tree import TreeIndex, TreeSettings
from rag.embed.base import Embedder
from rag.operators.summarize import LLMSummarizer
from rag.query import Query
from rag.types import Passage, TreeReason

OPTION = re.compile(r"\[(\d+)\] (.*?)(?=\n\n\[\d+\]|\n\nFirst reason|\Z)", re.DOTALL)


def _prompt(messages: list[dict[str, Any]]) -> str:
    return str(messages[-1]["content"])


def summarize_first_words(messages: list[dict[str, Any]]) -> str:
    """A scripted summarizer: 'Summary:' and the first sentence of the first text."""
    first = OPTION.search(_prompt(messages))
    assert first is not None
    return "Summary: " + first.group(2).split(". ")[0].strip()


def navigate_to(word: str, answer: str) -> Any:
    """A scripted navigator: open the option mentioning `word`; at a leaf, answer if it does."""

    def reply(messages: list[dict[str, Any]]) -> str:
        prompt = _prompt(messages)
        if "Segment:" in prompt:
            segment = prompt.split("Segment:", 1)[1]
            return f"It is here.\nAnswer: {answer}" if word in segment else "No.\nAction: back"
        for number, text in OPTION.findall(prompt.split("Options:", 1)[1]):
            if word in text:
                return f"Option {number} mentions it.\n**Action: {number}**"
        return "None of these.\nAction: back"

    return reply


def test_llm_summaries_are_made_in_batches_with_provenance(
    embedder: Embedder, passages: list[Passage], make_stub: Any
) -> None:
    server, llm = make_stub(summarize_first_words)
    summarizer = LLMSummarizer(llm, max_tokens=60)
    index = TreeIndex(embedder, TreeSettings(builder="memwalker", memwalker_fanout=3), summarizer)
    index.add(passages)
    summaries = list(index.tree.summary_nodes())
    assert len(summaries) == 4  # 8 passages in groups of 3, then one root over 3
    assert index.last_update["llm_calls"] == server.request_count == 4
    for node in summaries:
        assert node.provenance["summarizer"] == "llm"
        assert node.provenance["model"] == "stub-model"
        assert node.provenance["prompt_version"].startswith("summary/")
        assert not node.text.startswith("Summary:")
        first_child = index.tree.nodes[node.children[0]].text
        assert first_child.split(". ")[0].startswith(node.text.rstrip("."))
    shown = [b["messages"][-1]["content"] for b in server.bodies]
    assert sum("[3] " in prompt for prompt in shown) == 3  # two groups of 3 and the root


def test_llm_navigator_walks_to_the_answer_with_working_memory(
    embedder: Embedder, passages: list[Passage], make_stub: Any
) -> None:
    index = TreeIndex(embedder, TreeSettings(builder="memwalker", memwalker_fanout=3))
    index.add(passages)
    server, llm = make_stub(navigate_to("radium", "1911"))
    query = Query("When did Marie Curie win the chemistry prize?", embedder=embedder, llm=llm)
    result = index.search_with_details(query, 4, {"mode": "navigate", "navigator": "llm"})
    top = result.hits[0]
    assert top.passage_id == passages[1].id
    assert isinstance(top.reason, TreeReason) and top.reason.navigator == "llm"
    assert top.reason.path[0] in index.tree.roots()
    assert result.details["answer"] == "1911"
    assert len(result.hits) == 4
    assert {h.reason.navigator for h in result.hits[1:] if isinstance(h.reason, TreeReason)} == {
        "embedding"
    }
    leaf_prompt = next(b["messages"][-1]["content"] for b in server.bodies if "Segment:" in str(b))
    memory = leaf_prompt.split("Working memory", 1)[1].split("Segment:", 1)[0]
    assert "radium" in memory  # the summaries on the path are in the working memory
    assert [s["action"] for s in result.details["walk"]][-1] == "answer"


def test_llm_navigation_stops_after_three_invalid_replies(
    embedder: Embedder, passages: list[Passage], make_stub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    index = TreeIndex(embedder, TreeSettings(builder="memwalker", memwalker_fanout=3))
    index.add(passages)
    _server, llm = make_stub(lambda messages: "I would rather talk about the weather.")
    query = Query("Where is the Eiffel Tower?", embedder=embedder, llm=llm)
    with caplog.at_level(logging.WARNING):
        result = index.search_with_details(query, 3, {"mode": "navigate", "navigator": "llm"})
    assert len(result.details["walk"]) == 3  # the same prompt again is answered by the cache
    assert result.details["invalid_replies"] == 3 and result.details["answer"] is None
    assert result.hits[0].passage_id == passages[0].id  # the embedding walk fills the ranking
    assert "invalid" in caplog.text
