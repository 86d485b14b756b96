"""Surface rules that find entity mentions in a sentence: names, quotes, dates and amounts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple

from rag.operators.reader.text import STOPWORDS, word_set

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
)
_DATE = re.compile(
    rf"\b\d{{1,2}}\s+{_MONTH}(?:,?\s+\d{{3,4}}\b)?"  # 5 May 1821, 5 May
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,\s+\d{{3,4}}\b"  # May 5, 1821
    rf"|\b{_MONTH}\s+\d{{3,4}}\b"  # January 1960
    r"|\b\d{3}0s\b"  # the 1990s
    r"|(?<![\d.,$€£])\b(?:1\d|20)\d{2}\b(?![.,]\d)"  # 1963, not 1963.5 or 1,963
)
_UNIT = (
    r"(?:%|percent|per\s+cent|(?:square\s+)?(?:km|kilomet(?:re|er)s?|mi|miles?|metres?|meters?"
    r"|m|ft|feet|foot|inches|cm|mm)|km2|mi2|sq\s+mi|hectares?|ha|acres?|kg|kilograms?|lb|pounds"
    r"|tons?|tonnes?|mph|km/h|°[CF]|degrees|people|inhabitants|residents|households"
    r"|seats|episodes|copies|votes|years|months|weeks|days|hours|minutes|seconds|dollars|euros)"
)
_SCALE = r"(?:\s+(?:million|billion|trillion|thousand|hundred))?"
_AMOUNT = re.compile(
    rf"(?<![\w.])[$€£¥]\d[\d,]*(?:\.\d+)?{_SCALE}(?!\w)"
    rf"|(?<![\w.])\d[\d,]*(?:\.\d+)?{_SCALE}\s*{_UNIT}(?!\w)"
)
# Matching quotes pair up in order, so an empty "" does not pair with the next opening quote.
# ``...'' is the LaTeX-style quoting of MuSiQue's Wikipedia dumps.
_QUOTE = re.compile(r'"([^"\n]*)"|“([^”\n]*)”|``([^`\n]*?)\'\'')
_TOKEN = re.compile(
    r"(?:[A-Z]\.){2,}"  # U.S.
    r"|[A-Z]\.(?=\s)"  # the initial in G. Stanley Hall
    r"|(?:Mr|Mrs|Ms|Dr|St|Mt|Jr|Sr|Ft|Rev|Gen|Col|Lt|Capt|Gov|Sen|Prof)\.(?=\s)"
    r"|\w+(?:[-'’&]\w+)*"
)
_POSSESSIVE = re.compile(r"['’]s\Z")

# Lowercase words that may sit inside a name: "Journal of Mathematical Physics", "van Gogh".
CONNECTORS = word_set("of the de da di du del della des der den von van la le los las y al bin ibn")
# Words that are capitalized only because a sentence or question starts with them.
STARTERS = STOPWORDS | word_set(
    """
    however although though after before during following born located according despite
    today currently originally later since while several because unlike like once there
    throughout additionally furthermore moreover meanwhile thus therefore instead besides
    still now then first finally name list give tell did does is was were are can could
    would should will has have had in on at as after other others based another everybody
    everyone nobody something anything two three four five six seven eight nine ten eleven
    twelve twenty hundred
    """
)
# A lone sentence-initial "Founded", "Watched", "Originally" is a participle or an adverb.
_SENTENCE_CASE_ENDING = re.compile(r"(?:ed|ing|ly)\Z")
_MAX_QUOTE_WORDS = 10
_PRIORITY = {"known": -1, "quote": 0, "date": 1, "amount": 2, "name": 3}


class Mention(NamedTuple):
    """An entity as written in a sentence, with its character span and the rule that found it."""

    text: str
    start: int
    end: int
    kind: str


def find_mentions(
    sentence: str, lowercase_words: frozenset[str], known: Sequence[str] = ()
) -> list[Mention]:
    """Non-overlapping entity mentions of a sentence, in order of appearance.

    `lowercase_words` holds the words the surrounding text uses in lowercase: a capitalized
    first word found there ("Located", "Released") is sentence case, not a name. `known`
    names (a passage title) win over the rules, so "Culture, Society and Masculinities" stays
    one entity, unless a longer name contains them ("Roman Catholic Church").
    """
    names = name_spans(sentence, lowercase_words)
    found = [
        Mention(m.group(0), m.start(), m.end(), "known")
        for name in known
        if name
        for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", sentence)
        if not any(_contains(n, m.start(), m.end()) for n in names)
    ]
    found += names
    found += [Mention(m.group(0), m.start(), m.end(), "date") for m in _DATE.finditer(sentence)]
    found += [Mention(m.group(0), m.start(), m.end(), "amount") for m in _AMOUNT.finditer(sentence)]
    for m in _QUOTE.finditer(sentence):
        inner = (m.group(1) or m.group(2) or m.group(3) or "").strip().rstrip(".,;:!?").strip()
        if re.search(r"[^\W\d_]", inner) and len(inner.split()) <= _MAX_QUOTE_WORDS:
            # The span keeps the quote marks so that no relation phrase starts with one.
            found.append(Mention(inner, m.start(), m.end(), "quote"))
    chosen: list[Mention] = []
    for cand in sorted(found, key=lambda m: (_PRIORITY[m.kind], m.start - m.end, m.start)):
        if all(cand.end <= c.start or cand.start >= c.end for c in chosen):
            chosen.append(cand)
    # Non-breaking and repeated spaces would make "3 km" and "3\xa0km" two entities.
    return [
        m._replace(text=" ".join(m.text.split())) for m in sorted(chosen, key=lambda m: m.start)
    ]


def name_spans(sentence: str, lowercase_words: frozenset[str]) -> list[Mention]:
    """Runs of capitalized words, joined by whitespace and at most two connector words."""
    tokens = list(_TOKEN.finditer(sentence))
    spans: list[Mention] = []
    i = 0
    while i < len(tokens):
        if not _is_capital(tokens[i].group(0)):
            i += 1
            continue
        run = [tokens[i]]
        j = i + 1
        while j < len(tokens) and not _POSSESSIVE.search(run[-1].group(0)):
            k = j
            while k < len(tokens) and k - j < 2 and tokens[k].group(0) in CONNECTORS:
                k += 1
            if k >= len(tokens) or not _is_capital(tokens[k].group(0)):
                break
            gaps = [sentence[a.end() : b.start()] for a, b in pairwise(tokens[j - 1 : k + 1])]
            if not all(gap.isspace() for gap in gaps):
                break
            run.extend(tokens[j : k + 1])
            j = k + 1
        i = j
        span = _trim(run, sentence, lowercase_words)
        if span is not None:
            spans.append(span)
    return spans


def _trim(
    run: list[re.Match[str]], sentence: str, lowercase_words: frozenset[str]
) -> Mention | None:
    """Drop sentence-case starters and a possessive ending; None when nothing name-like is left."""
    if run[0].start() == _first_word_start(sentence):
        while run and run[0].group(0).lower() in STARTERS:
            run = run[1:]
        while run and run[0].group(0) in CONNECTORS:
            run = run[1:]
        at_start = len(run) == 1 and run[0].start() == _first_word_start(sentence)
        word = run[0].group(0).lower() if at_start else ""
        if word and (word in lowercase_words or _SENTENCE_CASE_ENDING.search(word)):
            return None
    if not run or all(t.group(0).lower() in STOPWORDS for t in run):
        return None
    start, end = run[0].start(), run[-1].end()
    if _POSSESSIVE.search(run[-1].group(0)):
        end -= 2
    return Mention(sentence[start:end], start, end, "name")


def _contains(outer: Mention, start: int, end: int) -> bool:
    """Whether a mention strictly contains the span start:end."""
    return outer.start <= start and end <= outer.end and outer.end - outer.start > end - start


def _is_capital(token: str) -> bool:
    """A word that starts with a capital letter (digits and underscores do not count)."""
    return token[:1].isupper()


def _first_word_start(sentence: str) -> int:
    """Offset of the first word character, so that a leading quote or bracket is skipped."""
    m = re.search(r"\w", sentence)
    return m.start() if m else 0
