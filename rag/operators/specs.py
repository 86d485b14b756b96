"""Typed fields that name an operator: a string checked against the registry when validated.

Settings and step fields use these instead of a fixed Literal, so an implementation registered
later is accepted wherever its role is chosen; `help_text(role)` is the word list for the
field's description (the generated reference pages show it).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from pydantic import AfterValidator

from rag.operators.registry import check_spec, describe

ReaderSpec = Annotated[str, AfterValidator(partial(check_spec, "reader"))]
OpenIESpec = Annotated[str, AfterValidator(partial(check_spec, "openie"))]
SummarizerSpec = Annotated[str, AfterValidator(partial(check_spec, "summarizer"))]
NavigatorSpec = Annotated[str, AfterValidator(partial(check_spec, "navigator"))]
ReasonerSpec = Annotated[str, AfterValidator(partial(check_spec, "reasoner"))]
DrafterSpec = Annotated[str, AfterValidator(partial(check_spec, "drafter"))]
RerankerSpec = Annotated[str, AfterValidator(partial(check_spec, "reranker"))]
RecognitionSpec = Annotated[str, AfterValidator(partial(check_spec, "recognition"))]


def help_text(role: str, what: str) -> str:
    """A field description: what the operator does, then the words it accepts."""
    return f"{what}: {describe(role)}"
