"""The structured-output forms OpenAI-compatible servers accept, and falling back among them.

Servers differ: OpenAI and vLLM take `response_format` of type `json_schema`;
llama-cpp-python's server rejects that (HTTP 500) but takes `json_object` with a `schema`;
llama.cpp servers take a GBNF `grammar`. A client tries them in that order and keeps the
first that works.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from typing import Any

from rag.errors import LLMError
from rag.llm.structured import JsonOutput

logger = logging.getLogger(__name__)

#: Tried in this order; "grammar" only where llama-cpp-python can build the GBNF text.
STRUCTURED_VARIANTS = ("json_schema", "json_object", "grammar")
# Statuses that say nothing about the request's format (auth, routing, rate limits).
_NOT_ABOUT_FORMAT = frozenset({401, 403, 404, 408, 409, 429})
_FORMAT_WORDS = re.compile(
    r"response_format|json_schema|json_object|grammar|schema|not supported|unsupported"
    r"|unrecognized|unknown (?:field|parameter|argument)|extra (?:inputs|fields)",
    re.IGNORECASE,
)


class UnsupportedFormatError(LLMError):
    """The server rejected the structured-output form of a request."""


def structured_request(variant: str, output: JsonOutput) -> dict[str, Any]:
    """The extra request fields of one structured-output form."""
    if variant == "json_schema":
        spec = {"name": output.name, "schema": output.schema, "strict": True}
        return {"response_format": {"type": "json_schema", "json_schema": spec}}
    if variant == "json_object":
        return {"response_format": {"type": "json_object", "schema": output.schema}}
    if variant == "grammar":
        # Not an OpenAI parameter: the client must pass it through as an extra body field.
        return {"extra_body": {"grammar": output.grammar()}}
    raise ValueError(f"unknown structured-output form {variant!r}")


def rejects_format(status: int, message: str) -> bool:
    """Whether an HTTP error says the server does not take this structured-output form."""
    if not 400 <= status < 600 or status in _NOT_ABOUT_FORMAT:
        return False
    return bool(_FORMAT_WORDS.search(message))


class StructuredVariants:
    """Which forms a client has left to try; shared by its threads."""

    def __init__(self) -> None:
        """Start with every form this installation can build."""
        grammar_ok = importlib.util.find_spec("llama_cpp") is not None
        self._left = [v for v in STRUCTURED_VARIANTS if v != "grammar" or grammar_ok]
        self._lock = threading.Lock()

    @property
    def current(self) -> str | None:
        """The form to send now, or None when the server took none of them."""
        with self._lock:
            return self._left[0] if self._left else None

    def reject(self, variant: str | None, reason: str, where: str) -> None:
        """Drop a form the server refused, saying what comes next."""
        with self._lock:
            if variant in self._left:
                self._left.remove(variant)
            following = self._left[0] if self._left else "a plain request (prompt-only JSON)"
        logger.warning(
            "%s: server rejects structured output as %s (%s); using %s",
            where,
            variant,
            reason[:200],
            following,
        )
