"""Checks on a reply before anyone uses or caches it: error pages, empty text, schema misses.

Two kinds of trouble, treated differently. A reply that is clearly not an answer (an HTML
error page that a proxy returned with HTTP 200) is an error: `ReplyNotAnAnswerError`, retried
like any transient failure and never cached. A reply that is an answer of sorts but misses
its shape (empty text; a JSON call whose reply holds no object with the schema's required
keys) goes back to the operator, whose tolerant parser decides, but is not cached: a later
run asks again rather than replaying it.
"""

from __future__ import annotations

import re

from rag.llm.base import LLMResponse
from rag.llm.retry import TransientLLMError
from rag.llm.structured import JsonOutput
from rag.operators.llm_json import parse_json_object

#: Where a reply that failed its check says why (LLMResponse.raw); such replies are not cached.
INVALID = "invalid"
_SNIPPET = 120
# An HTML document, or the start of one, at the very beginning of the reply: no operator asks
# for HTML, and proxies answer with such pages ("<html><body><h1>502 Bad Gateway").
_HTML_START = re.compile(r"\A\s*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])", re.I)
_HTML_ERROR = re.compile(r"<title>\s*\d{3}\b|<h1>\s*\d{3}\s+[A-Z]|</html>\s*\Z", re.I)


class ReplyNotAnAnswerError(TransientLLMError):
    """A reply that is clearly not an answer (an HTML error page); retried, never cached."""


def not_an_answer(text: str) -> str | None:
    """Why `text` is clearly not a model's answer (it is an HTML page), or None."""
    if _HTML_START.search(text) or _HTML_ERROR.search(text):
        return f"an HTML page, not an answer: {snippet(text)}"
    return None


def check_answer(response: LLMResponse, where: str) -> None:
    """Raise ReplyNotAnAnswerError when the reply is clearly not an answer."""
    reason = not_an_answer(response.text)
    if reason is not None:
        raise ReplyNotAnAnswerError(f"{where}: {reason}")


def shape_problem(response: LLMResponse, output: JsonOutput | None) -> str | None:
    """Why the reply should not be cached (empty, or not JSON of output's shape), or None."""
    if not response.text.strip():
        return "empty reply"
    if output is None:
        return None
    obj, _mode = parse_json_object(response.text)
    if obj is None:
        return f"no JSON object in the reply: {snippet(response.text)}"
    required = output.schema.get("required", [])
    missing = [key for key in required if key not in obj]
    if missing:
        return f"the JSON reply lacks {missing} of schema {output.name!r}"
    return None


def snippet(text: str) -> str:
    """The start of a reply, on one line, for log and error messages."""
    flat = " ".join(text[: _SNIPPET * 2].split())
    return repr(flat[:_SNIPPET] + ("…" if len(flat) > _SNIPPET or len(text) > 2 * _SNIPPET else ""))
