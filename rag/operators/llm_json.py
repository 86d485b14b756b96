"""Tolerant extraction of a JSON object from an LLM reply: fenced, amid prose, or cut short."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_DANGLING = re.compile(r"[\s,:]+\Z")
# Prose may contain stray braces before the object; a few starting points are enough.
_MAX_STARTS = 5
_MAX_CUTS = 30


def parse_json_object(text: str) -> tuple[dict[str, Any] | None, str]:
    """Return the first JSON object found in text and how it was found.

    The mode is "json" (a complete object, possibly inside a code fence or prose), "repaired"
    (a truncated object closed by dropping the unfinished tail), or "none".
    """
    bodies = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    # strict=False: small models (even under a grammar) put raw newlines inside strings.
    decoder = json.JSONDecoder(strict=False)
    empty: dict[str, Any] | None = None
    for body in bodies:
        starts = [m.start() for m in re.finditer(r"\{", body)][:_MAX_STARTS]
        for start in starts:
            try:
                obj, _ = decoder.raw_decode(body[start:])
            except ValueError:
                continue
            if isinstance(obj, dict) and obj:
                return obj, "json"
            if isinstance(obj, dict):
                empty = obj
    if empty is not None:
        return empty, "json"
    for body in bodies:
        start = body.find("{")
        if start >= 0:
            repaired = repair_truncated(body[start:])
            if repaired is not None:
                return repaired, "repaired"
    return None, "none"


def repair_truncated(fragment: str) -> dict[str, Any] | None:
    """Close a JSON object that was cut off, dropping its unfinished last member if need be."""
    text = fragment.rstrip()
    for _ in range(_MAX_CUTS):
        try:
            obj = json.loads(_close(text), strict=False)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            return obj
        cut = text.rfind(",")
        if cut <= 0:
            return None
        text = text[:cut]
    return None


def _close(text: str) -> str:
    """Append the quote and brackets that an unfinished JSON text still needs."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    if escaped:
        text = text[:-1]
    if in_string:
        text += '"'
    else:
        text = _DANGLING.sub("", text)
    return text + "".join("}" if ch == "{" else "]" for ch in reversed(stack))
