"""The summarizers: extractive by sentence centrality, and an LLM's over a real loopback server."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from rag.errors import ConfigError, LLMError
from rag.operators.per_index import build_operator
from rag.operators.summarize import (
    EMPTY_REPLY,
    PROMPT_VERSION,
    ExtractiveSummarizer,
    LLMSummarizer,
)
from rag.tokens import count_tokens
from tests.conftest import FACTS

CENTRAL = (
    "The Eiffel Tower in Paris was built by Gustave Eiffel's company for the 1889 World's Fair."
)
TOWER = [
    CENTRAL,
    "The Eiffel Tower is made of wrought iron and stands in Paris.",
    "Visitors to the 1889 World's Fair climbed the new tower.",
    "Bananas are rich in potassium and grow in tropical climates.",
]
FACT_TEXTS = [text for _, text in FACTS]


def _user_prompt(body: dict[str, Any]) -> str:
    """The user message of one chat-completions request."""
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


# --- extractive -------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [20, 40, 60, 100])
def test_budget_is_respected(budget: int) -> None:
    """The summary never has more cl100k tokens than the budget."""
    summary = ExtractiveSummarizer(max_tokens=budget).summarize_one(FACT_TEXTS + TOWER)
    assert 0 < count_tokens(summary) <= budget


def test_central_sentence_beats_the_outlier() -> None:
    """With room for one sentence, the one most like the others wins; the outlier does not."""
    summary = ExtractiveSummarizer(max_tokens=count_tokens(CENTRAL)).summarize_one(TOWER)
    assert summary == CENTRAL


def test_near_duplicate_is_dropped() -> None:
    """A sentence that only repeats a chosen one is left out even when the budget has room."""
    duplicate = CENTRAL.replace("for the 1889", "for the year 1889")
    group = [CENTRAL, "It is made of wrought iron.", duplicate, "Bananas grow in the tropics."]
    summary = ExtractiveSummarizer(max_tokens=200).summarize_one(group)
    assert (CENTRAL in summary) != (duplicate in summary)
    assert "wrought iron" in summary and "Bananas" in summary


def test_sentences_keep_their_original_order() -> None:
    """Chosen sentences come out in the order of the children, not by rank."""
    summary = ExtractiveSummarizer(max_tokens=60).summarize_one(list(reversed(FACT_TEXTS)))
    positions = [summary.find(text) for text in reversed(FACT_TEXTS) if text in summary]
    assert len(positions) >= 2 and positions == sorted(positions)


def test_deterministic() -> None:
    """Two summarizers give the same text for the same group, call after call."""
    group = FACT_TEXTS + TOWER
    first = ExtractiveSummarizer(max_tokens=50).summarize([group, TOWER])
    assert ExtractiveSummarizer(max_tokens=50).summarize([group, TOWER]) == first
    assert [s.text for s in first] != ["", ""]


def test_summaries_say_how_they_were_made() -> None:
    """One Summary per group, in order, marked extractive with no model."""
    summaries = ExtractiveSummarizer(max_tokens=30).summarize([[FACT_TEXTS[0]], [FACT_TEXTS[1]]])
    assert [s.text for s in summaries] == FACT_TEXTS[:2]
    assert all((s.summarizer, s.model, s.fallback) == ("extractive", None, None) for s in summaries)


def test_one_tiny_child_is_its_own_summary() -> None:
    """A single child within budget is returned as it is, title line and all."""
    child = "Eiffel Tower\n\nIt opened in 1889."
    assert ExtractiveSummarizer(max_tokens=20).summarize_one([child]) == child


@pytest.mark.parametrize("group", [[], [""], ["  ", "\n"]])
def test_empty_group_is_an_error(group: list[str]) -> None:
    """A group without any text cannot be summarized, and the error says so."""
    with pytest.raises(ValueError, match="empty group"):
        ExtractiveSummarizer().summarize([group])


def test_long_sentence_is_cut_only_when_nothing_fits() -> None:
    """A too-long sentence is cut on a word boundary when it is all there is, else skipped."""
    long = " ".join(f"word{i}" for i in range(80)) + "."
    cut = ExtractiveSummarizer(max_tokens=10).summarize_one([long, long.upper()])
    assert 0 < count_tokens(cut) <= 10
    assert long.startswith(cut) or long.upper().startswith(cut)
    assert (long + " ").startswith(cut + " ") or (long.upper() + " ").startswith(cut + " ")
    short = "The tower opened in 1889."
    assert ExtractiveSummarizer(max_tokens=10).summarize_one([long, short]) == short


def test_stop_words_only_still_summarize() -> None:
    """Sentences with no content word give an empty TF-IDF vocabulary, not a crash."""
    summary = ExtractiveSummarizer(max_tokens=5).summarize_one(["It is.", "So it was.", "Be it."])
    assert 0 < count_tokens(summary) <= 5


def test_fifty_sentences_are_fast() -> None:
    """A group of 50 sentences is summarized in a few milliseconds (loose bound for slow CI)."""
    sentences = [
        f"{fact.rstrip('.')} according to source {i} of the {topic} archive."
        for i, (topic, fact) in enumerate((t, f) for _ in range(7) for t, f in FACTS)
    ][:50]
    group = [" ".join(sentences[i : i + 10]) for i in range(0, 50, 10)]
    summarizer = ExtractiveSummarizer(max_tokens=100)
    summarizer.summarize_one(group)  # imports scikit-learn and loads the tokenizer
    times = []
    for _ in range(20):
        start = time.perf_counter()
        summarizer.summarize_one(group)
        times.append(time.perf_counter() - start)
    assert sorted(times)[10] < 0.05


def test_summarizer_by_spec(make_stub: Any) -> None:
    """'auto' follows the LLM; 'llm' without one, or an unknown name, is a ConfigError."""
    _, llm = make_stub(lambda messages: "ok")
    assert isinstance(build_operator("summarizer", "extractive", llm=llm), ExtractiveSummarizer)
    assert isinstance(build_operator("summarizer", "auto"), ExtractiveSummarizer)
    assert isinstance(build_operator("summarizer", "offline", llm=llm), ExtractiveSummarizer)
    made = build_operator("summarizer", "auto", llm=llm, max_tokens=42)
    assert isinstance(made, LLMSummarizer) and made.max_tokens == 42
    assert made.fallback.max_tokens == 42
    with pytest.raises(ConfigError, match="needs an LLM"):
        build_operator("summarizer", "llm")
    with pytest.raises(ConfigError, match="unknown summarizer 'abstractive'; known: auto"):
        build_operator("summarizer", "abstractive", llm=llm)


# --- LLM --------------------------------------------------------------------------------------


def test_prompt_holds_the_texts_and_the_budget(make_stub: Any) -> None:
    """The request carries the numbered children and the budget; the reply is kept as is."""
    server, llm = make_stub(lambda messages: "The tower opened in Paris in 1889.")
    [summary] = LLMSummarizer(llm, max_tokens=40).summarize([TOWER[:2]])
    prompt = _user_prompt(server.bodies[0])
    assert f"[1] {TOWER[0]}\n\n[2] {TOWER[1]}" in prompt
    assert "at most about 30 words (40 tokens)" in prompt
    assert "names" in prompt and "numbers" in prompt
    assert summary.text == "The tower opened in Paris in 1889."
    assert (summary.summarizer, summary.model) == ("llm", "stub-model")
    assert (summary.prompt_version, summary.fallback) == (PROMPT_VERSION, None)
    assert llm.metrics.stage("summarize").calls == 1


def test_one_request_per_group_in_order(make_stub: Any) -> None:
    """Each group is its own request; replies come back in group order; repeats go once."""

    def first_child(messages: list[dict[str, Any]]) -> str:
        prompt = messages[-1]["content"]
        return prompt.split("[1] ", 1)[1].split(".", 1)[0] + "."

    server, llm = make_stub(first_child)
    groups = [[FACT_TEXTS[0]], [FACT_TEXTS[1], FACT_TEXTS[2]], [FACT_TEXTS[3]], [FACT_TEXTS[0]]]
    summaries = LLMSummarizer(llm).summarize(groups)
    assert server.request_count == 3
    assert [s.text for s in summaries] == [g[0] for g in groups]
    assert sorted(_user_prompt(b).count("\n[") for b in server.bodies) == [1, 1, 2]


def test_without_batch_complete_each_group_is_completed(make_stub: Any) -> None:
    """A client without batch_complete (the bare backend) gets one complete per group."""
    server, llm = make_stub(lambda messages: "A summary.")
    summaries = LLMSummarizer(llm.backend).summarize([[FACT_TEXTS[0]], [FACT_TEXTS[1]]])
    assert server.request_count == 2
    assert [s.text for s in summaries] == ["A summary.", "A summary."]


@pytest.mark.parametrize(
    "reply",
    [
        '```\nSummary: "The tower opened in 1889."\n```',
        "```text\nThe tower opened in 1889.\n```",
        "**Summary:** The tower opened in 1889.",
        "  summary:\n“The tower opened in 1889.”  ",
    ],
)
def test_fences_labels_and_quotes_are_stripped(make_stub: Any, reply: str) -> None:
    """Decoration around the summary is removed."""
    _, llm = make_stub(lambda messages: reply)
    [summary] = LLMSummarizer(llm).summarize([TOWER])
    assert summary.text == "The tower opened in 1889."


def test_reply_far_over_budget_is_cut_at_a_sentence(
    make_stub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A reply past 1.5 times the budget keeps its leading whole sentences within that."""
    reply = " ".join(FACT_TEXTS)
    _, llm = make_stub(lambda messages: reply)
    with caplog.at_level(logging.INFO, logger="rag.operators.summarize"):
        [summary] = LLMSummarizer(llm, max_tokens=30).summarize([TOWER])
    assert count_tokens(summary.text) <= 45
    assert summary.text == " ".join(FACT_TEXTS[:2])
    assert "cut to 45" in caplog.text


def test_empty_reply_falls_back_to_extractive(
    make_stub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """An empty (or label-only) reply is not stored; that group is summarized extractively."""

    def script(messages: list[dict[str, Any]]) -> str:
        return "Summary:  \n" if "Bananas" in messages[-1]["content"] else "Marie Curie, 1911."

    _, llm = make_stub(script)
    with caplog.at_level(logging.WARNING, logger="rag.operators.summarize"):
        empty, fine = LLMSummarizer(llm, max_tokens=30).summarize([TOWER, [FACT_TEXTS[1]]])
    assert empty.text == ExtractiveSummarizer(max_tokens=30).summarize_one(TOWER)
    assert (empty.summarizer, empty.model, empty.fallback) == ("extractive", None, EMPTY_REPLY)
    assert (fine.summarizer, fine.text, fine.fallback) == ("llm", "Marie Curie, 1911.", None)
    assert EMPTY_REPLY in caplog.text


def test_llm_failure_propagates(make_stub: Any) -> None:
    """A server that keeps failing raises LLMError after the retries; nothing is summarized."""
    server, llm = make_stub(lambda messages: "never seen")
    server.fail_first = 10**6
    with pytest.raises(LLMError, match="HTTP 500"):
        LLMSummarizer(llm).summarize([TOWER])
    assert server.request_count == 2  # the first try and max_retries=1


def test_empty_group_is_refused_before_any_call(make_stub: Any) -> None:
    """A bad group fails at once; the LLM is not called."""
    server, llm = make_stub(lambda messages: "x")
    with pytest.raises(ValueError, match="empty group"):
        LLMSummarizer(llm).summarize([TOWER, []])
    assert server.request_count == 0
