"""Reasoning a step: the reply parser, the bundled examples, the LLM reasoner over a real
OpenAI-compatible server on loopback, and the offline bridge follower."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from rag.embed.base import Embedder
from rag.operators.bridge_reasoner import BridgeReasoner
from rag.operators.reasoning import (
    SYSTEM_PROMPT,
    LLMReasoner,
    ReasoningExample,
    bundled_examples,
    choose_examples,
    parse_thought,
)
from rag.types import Passage

QUESTION = "Where was the director of The Quiet Harbour born?"
FILM = Passage.from_text(
    "The Quiet Harbour is a 1962 drama film directed by Jane Roe and shot on the northern coast.",
    title="The Quiet Harbour",
)
BIO = Passage.from_text(
    "Jane Roe was born in Lisbon in 1921 and began her career as a stage actress.",
    title="Jane Roe",
)
DISTRACTOR = Passage.from_text(
    "The director Paul Dorn was born in Vienna and made films about the harbour district.",
    title="Paul Dorn",
)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            "Jane Roe directed The Quiet Harbour. She was born in Lisbon.",
            ("Jane Roe directed The Quiet Harbour.", None, None),
        ),
        (
            'Thought: "Jane Roe directed the film."\nmore text',
            ("Jane Roe directed the film.", None, None),
        ),
        (
            "\n\n- Next: **Jane Roe was born in Lisbon.**",
            ("Jane Roe was born in Lisbon.", None, None),
        ),
        ("So the answer is: Lisbon.", ("So the answer is: Lisbon.", "Lisbon", None)),
        ("so the answer is Lisbon", ("so the answer is Lisbon", "Lisbon", None)),
        (
            "Jane Roe was born in Lisbon.\nSo the answer is: Lisbon",
            ("Jane Roe was born in Lisbon. So the answer is: Lisbon", "Lisbon", None),
        ),
        ("Answer: Washington, D.C.", ("Answer: Washington, D.C.", "Washington, D.C.", None)),
        (
            "<think>the film... hm</think>\nSo the answer is: 'Lisbon'.",
            ("So the answer is: 'Lisbon'.", "Lisbon", None),
        ),
        ("So the answer is:", ("So the answer is:", None, "answer marker without an answer")),
        ("", ("", None, "empty reply")),
        ("  \n Thought: \n", ("", None, "empty reply")),
    ],
)
def test_replies_are_parsed_tolerantly(
    reply: str, expected: tuple[str, str | None, str | None]
) -> None:
    assert parse_thought(reply) == expected


def test_bundled_examples_end_with_an_answer_and_are_chosen_by_shared_words() -> None:
    examples = bundled_examples()
    assert len(examples) >= 8
    assert all(e.thoughts[-1].startswith("So the answer is:") for e in examples)
    chosen = choose_examples(
        "Which city was the architect of the new library born in?", examples, 2
    )
    assert chosen[0].question.startswith("In which city was the architect")
    assert choose_examples(QUESTION, examples, 2) == choose_examples(QUESTION, examples, 2)
    assert choose_examples(QUESTION, examples, 0) == []
    with pytest.raises(ValueError, match="So the answer is"):
        ReasoningExample(question="q", passages=[{"text": "t"}], thoughts=["a", "b"])


def test_llm_reasoner_prompt_holds_question_passages_thoughts_and_examples(make_stub: Any) -> None:
    server, llm = make_stub(lambda messages: "Next: Jane Roe was born in Lisbon.")
    reasoner = LLMReasoner(llm, shots=2)
    thought = reasoner.next_thought(QUESTION, [FILM, BIO], ["The film was directed by Jane Roe."])
    assert (thought.text, thought.stop, thought.answer) == (
        "Jane Roe was born in Lisbon.",
        False,
        None,
    )
    assert (
        thought.reasoner == "llm" and thought.details["raw"] == "Next: Jane Roe was born in Lisbon."
    )
    system, user = server.bodies[0]["messages"]
    assert system["content"] == SYSTEM_PROMPT
    prompt = user["content"]
    assert f"Question: {QUESTION}" in prompt
    assert FILM.text in prompt and "[2] Jane Roe: " + BIO.text in prompt
    assert "Reasoning so far:\nThe film was directed by Jane Roe." in prompt
    assert len(thought.details["examples"]) == 2
    for example in thought.details["examples"]:
        assert f"Question: {example}" in prompt
    assert prompt.rstrip().endswith("Next sentence:")


def test_llm_reasoner_stops_on_the_answer_an_empty_reply_or_a_repeat(
    make_stub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    replies = iter(["So the answer is Lisbon.", "   ", "The film was directed by Jane Roe."])
    _, llm = make_stub(lambda messages: next(replies))
    reasoner = LLMReasoner(llm)
    answered = reasoner.next_thought(QUESTION, [FILM, BIO], [])
    assert (answered.stop, answered.answer, answered.stop_reason) == (True, "Lisbon", "answer")
    with caplog.at_level(logging.WARNING, logger="rag.operators.reasoning"):
        empty = reasoner.next_thought(QUESTION, [FILM], [])
    assert (empty.stop, empty.answer, empty.stop_reason, empty.text) == (
        True, None, "empty reply", "")  # fmt: skip
    assert "empty reply" in caplog.text
    repeat = reasoner.next_thought(QUESTION, [FILM], ["The film was directed by Jane Roe"])
    assert (repeat.stop, repeat.stop_reason) == (True, "no new query")


def test_bridge_reasoner_looks_up_the_bridge_then_answers(embedder: Embedder) -> None:
    reasoner = BridgeReasoner(embedder)
    first = reasoner.next_thought(QUESTION, [DISTRACTOR, FILM], [])
    # The chain starts at the film the question names, not at the wordier distractor.
    assert first.details["chain"] == [FILM.text]
    assert (first.text, first.stop) == ("Jane Roe born", False)
    assert first.details["look_up"] == "Jane Roe"
    done = reasoner.next_thought(QUESTION, [DISTRACTOR, FILM, BIO], [first.text])
    assert (done.stop, done.stop_reason, done.answer) == (True, "answer", "Lisbon")
    assert done.details["chain"] == [FILM.text, BIO.text]


def test_bridge_reasoner_stops_when_no_name_is_left(embedder: Embedder) -> None:
    reasoner = BridgeReasoner(embedder)
    lone = Passage.from_text("The Quiet Harbour is a drama film about a quiet place.", title="x")
    thought = reasoner.next_thought(QUESTION, [lone], [])
    assert (thought.stop, thought.stop_reason, thought.answer) == (True, "no new query", None)
    nothing = reasoner.next_thought(QUESTION, [], [])
    assert (nothing.stop, nothing.details["why"]) == (True, "no passages")
