"""Answer-span heuristics for the extractive reader: question type cues and candidate spans."""

from __future__ import annotations

import re
from typing import NamedTuple

from rag.operators.reader_text import STOPWORDS, Token, tokenize

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
_UNITS = frozenset(
    """
    inch inches foot feet ft yard yards mile miles mi km kilometres kilometers kilometre kilometer
    m metre metres meter meters cm mm acre acres hectare hectares square sq pound pounds lb lbs kg
    kilograms gram grams ton tons tonnes tonne dollars euros pounds yen rupees percent degrees
    year years month months week weeks day days hour hours minute minutes second seconds
    people inhabitants residents members students employees episodes seasons games goals points
    times stores copies votes seats floors storeys stories
    """.split()
)
_QUOTED = re.compile(r'"([^"]{2,120}?)"|“([^”]{2,120}?)”|``\s*(.{2,120}?)\s*\'\'')
_MONTH_WORDS = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_NAME_CONNECTORS = frozenset(
    "of the de la le du des von van der den da di del y on for upon al bin ibn &".split()
)
_PLACE_NOUNS = frozenset(
    "country city state county town place continent region province island nation location "
    "village area capital district territory municipality borough river sea ocean lake "
    "mountain".split()
)
_TITLE_NOUNS = frozenset("song album film movie book novel single show series title poem".split())
_PERSON_NOUNS = frozenset(
    "person man woman president leader actor actress singer author writer founder king queen "
    "director player composer artist politician ruler emperor".split()
)
_HEAD_SKIP = frozenset("is was are were the a an name of does did do 's kind type sort form class".split())

#: How well each span kind fits each answer type (kinds missing from a row do not fit).
KIND_WEIGHTS: dict[str, dict[str, float]] = {
    "person": {"name": 1.0, "title": 0.3, "chunk": 0.1},
    "date": {"date": 1.0, "year": 0.9, "number": 0.1},
    "year": {"year": 1.0, "date": 0.5},
    "count": {"number": 1.0, "quantity": 0.8, "year": 0.2},
    "quantity": {"quantity": 1.0, "number": 0.9, "year": 0.2},
    "place": {"name": 1.0, "chunk": 0.2, "title": 0.1},
    "title": {"title": 1.0, "name": 0.6, "chunk": 0.2},
    "kind": {"chunk": 1.0, "name": 0.6, "title": 0.3},
    "entity": {"name": 1.0, "title": 0.9, "chunk": 0.6, "date": 0.4, "year": 0.4, "number": 0.4},
}

_CUES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bhow\s+many\b"), "count"),
    (re.compile(r"\bhow\s+(?:much|long|old|far|tall|high|big|large|deep|wide|often)\b"), "quantity"),
    (re.compile(r"\b(?:what|which)\s+(?:year|decade)\b"), "year"),
    (re.compile(r"\b(?:what|which)\s+(?:kind|type|sort|form|class)\s+of\b"), "kind"),
    (re.compile(r"\b(?:what|which)\s+(?:date|day|month|century|era|period)\b|\bwhen\b"), "date"),
    (re.compile(r"\bwho(?:m|se)?\b"), "person"),
    (re.compile(r"\bwhere\b"), "place"),
    (re.compile(r"\b(?:what|which)\b"), "entity"),
]


class Span(NamedTuple):
    """A candidate answer inside a sentence: its text, kind and token range."""

    text: str
    kind: str
    first: int
    last: int


def answer_type(question: str) -> tuple[str, str | None]:
    """Return the expected answer type of a question and the noun after its wh-word, if any."""
    q = question.lower()
    found = [(m.start(), i, kind) for i, (rx, kind) in enumerate(_CUES) if (m := rx.search(q))]
    kind = min(found)[2] if found else "entity"
    head = None
    wh = re.search(r"\b(?:what|which)\b", q)
    if wh:
        following = re.findall(r"[\w']+", q[wh.end() :])[:6]
        head = next((w for w in following if w not in _HEAD_SKIP), None)
    if kind == "entity" and head in _PLACE_NOUNS:
        kind = "place"
    elif kind == "entity" and head in _TITLE_NOUNS:
        kind = "title"
    elif kind == "entity" and head in _PERSON_NOUNS:
        kind = "person"
    elif kind == "entity" and head in {"number", "amount", "percentage", "population"}:
        kind = "quantity"
    return kind, head


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
        while first <= last and (
            words[first].lower() in STOPWORDS or words[first].lower() in _NAME_CONNECTORS
        ):
            first += 1
        if first > last or all(w.lower() in _MONTH_WORDS for w in words[first : last + 1]):
            continue
        # A lone sentence-initial capital is usually an ordinary word ("Founded in ...").
        if first == last == 0 and words[0][1:].islower() and words[0].lower().endswith(("ed", "ing")):
            continue
        spans.append((first, last))
    return spans


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
            spans.append(Span(sentence[tokens[first].start : tokens[last].end], kind, first, last))
    seen: set[tuple[str, str]] = set()
    unique = []
    for span in spans:
        if span.text and (span.text, span.kind) not in seen:
            seen.add((span.text, span.kind))
            unique.append(span)
    return unique
