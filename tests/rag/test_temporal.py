"""Relative dates resolved against a passage's date, and the hook readers call."""

from __future__ import annotations

from datetime import date

import pytest

from rag.operators.reader.reading import Reading
from rag.operators.reader.temporal import (
    asks_when,
    date_answer,
    format_date,
    parse_date,
    resolve,
)
from rag.types import Citation, Passage

MAY_8 = date(2023, 5, 8)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1:56 pm on 8 May, 2023", date(2023, 5, 8)),
        ("10:37 am on 27 June, 2023", date(2023, 6, 27)),
        ("May 8th, 2023", date(2023, 5, 8)),
        ("2023-05-08", date(2023, 5, 8)),
        ("on 31 February, 2023", None),
        ("no date here", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        ("I went to the support group yesterday.", "7 May 2023"),
        ("We met last night", "7 May 2023"),
        ("I start tomorrow!", "9 May 2023"),
        ("It happened 3 days ago", "5 May 2023"),
        ("I ran a race last Sunday", "the Sunday before 8 May 2023"),
        ("We went camping last week", "the week before 8 May 2023"),
        ("Last weekend was fun", "the weekend before 8 May 2023"),
        ("two weekends ago we hiked", "two weekends before 8 May 2023"),
        ("I moved here last month", "April 2023"),
        ("I painted that last year", "2022"),
        ("ten years ago", None),
        ("I got it 10 years ago", "2013"),
        ("I'm going next month", "June 2023"),
        ("Nothing relative here.", None),
    ],
)
def test_resolve(text: str, resolved: str | None) -> None:
    found = resolve(text, MAY_8)
    assert (found.text if found else None) == resolved


def test_the_earliest_expression_wins_and_the_note_says_how() -> None:
    found = resolve("Yesterday I said I would go next week", MAY_8)
    assert found is not None and found.expression == "Yesterday"
    assert found.note() == "'Yesterday', said on 8 May 2023: 7 May 2023"
    assert format_date(date(2023, 1, 2)) == "2 January 2023"


@pytest.mark.parametrize(
    ("question", "when"),
    [
        ("When did Caroline go to the support group?", True),
        ("What year did Melanie paint a sunrise?", True),
        ("What did Caroline paint?", False),
        ("Where did they go when it rained?", False),
    ],
)
def test_asks_when(question: str, when: bool) -> None:
    assert asks_when(question) is when


def _passage(text: str, **metadata: str) -> Passage:
    return Passage.from_text(text, metadata=metadata)


def _reading(answer: str, passage: Passage, quote: str) -> Reading:
    return Reading(
        answer=answer, reader="x", citations=[Citation(passage_id=passage.id, quote=quote)]
    )


def test_a_when_answer_is_the_date_the_turn_means() -> None:
    turn = _passage(
        "[1:56 pm on 8 May, 2023] Caroline: I went to the support group yesterday.",
        date_time="1:56 pm on 8 May, 2023",
    )
    question = "When did Caroline go to the support group?"
    read = date_answer(question, _reading("8 May, 2023", turn, turn.text), [turn])
    assert read.answer == "7 May 2023"
    assert read.citations[0].note == "'yesterday', said on 8 May 2023: 7 May 2023"
    assert read.details["temporal"]["answer_was"] == "8 May, 2023"
    # Without a relative expression the turn's own date answers.
    plain = _passage("Caroline: I went to the group.", date_time="1:56 pm on 8 May, 2023")
    read = date_answer(question, _reading("the group", plain, plain.text), [plain])
    assert read.answer == "8 May 2023" and read.citations[0].note == "said on 8 May 2023"


def test_other_answers_are_left_alone() -> None:
    turn = _passage("Melanie: I painted it in 2019, yesterday.", date_time="8 May, 2023")
    when = "When did Melanie paint it?"
    # An absolute time the turn gave itself stands.
    assert date_answer(when, _reading("2019", turn, turn.text), [turn]).answer == "2019"
    assert date_answer(when, _reading("June 2023", turn, turn.text), [turn]).answer == "June 2023"
    # The passage's own year or month is only a vaguer form of its date: resolved instead.
    assert date_answer(when, _reading("2023", turn, turn.text), [turn]).answer == "7 May 2023"
    assert date_answer(when, _reading("May", turn, turn.text), [turn]).answer == "7 May 2023"
    # Not a when-question; a declined answer; an undated passage.
    what = date_answer("What did Melanie paint?", _reading("it", turn, turn.text), [turn])
    assert what.answer == "it"
    assert date_answer(when, _reading("unknown", turn, turn.text), [turn]).answer == "unknown"
    undated = _passage("Melanie: yesterday I painted.")
    assert date_answer(when, _reading("x", undated, undated.text), [undated]).answer == "x"
