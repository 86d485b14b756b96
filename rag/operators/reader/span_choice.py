"""Choosing the answer span: question type cues, span fit, and the fullest form of a name."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from rag.operators.reader.answer_spans import Span, candidate_spans
from rag.operators.reader.bridging import ScoredSentence
from rag.operators.reader.text import (
    Token,
    content_words,
    is_content_word,
    normalize_word,
    split_sentences,
    tokenize,
    word_set,
)

_PLACE_NOUNS = word_set(
    "country city state county town place continent region province island nation location "
    "village area capital district territory municipality borough river sea ocean lake "
    "mountain"
)
_TITLE_NOUNS = word_set("song album film movie book novel single show series title poem")
_PERSON_NOUNS = word_set(
    "person man woman president leader actor actress singer author writer founder king queen "
    "director player composer artist politician ruler emperor"
)
# The word before a name hints at what it names: "born in Warsaw" is a place, "designed by
# Gustave Eiffel" a person (or an organisation).
_PLACE_BEFORE = word_set("in at near from into outside inside within across throughout")
_AGENT_BEFORE = word_set("by")
#: Score of a span whose preceding word fits (+) or contradicts (-) the answer type.
CONTEXT_BONUS = 0.1
_AFFILIATION_NOUNS = word_set(
    "nationality language religion ethnicity citizenship descent faith heritage origin ancestry "
    "denomination"
)
_HEAD_SKIP = word_set("is was are were the a an name of does did do 's kind type sort form class")

#: How well each span kind fits each answer type (kinds missing from a row do not fit).
KIND_WEIGHTS: dict[str, dict[str, float]] = {
    "person": {"name": 1.0, "title": 0.3, "chunk": 0.1, "demonym": 0.1},
    "date": {"date": 1.0, "year": 0.9, "number": 0.1},
    "year": {"year": 1.0, "date": 0.5},
    "count": {"number": 1.0, "quantity": 0.8, "year": 0.2},
    "quantity": {"quantity": 1.0, "number": 0.7, "year": 0.2},
    "place": {"name": 1.0, "chunk": 0.2, "title": 0.1, "demonym": 0.1},
    "title": {"title": 1.0, "name": 0.6, "chunk": 0.2},
    "kind": {"chunk": 1.0, "name": 0.6, "title": 0.3, "demonym": 0.6},
    "affiliation": {"demonym": 1.0, "name": 0.6, "chunk": 0.3},
    "entity": {
        "name": 1.0,
        "title": 0.9,
        "chunk": 0.6,
        "demonym": 0.6,
        "date": 0.4,
        "year": 0.4,
        "number": 0.4,
    },
}

#: Spans of at least this weight have the asked type ("when" -> a date or year, not "two"); a
#: better-placed span of another kind is the answer only when no sentence has one of them.
FITTING_WEIGHT = 0.5

_CUES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bhow\s+many\b"), "count"),
    (
        re.compile(r"\bhow\s+(?:much|long|old|far|tall|high|big|large|deep|wide|often)\b"),
        "quantity",
    ),
    (re.compile(r"\b(?:what|which)\s+(?:year|decade)\b"), "year"),
    (re.compile(r"\b(?:what|which)\s+(?:kind|type|sort|form|class)\s+of\b"), "kind"),
    (re.compile(r"\b(?:what|which)\s+(?:date|day|month|century|era|period)\b|\bwhen\b"), "date"),
    (re.compile(r"\bwho(?:m|se)?\b"), "person"),
    (re.compile(r"\bwhere\b"), "place"),
    (re.compile(r"\b(?:what|which)\b"), "entity"),
]


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
    elif kind == "entity" and head in _AFFILIATION_NOUNS:
        kind = "affiliation"
    return kind, head


class Choice(NamedTuple):
    """The chosen answer span, its kind and score, and the sentence it was cut from."""

    text: str
    kind: str
    score: float
    sentence: ScoredSentence


def choose_span(
    known: set[str],
    qtype: str,
    head: str | None,
    pool: list[ScoredSentence],
    wider: Sequence[ScoredSentence] = (),
) -> Choice | None:
    """Pick the span that best fits the question type, near the words it shares with the question.

    `known` holds the question's content words (plus bridges already crossed): spans made mostly
    of them are not answers, and tokens matching them anchor the proximity bonus. When no
    sentence of the pool holds a span of the asked type, the `wider` sentences are searched for
    one before a span of another kind is accepted.
    """
    weights = KIND_WEIGHTS[qtype]
    # The best span of a kind the question asks for, else the best of any kind that may do.
    best: dict[bool, Choice] = {}
    for sentence in _pool_then_wider(pool, wider, best):
        tokens = tokenize(sentence.text)
        norms = [normalize_word(t.text) for t in tokens]
        matched = [i for i, w in enumerate(norms) if w in known]
        for span in candidate_spans(sentence.text):
            weight = weights.get(span.kind, 0.0)
            trimmed = _trim(span, norms, known, sentence.text, tokens) if weight > 0 else None
            if trimmed is None:
                continue
            outside = [i for i in matched if not trimmed.first <= i <= trimmed.last]
            gap = min((abs(i - trimmed.first) for i in outside), default=None)
            proximity = 0.0 if gap is None else 1.0 / (1 + gap / 3)
            fits_head = head is not None and norms[trimmed.last] == normalize_word(head)
            multiword = qtype == "person" and trimmed.last > trimmed.first
            first = trimmed.first
            before = tokens[first - 1].text.lower() if first > 0 else ""
            # "designed by X" answers "Who designed ...?"; "written by X" does not answer "Who
            # played ...?": an agent's "by" counts only after a verb the question has.
            asked_verb = first > 1 and norms[first - 2] in known
            score = (
                sentence.score
                + 0.5 * weight
                + 0.15 * proximity
                + 0.15 * fits_head
                + 0.05 * multiword
                + CONTEXT_BONUS * _context_fit(qtype, span.kind, before, asked_verb)
            )
            fits = fits_type(qtype, span.kind)
            if fits not in best or score > best[fits].score + 1e-9:
                best[fits] = Choice(trimmed.text, span.kind, score, sentence)
    return best.get(True) or best.get(False)


def fits_type(qtype: str, kind: str) -> bool:
    """Whether a span of this kind has the answer type asked for (a year for "when", say)."""
    return KIND_WEIGHTS[qtype].get(kind, 0.0) >= FITTING_WEIGHT


def _pool_then_wider(
    pool: list[ScoredSentence], wider: Sequence[ScoredSentence], best: dict[bool, Choice]
) -> Iterator[ScoredSentence]:
    """The pool's sentences, then the wider ones for as long as no fitting span is found."""
    yield from pool
    for sentence in wider:
        if True in best:
            return
        yield sentence


def _context_fit(qtype: str, kind: str, before: str, asked_verb: bool) -> int:
    """+1 when the word before a name fits the asked type, -1 when it points elsewhere."""
    if kind != "name" or qtype not in ("place", "person"):
        return 0
    if before in _PLACE_BEFORE:
        return 1 if qtype == "place" else -1
    if before in _AGENT_BEFORE and asked_verb:
        return 1 if qtype == "person" else -1
    return 0


def _trim(
    span: Span, norms: list[str], known: set[str], text: str, tokens: list[Token]
) -> Span | None:
    """Drop known words leading a name or chunk; None when the span mostly repeats the question."""
    first, last = span.first, span.last
    if span.kind in ("name", "chunk"):
        while first <= last and (
            _is_known(norms[first], known) or not is_content_word(tokens[first].text)
        ):
            first += 1
        if first > last:
            return None
        span = Span(text[tokens[first].start : tokens[last].end], span.kind, first, last)
    words = content_words(span.text)
    if words and sum(_is_known(w, known) for w in words) / len(words) > 0.5:
        return None
    return span


def _is_known(word: str, known: set[str]) -> bool:
    """A question word, or a hyphenated word with one (Skłodowska-Curie for Marie Curie)."""
    return word in known or (
        "-" in word and any(normalize_word(part) in known for part in word.split("-"))
    )


def fullest_name(name: str, passage_text: str) -> str:
    """Return the passage's longest name ending in a one-word name ("Hall" -> "G. Stanley Hall")."""
    if " " in name:
        return name
    best = name
    for sentence in split_sentences(passage_text):
        for span in candidate_spans(sentence):
            longer = len(span.text) > len(best) and span.last - span.first <= 3
            if span.kind == "name" and longer and span.text.endswith(" " + name):
                best = span.text
    return best
