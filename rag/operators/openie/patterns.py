"""Offline OpenIE by surface patterns: no model, no LLM, deterministic."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from tqdm.auto import tqdm

from rag.operators.openie.base import Extractor
from rag.operators.openie.spans import Mention, find_mentions
from rag.operators.openie.types import Extraction, Triple
from rag.operators.reader.text import split_sentences, word_set
from rag.types import Passage

MAX_RELATION_WORDS = 6
_PRONOUNS = word_set("he she it they")
# Words that make a short phrase between two entities read as a relation.
_RELATION_WORDS = word_set(
    """
    is was are were be been being has had have won born died in of by at on for from with to
    as into near became become becomes married joined led wrote played founded located known
    called named include includes including part member son daughter wife husband father
    mother brother sister capital home near via under than after before during since until
    """
)
_LEADING_FILLER = word_set("which who whom that and or but also")
# A gap ending in "and" joins two entities in a list; neither relates to the other.
_COORDINATION = word_set("and or nor")
_POSSESSIVE_START = re.compile(r"\A['’]s\b")
_CLAUSE_BREAK = re.compile(r"[;:()\[\]\"“”]")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z]\w*")
_PARENTHETICAL = re.compile(r"\s*\([^)]*\)\s*\Z")


class PatternOpenIE(Extractor):
    """Offline, rule-based OpenIE from capitalization, quotes, dates and short verb phrases.

    Entities are runs of capitalized words (with "of", "de", "von"... inside), quoted spans,
    dates and years, and amounts with a unit; the passage title is always an entity. A
    triple links two consecutive entities of a sentence when at most six words stand between
    them and they look like a relation ("was born in", "won the"). A sentence that starts with
    he/she/it/they, or with the title, gets the title as its subject.

    What it cannot do: resolve coreference beyond that title rule ("the band", "his father"
    stay unresolved); see entities written in lowercase ("penicillin", "jazz"); tell a name
    from a capitalized common word in a heading; or normalize relations: they are surface
    text, so "was born in" and "birthplace" never meet. Precision is modest and recall far
    below an LLM's; it exists so that a graph index can be built and tested without one.
    """

    name = "pattern"

    def extract(
        self, passages: Sequence[Passage], *, show_progress: bool = False
    ) -> list[Extraction]:
        """Extract every passage in turn (fast: regexes only)."""
        bar = tqdm(passages, desc="openie", unit="passage", disable=not show_progress)
        return [self.extract_one(p) for p in bar]

    def extract_one(self, passage: Passage) -> Extraction:
        """Entities and triples of one passage, sentence by sentence."""
        title = (passage.title or "").strip()
        lowercase_words = frozenset(_LOWER_WORD.findall(passage.text))
        known = list(dict.fromkeys([title, _PARENTHETICAL.sub("", title)]))
        entities: dict[str, None] = {title: None} if title else {}
        triples: dict[Triple, None] = {}
        for sentence in _sentences(passage.text):
            mentions = find_mentions(sentence, lowercase_words, known)
            entities.update((_canonical(m.text, title), None) for m in mentions)
            triples.update((t, None) for t in sentence_triples(sentence, mentions, title))
        return Extraction(
            passage_id=passage.id,
            entities=list(entities),
            triples=list(triples),
            extractor=self.name,
        )

    def query_entities(self, text: str) -> list[str]:
        """Entity mentions of a question; [] when it has none (callers then use the question)."""
        lowercase_words = frozenset(_LOWER_WORD.findall(text))
        found = [m.text for s in split_sentences(text) for m in find_mentions(s, lowercase_words)]
        return list(dict.fromkeys(found))


def _sentences(text: str) -> list[str]:
    """Sentences of a text, never across a blank line or a Markdown heading line.

    Without this, "## Design" and the next sentence would read as one, making "Design The" a name.
    """
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        heading = line.lstrip().startswith("#")
        if heading or not line.strip():
            blocks.append([line.lstrip("# ")] if heading else [])
            blocks.append([])
        else:
            blocks[-1].append(line)
    paragraphs = (" ".join(lines) for lines in blocks if lines)
    return [s for paragraph in paragraphs for s in split_sentences(paragraph)]


def sentence_triples(sentence: str, mentions: list[Mention], title: str) -> list[Triple]:
    """Triples between consecutive mentions, plus the title for a pronoun or title subject."""
    triples: list[Triple] = []
    for left, right in pairwise(mentions):
        # A date or an amount is an object, never a subject: "1879 in Ulm" says nothing.
        if left.kind in ("date", "amount"):
            continue
        relation = relation_between(sentence[left.end : right.start])
        if relation:
            triples.append((_canonical(left.text, title), relation, right.text))
    first_word = _WORD.search(sentence)
    if title and mentions and first_word and first_word.group(0).lower() in _PRONOUNS:
        target = mentions[0]
        relation = relation_between(sentence[first_word.end() : target.start])
        if relation and target.start > first_word.start():
            triples.insert(0, (title, relation, target.text))
    return triples


def relation_between(gap: str) -> str | None:
    """The words between two entities as a relation, or None when they do not read as one."""
    if _CLAUSE_BREAK.search(gap) or _POSSESSIVE_START.match(gap):
        return None
    words = _WORD.findall(gap)
    if words and words[-1].lower() in _COORDINATION:
        return None
    while words and words[0].lower() in _LEADING_FILLER:
        words = words[1:]
    if not words or len(words) > MAX_RELATION_WORDS:
        return None
    if not any(_verb_or_preposition(w.lower()) for w in words):
        return None
    # A capitalized word in between is most likely part of a name the rules split.
    if any(w[0].isupper() for w in words):
        return None
    return " ".join(words)


def _verb_or_preposition(word: str) -> bool:
    """A crude test for a word that carries a relation: a listed word, or -ed / -s endings."""
    if word in _RELATION_WORDS:
        return True
    return len(word) > 3 and (word.endswith("ed") or (word.endswith("s") and word[-2] != "s"))


def _canonical(text: str, title: str) -> str:
    """The title as written when a mention names it, so that a passage's facts share a subject."""
    if title and text.lower() in (title.lower(), _PARENTHETICAL.sub("", title).lower()):
        return title
    return text
