"""Coarse part-of-speech tags by array lookups, in place of spaCy's attribute ruler.

In en_core_web_sm the attribute ruler maps the tagger's fine tags to coarse ones (NN → NOUN,
"was"/VBD → AUX) with a token Matcher over ~180 patterns; on a passage corpus it costs about
as much as the parser. The triple rules read only the coarse tag, so `CoarseTagger` compiles
the ruler's own POS-setting patterns into numpy masks over a Doc's arrays and applies them in
the ruler's order (a later pattern wins, as in the ruler). It reproduces the ruler's POS
exactly for the pattern forms it knows (equality, IN, NOT_IN, booleans on TAG, LOWER, DEP and
IS_SPACE; patterns of several tokens); for any other form `compile_ruler` returns None and the
caller keeps the ruler. Lemmas and morphology, which the ruler also sets, are left unset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_ATTRIBUTES = ("TAG", "LOWER", "DEP", "IS_SPACE")


@dataclass(frozen=True)
class _Condition:
    """One token's constraint on one attribute: values it must (or must not) take."""

    column: int
    values: np.ndarray
    negate: bool


@dataclass(frozen=True)
class _Pattern:
    """A compiled pattern: per-token conditions, the token it tags and the tag it sets."""

    tokens: tuple[tuple[_Condition, ...], ...]
    target: int
    pos: int


class CoarseTagger:
    """Sets `token.pos` on Docs the parser has seen, as the compiled ruler patterns say."""

    def __init__(self, patterns: list[_Pattern]) -> None:
        """Keep the compiled patterns, in the ruler's order."""
        self.patterns = patterns

    def __call__(self, docs: list[Any]) -> list[Any]:
        """Tag a batch of Docs in place, one pass of array masks over all their tokens."""
        from spacy.attrs import DEP, IS_SPACE, LOWER, POS, TAG

        tagged = [d for d in docs if len(d)]
        if not tagged:
            return docs
        columns = np.concatenate([d.to_array([TAG, LOWER, DEP, IS_SPACE]) for d in tagged])
        columns = columns.astype(np.uint64)
        pos = np.concatenate([d.to_array([POS]) for d in tagged]).astype(np.uint64)
        lengths = np.array([len(d) for d in tagged])
        doc_of = np.repeat(np.arange(len(tagged)), lengths)
        n = len(pos)
        for pattern in self.patterns:
            width = len(pattern.tokens)
            if width > n:
                continue
            # A match of several tokens must lie inside one Doc.
            starts = doc_of[: n - width + 1] == doc_of[width - 1 :]
            for offset, conditions in enumerate(pattern.tokens):
                window = columns[offset : offset + n - width + 1]
                for condition in conditions:
                    values = window[:, condition.column]
                    if len(condition.values) == 1:
                        hit = values == condition.values[0]
                    else:
                        hit = np.isin(values, condition.values)
                    starts &= ~hit if condition.negate else hit
            pos[np.flatnonzero(starts) + pattern.target] = pattern.pos
        ends = np.cumsum(lengths)
        for doc, end, length in zip(tagged, ends, lengths, strict=True):
            doc.from_array([POS], pos[end - length : end].reshape(-1, 1))
        return docs


def compile_ruler(ruler: Any) -> CoarseTagger | None:
    """A CoarseTagger for an AttributeRuler's POS patterns, or None for a form it cannot read."""
    from spacy.parts_of_speech import IDS

    strings = ruler.vocab.strings
    compiled: list[_Pattern] = []
    for entry in ruler.patterns:
        pos_name = entry["attrs"].get("POS")
        if pos_name is None:
            continue
        for tokens in entry["patterns"]:
            pattern = _compile(tokens, int(entry.get("index", 0)), IDS[pos_name], strings)
            if pattern is None:
                logger.info("attribute ruler pattern %r has a form not compiled", tokens)
                return None
            compiled.append(pattern)
    return CoarseTagger(compiled)


def _compile(tokens: list[dict[str, Any]], index: int, pos: int, strings: Any) -> _Pattern | None:
    """One ruler pattern as conditions on array columns, or None if a part is not understood."""
    compiled_tokens = []
    for token in tokens:
        conditions = []
        for attribute, spec in token.items():
            if attribute not in _ATTRIBUTES:
                return None
            column = _ATTRIBUTES.index(attribute)
            condition = _condition(column, spec, attribute == "IS_SPACE", strings)
            if condition is None:
                return None
            conditions.append(condition)
        compiled_tokens.append(tuple(conditions))
    target = index if index >= 0 else len(tokens) + index
    if not 0 <= target < len(tokens):
        return None
    return _Pattern(tokens=tuple(compiled_tokens), target=target, pos=pos)


def _condition(column: int, spec: Any, boolean: bool, strings: Any) -> _Condition | None:
    """Equality, IN or NOT_IN on one column as the array values to test, else None."""

    def value(v: Any) -> int | None:
        if boolean:
            return int(v) if isinstance(v, bool) else None
        # The empty string stands for "unset", whose array value is 0.
        return (0 if v == "" else int(strings[v])) if isinstance(v, str) else None

    if isinstance(spec, dict):
        if len(spec) != 1 or next(iter(spec)) not in ("IN", "NOT_IN"):
            return None
        (op, items), = spec.items()  # fmt: skip
        values = [value(v) for v in items]
        if any(v is None for v in values):
            return None
        return _Condition(column, np.array(values, dtype=np.uint64), negate=op == "NOT_IN")
    single = value(spec)
    if single is None:
        return None
    return _Condition(column, np.array([single], dtype=np.uint64), negate=False)
