"""The names a parsed passage's tokens stand for: entities, noun chunks, pronouns as the title."""

from __future__ import annotations

import re
from typing import Any

#: NER labels of values: typed as literals, objects of triples but never their subjects.
LITERAL_LABELS = frozenset({"DATE", "TIME", "CARDINAL", "MONEY", "QUANTITY", "PERCENT"})
# Labels that name nothing a passage is about: "first", "second".
_SKIPPED_LABELS = frozenset({"ORDINAL"})
_TITLE_PRONOUNS = frozenset(
    {"he", "she", "it", "they", "him", "her", "them", "his", "its", "their", "hers", "theirs"}
)
_LEADING = frozenset({"DET", "PRON"})
_MAX_WORDS = 8
_EDGE_PUNCT = re.compile(r"\A[\W_]+|[\W_]+\Z")
_POSSESSIVE_END = re.compile(r"\s*['’]s?\Z")
_ARTICLE = re.compile(r"\A(?:the|a|an) ")
_PARENTHETICAL = re.compile(r"\s*\([^)]*\)\s*\Z")


class Arguments:
    """Maps tokens of one parsed passage to normalized names, remembering the entities seen."""

    def __init__(self, doc: Any, title: str) -> None:
        """Index the passage's entities and noun chunks by token."""
        self.title = title.strip()
        # Doc.text joins every token on each access: read it once per passage.
        self._text: str = doc.text
        bare_title = _PARENTHETICAL.sub("", self.title)
        self._title_keys = {_key(self.title), _key(bare_title)} - {""}
        self._title_words = set(_key(self.title).split())
        self._span: dict[int, Any] = {}
        self._labels: dict[str, str] = {}
        self._entities: dict[str, None] = {self.title: None} if self.title else {}
        for chunk in doc.noun_chunks:
            for token in chunk:
                self._span[token.i] = chunk
        for ent in doc.ents:
            if ent.label_ in _SKIPPED_LABELS:
                continue
            # "two", "monthly": a count or a frequency in words names no value worth a node.
            if ent.label_ in ("CARDINAL", "DATE") and not any(c.isdigit() for c in ent.text):
                continue
            for token in ent:
                self._span[token.i] = ent
            name = self._clean(list(ent))
            if name:
                self._labels.setdefault(name, ent.label_)
                self._entities[name] = None

    def entities(self) -> list[str]:
        """The passage's named entities and dates, normalized, the title first."""
        return list(self._entities)

    def is_literal(self, name: str) -> bool:
        """Whether a name is a date, time or amount (a value, not a thing)."""
        return self._labels.get(name) in LITERAL_LABELS

    def contains(self, head: Any, token: Any) -> bool:
        """Whether `token` lies inside the span that names `head`."""
        span = self._span.get(head.i)
        return span is not None and span.start <= token.i < span.end

    def name(self, token: Any, *, keep_possessor: bool = True) -> str | None:
        """The normalized name a token stands for, or None when it names nothing usable."""
        if token.pos_ == "PRON":
            return self.title if self.title and token.lower_ in _TITLE_PRONOUNS else None
        if token.pos_ not in ("NOUN", "PROPN", "NUM", "X"):
            return None
        tokens = self._tokens(token)
        if not keep_possessor:
            tokens = [t for t in tokens if t.dep_ != "poss" and t.dep_ != "case"]
        if len(tokens) > _MAX_WORDS:
            tokens = [t for t in tokens if t.i >= token.i - 3 and t.i <= token.i]
        if self._refers_to_title(tokens, token):
            return self.title
        name = self._clean(tokens)
        if not name:
            return None
        if token.pos_ == "PROPN":
            self._entities.setdefault(name, None)
        return name

    def bare(self, token: Any) -> str:
        """The words of a token's span without determiners or possessors ("Impact Factor")."""
        return self._clean([t for t in self._tokens(token) if t.dep_ not in ("poss", "case")])

    def span_tokens(self, token: Any) -> list[Any]:
        """The tokens of the entity or noun chunk holding `token`, as written."""
        return self._tokens(token)

    def _tokens(self, token: Any) -> list[Any]:
        """The tokens of the entity or noun chunk holding `token`, else its compound words."""
        span = self._span.get(token.i)
        if span is not None:
            return list(span)
        left = [c for c in token.lefts if c.dep_ in ("compound", "amod", "nummod")]
        return sorted([*left, token], key=lambda t: t.i)

    def _refers_to_title(self, tokens: list[Any], head: Any) -> bool:
        """Whether a definite noun the title holds ("the journal" of "Journal of ...") is it."""
        if not self.title or head.pos_ != "NOUN" or not tokens:
            return False
        if tokens[0].lower_ not in ("the", "this") or any(t.pos_ == "PROPN" for t in tokens):
            return False
        return head.lower_ in self._title_words or head.lower_.rstrip("s") in self._title_words

    def _clean(self, tokens: list[Any]) -> str:
        """Drop leading articles and possessive pronouns, edge punctuation and a final 's."""
        while tokens and (tokens[0].pos_ in _LEADING or tokens[0].dep_ == "det"):
            tokens = tokens[1:]
        if not tokens:
            return ""
        text = self._text[tokens[0].idx : tokens[-1].idx + len(tokens[-1].text)]
        text = _POSSESSIVE_END.sub("", " ".join(text.split()))
        text = _EDGE_PUNCT.sub("", text)
        if not any(c.isalnum() for c in text):
            return ""
        return self.title if _key(text) in self._title_keys else text


def _key(text: str) -> str:
    """Lowercase, punctuation-free, no leading article: how a name is compared with the title."""
    return _ARTICLE.sub("", " ".join(re.sub(r"[\W_]+", " ", text.lower()).split()))
