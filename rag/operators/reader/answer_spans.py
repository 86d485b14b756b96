"""Candidate answer spans in a sentence: names, dates, years, numbers, quoted titles, chunks."""

from __future__ import annotations

import re
from typing import NamedTuple

from rag.operators.reader.text import STOPWORDS, Token, tokenize, word_set

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE = re.compile(
    rf"\b(?:{_DAY}\s+{_MONTH}(?:,?\s+\d{{3,4}})?"
    rf"|{_MONTH}\s+{_DAY}(?:,\s*|\s+)\d{{3,4}}"
    rf"|{_MONTH}\s+\d{{4}}"
    rf"|{_MONTH}\s+{_DAY}\b"
    r"|(?:the\s+)?\d{1,2}(?:st|nd|rd|th)\s+century)"
)
_YEAR = re.compile(r"(?<![\w$.,])(?:1\d{3}|20\d{2})s?(?![\w%]|[.,]\d)")
_SCALE = r"(?:\s+(?:thousand|million|billion|trillion|hundred))?"
_NUMBER = re.compile(
    r"(?<![\w.])[$£€]?\d+(?:[.,]\d+)*(?:\s*(?:%|percent|per cent))?"
    + _SCALE
    + r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy"
    r"|eighty|ninety|hundred|dozen)\b" + _SCALE
)
_UNIT_AFTER = re.compile(r"\s*(?:-\s*)?([a-zA-Z]+)")
_UNITS = word_set(
    """
    inch inches foot feet ft yard yards mile miles mi km kilometres kilometers kilometre kilometer
    m metre metres meter meters cm mm acre acres hectare hectares pound pounds lb lbs kg
    kilograms gram grams ton tons tonnes tonne dollars euros pounds yen rupees percent degrees
    year years month months week weeks day days hour hours minute minutes second seconds
    people inhabitants residents members students employees episodes seasons games goals points
    times stores copies votes seats floors storeys stories
    """
)
_POSSESSIVE = re.compile(r"['’]s?$")
_QUOTED = re.compile(r'"([^"]{2,120}?)"|“([^”]{2,120}?)”|``\s*(.{2,120}?)\s*\'\'')
_MONTH_WORDS = word_set(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday"
)
# Nationalities, languages and faiths are capitalised but name no person or place: "by Canadian
# musician Neil Young" answers "who" with Neil Young.
DEMONYMS = word_set(
    """
    american british english french german italian spanish portuguese canadian australian irish
    scottish welsh russian chinese japanese korean indian pakistani mexican brazilian argentine
    argentinian chilean colombian peruvian cuban dutch belgian swiss austrian swedish norwegian
    danish finnish icelandic polish czech slovak hungarian romanian bulgarian serbian croatian
    greek turkish israeli iranian persian arab arabic egyptian nigerian kenyan ethiopian african
    european asian latin roman soviet ukrainian filipino thai vietnamese indonesian scandinavian
    hispanic jewish catholic protestant christian muslim islamic hindu buddhist anglican
    """
)
_OPENERS = word_set(
    "however earlier later today although though despite unlike like thus therefore hence "
    "instead besides meanwhile moreover furthermore nevertheless once while"
)
_NAME_CONNECTORS = word_set(
    "of the de la le du des von van der den da di del y on for upon al bin ibn &"
)


class Span(NamedTuple):
    """A candidate answer inside a sentence: its text, kind and token range."""

    text: str
    kind: str
    first: int
    last: int


def _token_range(tokens: list[Token], start: int, end: int) -> tuple[int, int]:
    inside = [i for i, t in enumerate(tokens) if t.start < end and t.end > start]
    return (inside[0], inside[-1]) if inside else (0, 0)


def _joined(tokens: list[Token], sentence: str, i: int) -> bool:
    """True when token i follows token i-1 with only whitespace between them."""
    return i > 0 and not sentence[tokens[i - 1].end : tokens[i].start].strip()


def _is_cap(tok: str) -> bool:
    return tok[:1].isupper() or (tok.isdigit() and len(tok) <= 3)


def _runs(tokens: list[Token], sentence: str, member: list[bool]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i, ok in enumerate(member):
        if not ok:
            continue
        if runs and runs[-1][1] == i - 1 and _joined(tokens, sentence, i):
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _name_spans(tokens: list[Token], sentence: str) -> list[tuple[int, int]]:
    words = [t.text for t in tokens]
    member = [_is_cap(w) and not w.isdigit() for w in words]
    # Up to two connectors join a name when a capital follows them ("Bank of the United States").
    i = 1
    while i < len(words):
        if member[i - 1] and not member[i]:
            j = i
            while j < len(words) and j - i < 2 and words[j].lower() in _NAME_CONNECTORS:
                j += 1
            if i < j < len(words) and member[j]:
                member[i:j] = [True] * (j - i)
                i = j
                continue
            # Short numbers continue a name ("Apollo 11", "Boeing 747").
            member[i] = words[i].isdigit() and len(words[i]) <= 3
        i += 1
    spans = []
    for first, last in _runs(tokens, sentence, member):
        # A sentence-initial capital is often an ordinary word ("However", "Founded in ...").
        low0 = words[first].lower()
        if first == 0 and (low0 in _OPENERS or low0.endswith(("ed", "ing", "ly"))):
            first += 1
        while first <= last and _is_filler(words[first]):
            first += 1
        # A short number ends a name ("Ariane 5", "Apollo 11"), but does not start one.
        while last >= first and _is_filler(words[last]) and not _short_number(words, first, last):
            last -= 1
        dated = all(w.lower() in _MONTH_WORDS or w.isdigit() for w in words[first : last + 1])
        if first <= last and not dated:  # "December 31" is a date, not a name
            spans.append((first, last))
    return spans


def _is_demonym(word: str) -> bool:
    """A nationality, language or faith word, also as the head of "English-language"."""
    return word.lower().split("-")[0] in DEMONYMS


def _short_number(words: list[str], first: int, last: int) -> bool:
    """Whether words[last] is a number of at most three digits after a capitalised word."""
    return (
        last > first
        and words[last].isdigit()
        and len(words[last]) <= 3
        and _is_cap(words[last - 1])
    )


def _is_filler(word: str) -> bool:
    low = word.lower()
    return low in STOPWORDS or low in _NAME_CONNECTORS or word.isdigit()


def _chunk_spans(tokens: list[Token], sentence: str) -> list[tuple[int, int]]:
    member = []
    for t in tokens:
        low = t.text.lower()
        verbish = t.text.islower() and low.endswith(("ed", "ly"))
        member.append(low not in STOPWORDS and not verbish and any(c.isalpha() for c in low))
    return [(a, min(b, a + 4)) for a, b in _runs(tokens, sentence, member)]


def candidate_spans(sentence: str) -> list[Span]:
    """List candidate answer spans of a sentence: names, dates, years, numbers, titles, chunks."""
    tokens = tokenize(sentence)
    if not tokens:
        return []
    spans: list[Span] = []

    def add(text: str, kind: str, start: int, end: int) -> None:
        first, last = _token_range(tokens, start, end)
        spans.append(Span(text.strip(" ,;:"), kind, first, last))

    for m in _DATE.finditer(sentence):
        add(m.group(0), "date", m.start(), m.end())
    for m in _YEAR.finditer(sentence):
        add(m.group(0), "year", m.start(), m.end())
    for m in _NUMBER.finditer(sentence):
        if _YEAR.fullmatch(m.group(0)):
            continue
        add(m.group(0), "number", m.start(), m.end())
        unit = _UNIT_AFTER.match(sentence, m.end())
        if unit and unit.group(1).lower() in _UNITS:
            add(sentence[m.start() : unit.end()], "quantity", m.start(), unit.end())
    for m in _QUOTED.finditer(sentence):
        inner = next(g for g in m.groups() if g is not None)
        add(inner, "title", m.start(), m.end())
    for kind, ranges in (
        ("name", _name_spans(tokens, sentence)),
        ("chunk", _chunk_spans(tokens, sentence)),
    ):
        for first, last in ranges:
            text = _POSSESSIVE.sub("", sentence[tokens[first].start : tokens[last].end])
            if kind == "name" and all(_is_demonym(t.text) for t in tokens[first : last + 1]):
                spans.append(Span(text, "demonym", first, last))
            else:
                spans.append(Span(text, kind, first, last))
    seen: set[tuple[str, str]] = set()
    unique = []
    for span in spans:
        if span.text and (span.text, span.kind) not in seen:
            seen.add((span.text, span.kind))
            unique.append(span)
    return unique
