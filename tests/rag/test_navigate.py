"""MemWalker's LLM navigator against a real loopback server: prompts sent and replies parsed."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from rag.errors import LLMError
from rag.operators.navigate import (
    NAVIGATE_TEMPLATE,
    READ_LEAF_TEMPLATE,
    LeafReading,
    LLMNavigator,
    NavigationChoice,
)

QUESTION = "When was the Eiffel Tower completed?"
OPTIONS = [
    "Paris landmarks: the Eiffel Tower, built for the 1889 World's Fair.",
    "Australian reefs and their coral.",
    "Early computing: Ada Lovelace and Babbage's engine.",
]
MEMORY = ["A long text about famous places and people.", "Places in Europe."]
SEGMENT = "The Eiffel Tower in Paris was completed in 1889 for the World's Fair."


def _navigator(make_stub: Any, reply: str) -> tuple[Any, LLMNavigator]:
    """A navigator whose LLM always gives `reply`, and the server it talks to."""
    server, llm = make_stub(lambda messages: reply)
    return server, LLMNavigator(llm)


def test_choose_prompt_shows_question_memory_and_numbered_options(make_stub: Any) -> None:
    """The navigate request holds the question, the memory in order and options from 1."""
    server, llm = make_stub(lambda messages: "The first is about Paris.\nAction: 1")
    navigator = LLMNavigator(llm)
    choice = navigator.choose(QUESTION, OPTIONS, MEMORY)
    [body] = server.bodies
    prompt = body["messages"][-1]["content"]
    assert f"Question: {QUESTION}" in prompt
    assert f"1. {MEMORY[0]}\n2. {MEMORY[1]}" in prompt
    assert f"[1] {OPTIONS[0]}\n\n[2] {OPTIONS[1]}\n\n[3] {OPTIONS[2]}" in prompt
    assert "`Action: <number>`" in prompt and "`Action: back`" in prompt
    assert choice == NavigationChoice(
        "child", 0, "The first is about Paris.", "The first is about Paris.\nAction: 1"
    )
    assert llm.metrics.stage("navigate").calls == 1


def test_read_leaf_prompt_shows_the_segment_and_empty_memory(make_stub: Any) -> None:
    """The read_leaf request holds the segment; an empty memory is said to be empty."""
    server, llm = make_stub(lambda messages: "It says 1889.\nAnswer: 1889")
    navigator = LLMNavigator(llm)
    reading = navigator.read_leaf(QUESTION, SEGMENT, [])
    prompt = server.bodies[0]["messages"][-1]["content"]
    assert f"Segment:\n{SEGMENT}" in prompt and "(nothing yet)" in prompt
    assert "`Answer: <the answer in a few words>`" in prompt
    assert reading == LeafReading("answer", "1889", "It says 1889.", "It says 1889.\nAnswer: 1889")
    assert llm.metrics.stage("read_leaf").calls == 1


def test_prompts_are_the_templates(make_stub: Any) -> None:
    """prompts() names both templates by stage."""
    _, navigator = _navigator(make_stub, "")
    assert navigator.prompts() == {"navigate": NAVIGATE_TEMPLATE, "read_leaf": READ_LEAF_TEMPLATE}


CHOICES = [
    ("Option 2 covers reefs.\nAction: 2", "child", 1),
    ("Reasoning.\nAction: 2.", "child", 1),
    ("Reasoning.\nAction: [3]", "child", 2),
    ("Reasoning.\n**Action:** 2", "child", 1),
    ("Reasoning.\n`Action: 2`", "child", 1),
    ("Reasoning.\naction: child 3", "child", 2),
    ("Reasoning.\nACTION: Option #1", "child", 0),
    ("Reasoning.\nchild 2", "child", 1),
    ("Reasoning.\n- **Final action**: (3)", "child", 2),
    ("Try 1 first.\nAction: 1\nOn reflection, the third.\nAction: 3", "child", 2),
    ("None of these fit.\nAction: back", "back", None),
    ("None of these fit.\n**Action: Go back.**", "back", None),
    ("Nothing here.\nAction: BACK", "back", None),
]
INVALID_CHOICES = [
    ("Reasoning.\nAction: 4", "not in 1..3"),
    ("Reasoning.\nAction: 0", "not in 1..3"),
    ("I would pick the second one.", "no Action line"),
    ("", "no Action line"),
    ("Reasoning.\nAction: the reef one", "unrecognized action"),
    ("Reasoning.\nAnswer: 1889", "unrecognized answer"),
]
READINGS = [
    ("It says so.\nAnswer: 1889", "answer", "1889"),
    ("It says so.\n**Answer:** 1889.", "answer", "1889"),
    ("It says so.\nanswer: `in 1889`", "answer", "in 1889"),
    ('It says so.\nAnswer: "Washington D.C."', "answer", "Washington D.C."),
    ("It says so.\nAnswer:\n1889", "answer", "1889"),
    ("Maybe.\nAnswer: 1890\nNo, it says 1889.\nAnswer: 1889", "answer", "1889"),
    ("Not about the tower.\nAction: back", "back", None),
    ("Not about the tower.\nAction: Back.", "back", None),
    ("Not here.\nAnswer: unknown", "back", None),
]
INVALID_READINGS = [
    ("The segment mentions 1889.", "no Answer or Action line"),
    ("Reasoning.\nAction: 2", "unusable action"),
    ("Reasoning.\nAnswer:", "unusable answer"),
]


def _scripted(make_stub: Any, replies: list[str]) -> tuple[Any, LLMNavigator]:
    """One server for many cases: the question's "case N:" prefix picks reply N.

    Each case asks a different question, so the LLM's disk cache cannot answer one case with
    another's reply.
    """

    def script(messages: list[dict[str, Any]]) -> str:
        prompt = messages[-1]["content"]
        return replies[int(prompt.split("Question: case ", 1)[1].split(":", 1)[0])]

    server, llm = make_stub(script)
    return server, LLMNavigator(llm)


def test_choice_forms(make_stub: Any) -> None:
    """The last action line wins, whatever its case or markdown; numbers become 0-based."""
    _, navigator = _scripted(make_stub, [reply for reply, _, _ in CHOICES])
    for i, (reply, action, child) in enumerate(CHOICES):
        choice = navigator.choose(f"case {i}: {QUESTION}", OPTIONS, MEMORY)
        assert (choice.action, choice.child, choice.reply) == (action, child, reply), reply
        assert choice.reasoning and "Action" not in choice.reasoning.splitlines()[-1], reply


def test_invalid_choices_are_logged(make_stub: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Out-of-range numbers and replies without an action are invalid, with a logged reason."""
    _, navigator = _scripted(make_stub, [reply for reply, _ in INVALID_CHOICES])
    for i, (reply, reason) in enumerate(INVALID_CHOICES):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rag.operators.navigate"):
            choice = navigator.choose(f"case {i}: {QUESTION}", OPTIONS, MEMORY)
        assert (choice.action, choice.child, choice.reply) == ("invalid", None, reply), reply
        assert reason in caplog.text, reply


def test_leaf_forms(make_stub: Any) -> None:
    """At a leaf the last Answer or Action line wins; 'unknown' means go back."""
    _, navigator = _scripted(make_stub, [reply for reply, _, _ in READINGS])
    for i, (reply, action, answer) in enumerate(READINGS):
        reading = navigator.read_leaf(f"case {i}: {QUESTION}", SEGMENT, MEMORY)
        assert (reading.action, reading.answer, reading.reply) == (action, answer, reply), reply
        assert reading.reasoning in reply, reply
        assert "Answer" not in reading.reasoning.splitlines()[-1], reply


def test_invalid_leaf_replies_are_logged(make_stub: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A leaf reply with neither a usable answer nor 'back' is invalid, with a logged reason."""
    _, navigator = _scripted(make_stub, [reply for reply, _ in INVALID_READINGS])
    for i, (reply, reason) in enumerate(INVALID_READINGS):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rag.operators.navigate"):
            reading = navigator.read_leaf(f"case {i}: {QUESTION}", SEGMENT, MEMORY)
        assert (reading.action, reading.answer) == ("invalid", None), reply
        assert reason in caplog.text, reply


def test_llm_failure_propagates(make_stub: Any) -> None:
    """A failing server raises LLMError from both moves; no move is made up."""
    server, navigator = _navigator(make_stub, "Action: 1")
    server.fail_first = 10**6
    with pytest.raises(LLMError, match="HTTP 500"):
        navigator.choose(QUESTION, OPTIONS, MEMORY)
    with pytest.raises(LLMError, match="HTTP 500"):
        navigator.read_leaf(QUESTION, SEGMENT, MEMORY)


def test_choose_needs_options(make_stub: Any) -> None:
    """An internal node without children is the caller's bug, refused before any call."""
    server, navigator = _navigator(make_stub, "Action: 1")
    with pytest.raises(ValueError, match="at least one child"):
        navigator.choose(QUESTION, [], MEMORY)
    assert server.request_count == 0
