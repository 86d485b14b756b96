"""Relative time in a dated text ("yesterday", "last week") resolved against the text's date.

A turn of a dialogue is dated by its session ("1:56 pm on 8 May, 2023") but speaks relative to
it: "I went to a support group yesterday". Asked "when did ...", the answer is the date the
turn means (7 May 2023), not the session's. `resolve` finds the first relative expression in
a text and turns it into absolute terms: day offsets ("yesterday", "3 days ago", "tomorrow")
into a date; a named weekday, week or weekend into a phrase anchored on the date ("the Friday
before 15 July 2023"), because "last Friday" said on a Saturday may mean either of two
Fridays; months and years into the month or year. `date_answer` is the hook readers call: for
a question that asks when, it answers from the cited passage's date (metadata `date_time`)
and says how in a citation note. It knows English expressions only, and no calendar beyond
the Gregorian.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import NamedTuple

from rag.operators.reader.reading import Reading
from rag.types import Passage

#: The passage metadata key holding the date a text was written or said (LoCoMo's sessions).
DATE_KEY = "date_time"

MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_NUMBERS |= {"a couple of": 2, "couple of": 2, "a few": 3, "few": 3, "several": 3}
_COUNT = r"(\d+|an?|one|two|three|four|five|six|a couple of|couple of|a few|few|several)"
_MONTH = "|".join(MONTHS) + "|" + "|".join(m[:3] for m in MONTHS)
_DAY_MONTH_YEAR = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?,?\s+(\d{{4}})\b", re.I
)
_MONTH_DAY_YEAR = re.compile(
    rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I
)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
#: A question that asks for a time: "when ...", "what date/day/month/year ...".
_ASKS_WHEN = re.compile(r"^\s*(when\b|(on |in )?what (date|day|month|year|time)\b)", re.I)
#: An answer that already names a year or a month: an absolute time the text gave itself.
_ABSOLUTE = re.compile(rf"\b(1[89]\d\d|20\d\d)\b|\b({'|'.join(MONTHS)})\b", re.I)


class Resolved(NamedTuple):
    """A relative expression, the date it was said on, and what it means in absolute terms."""

    expression: str
    anchor: date
    text: str

    def note(self) -> str:
        """E.g. "'yesterday', said on 8 May 2023: 7 May 2023"."""
        return f"'{self.expression}', said on {format_date(self.anchor)}: {self.text}"


def format_date(day: date) -> str:
    """A date as LoCoMo and most English prose write it: '7 May 2023'."""
    return f"{day.day} {MONTHS[day.month - 1].capitalize()} {day.year}"


def _month(name: str) -> int:
    """1-12 for a month name or its three-letter form."""
    return [m[:3] for m in MONTHS].index(name[:3].lower()) + 1


def parse_date(text: str) -> date | None:
    """The first calendar date in a text ('1:56 pm on 8 May, 2023', 'May 8, 2023', ISO)."""
    try:
        if m := _DAY_MONTH_YEAR.search(text):
            return date(int(m[3]), _month(m[2]), int(m[1]))
        if m := _MONTH_DAY_YEAR.search(text):
            return date(int(m[3]), _month(m[1]), int(m[2]))
        if m := _ISO.search(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:  # 31 February and the like: not a date
        return None
    return None


def _count(word: str) -> int:
    """A count written as digits or words ('3', 'three', 'a few')."""
    return int(word) if word.isdigit() else _NUMBERS[word.lower()]


def _shift_month(day: date, months: int) -> tuple[int, int]:
    """(year, month) `months` after the day's month."""
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _month_text(day: date, months: int) -> str:
    """'April 2023' for the month `months` away from the day's."""
    year, month = _shift_month(day, months)
    return f"{MONTHS[month - 1].capitalize()} {year}"


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str], date], str]]
_WEEKDAY = "|".join(WEEKDAYS)
# Longest first: "last night" before "night", "last weekend" before "last week".
_RULES: list[_Rule] = [
    (re.compile(r"\b(yesterday|last night)\b", re.I), lambda m, d: format_date(d - timedelta(1))),
    (
        re.compile(r"\b(today|tonight|this morning|this afternoon|this evening)\b", re.I),
        lambda m, d: format_date(d),
    ),
    (re.compile(r"\btomorrow\b", re.I), lambda m, d: format_date(d + timedelta(1))),
    (
        re.compile(rf"\b{_COUNT} days? ago\b", re.I),
        lambda m, d: format_date(d - timedelta(_count(m[1]))),
    ),
    (
        re.compile(rf"\b(?:last|this past|past) ({_WEEKDAY})\b", re.I),
        lambda m, d: f"the {m[1].capitalize()} before {format_date(d)}",
    ),
    (
        re.compile(rf"\b(?:next|this coming) ({_WEEKDAY})\b", re.I),
        lambda m, d: f"the {m[1].capitalize()} after {format_date(d)}",
    ),
    (
        re.compile(r"\b(?:last|this past|past) weekend\b", re.I),
        lambda m, d: f"the weekend before {format_date(d)}",
    ),
    (
        re.compile(r"\b(?:last|this past|past) week\b", re.I),
        lambda m, d: f"the week before {format_date(d)}",
    ),
    (
        re.compile(r"\bnext week(?:end)?\b", re.I),
        lambda m, d: f"the {m[0].split()[-1].lower()} after {format_date(d)}",
    ),
    (re.compile(r"\bthis week\b", re.I), lambda m, d: f"the week of {format_date(d)}"),
    (
        re.compile(rf"\b{_COUNT} (weeks?|weekends?) ago\b", re.I),
        lambda m, d: f"{m[1].lower()} {m[2].lower()} before {format_date(d)}",
    ),
    (re.compile(rf"\b{_COUNT} months? ago\b", re.I), lambda m, d: _month_text(d, -_count(m[1]))),
    (re.compile(r"\blast month\b", re.I), lambda m, d: _month_text(d, -1)),
    (re.compile(r"\bthis month\b", re.I), lambda m, d: _month_text(d, 0)),
    (re.compile(r"\bnext month\b", re.I), lambda m, d: _month_text(d, 1)),
    (re.compile(rf"\b{_COUNT} years? ago\b", re.I), lambda m, d: str(d.year - _count(m[1]))),
    (re.compile(r"\blast year\b", re.I), lambda m, d: str(d.year - 1)),
    (re.compile(r"\bthis year\b", re.I), lambda m, d: str(d.year)),
    (re.compile(r"\bnext year\b", re.I), lambda m, d: str(d.year + 1)),
]


def resolve(text: str, anchor: date) -> Resolved | None:
    """The earliest relative time expression in `text`, resolved against `anchor`; None if
    the text has none."""
    found = [(m.start(), m, rule) for pattern, rule in _RULES if (m := pattern.search(text))]
    if not found:
        return None
    _, match, rule = min(found, key=lambda f: f[0])
    return Resolved(match[0], anchor, rule(match, anchor))


def asks_when(question: str) -> bool:
    """Whether a question asks for a time ("When did ...", "What year ...")."""
    return bool(_ASKS_WHEN.match(question))


def passage_date(passage: Passage) -> date | None:
    """The date a passage was said or written, from its metadata, when it has one."""
    value = passage.metadata.get(DATE_KEY)
    return parse_date(value) if isinstance(value, str) else None


def _other_time(answer: str, anchor: date) -> bool:
    """Whether an answer names a date, year or month that is not the anchor's: "2019" said
    in 2023 is the turn's own time; "2023" or "May" said on 8 May 2023 is only vaguer."""
    day = parse_date(answer)
    if day is not None:
        return day != anchor
    for match in _ABSOLUTE.finditer(answer):
        year, month = match[1], match[2]
        if (year and int(year) != anchor.year) or (month and _month(month) != anchor.month):
            return True
    return False


def _declined(answer: str) -> bool:
    """Whether the reader said it does not know: that stands, dated passage or not."""
    return answer.strip().strip(".").lower() in ("", "unknown")


def date_answer(question: str, reading: Reading, passages: Sequence[Passage]) -> Reading:
    """For a question asking when, the date the cited dated passage means; else `reading`.

    The first cited passage with a date in its metadata decides: an answer that names another
    date, year or month than that date's is kept (the turn gave it); else a relative expression in
    the quote (else in the passage) is resolved against the date; else the date answers.
    The note on the citation says which, so the answer can be checked against the turn.
    """
    if not asks_when(question) or not reading.citations or _declined(reading.answer):
        return reading
    by_id = {p.id: p for p in passages}
    for n, citation in enumerate(reading.citations):
        passage = by_id.get(citation.passage_id)
        anchor = passage_date(passage) if passage else None
        if passage is None or anchor is None:
            continue
        if _other_time(reading.answer, anchor):
            return reading  # a time the turn gave itself, not the day it was said
        found = resolve(citation.quote, anchor) or resolve(passage.text, anchor)
        if found is not None:
            answer, note = found.text, found.note()
        else:
            answer, note = format_date(anchor), f"said on {format_date(anchor)}"
        citations = list(reading.citations)
        citations[n] = citation.model_copy(update={"note": note})
        details = {**reading.details, "temporal": {"answer_was": reading.answer, "note": note}}
        return reading.model_copy(
            update={"answer": answer, "citations": citations, "details": details}
        )
    return reading
