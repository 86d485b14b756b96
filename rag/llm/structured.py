"""Structured output: the JSON shape an operator asks for, and what a reply is held to.

An operator that wants JSON names a `JsonOutput` (a JSON schema whose lists carry an item
limit). Backends that can constrain decoding use it (a llama.cpp grammar, a server's
`response_format`); the rest ignore it and rely on the prompt. Either way the parsed reply goes
through `limit_lists`, because small models repeat list items until the token budget runs out
and servers that ignore the schema give no item limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, eq=False)
class JsonOutput:
    """A named JSON schema for one reply; `key` identifies it in cache keys."""

    name: str
    schema: dict[str, Any] = field(repr=False)

    @property
    def key(self) -> str:
        """The schema as canonical JSON, so equal schemas give equal cache keys."""
        return json.dumps(self.schema, sort_keys=True, separators=(",", ":"))

    def grammar(self) -> str:
        """The schema as a llama.cpp GBNF grammar (needs llama-cpp-python)."""
        from llama_cpp.llama_grammar import json_schema_to_gbnf

        order = list(self.schema.get("properties", {}))
        return str(json_schema_to_gbnf(json.dumps(self.schema), prop_order=order))


def json_object(name: str, properties: dict[str, Any]) -> JsonOutput:
    """An object with exactly these properties, all required, in this order."""
    return JsonOutput(
        name,
        {
            "type": "object",
            "properties": properties,
            "required": list(properties),
            "additionalProperties": False,
        },
    )


def array_of(items: dict[str, Any], max_items: int, min_items: int = 0) -> dict[str, Any]:
    """A list schema with an item limit."""
    if max_items < max(min_items, 1):
        raise ValueError(f"max_items must be at least max(min_items, 1), got {max_items}")
    return {"type": "array", "items": items, "minItems": min_items, "maxItems": max_items}


def string_array(max_items: int) -> dict[str, Any]:
    """A list of up to max_items strings."""
    return array_of({"type": "string"}, max_items)


def number_choice(count: int) -> dict[str, Any]:
    """An integer from 1 to count, as in 'cite passage n' (a grammar cannot go out of range)."""
    return {"type": "integer", "enum": list(range(1, count + 1))}


def limit_lists(value: Any, schema: dict[str, Any]) -> tuple[Any, int]:
    """`value` with every list the schema describes de-duplicated and cut to its maxItems.

    Returns the cleaned value and how many items were dropped. Only lists that are an
    object's properties are touched, and their items are compared whole, never cut: a
    four-part "triple" stays malformed for the operator's own checks to drop.
    """
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        dropped = 0
        cleaned = dict(value)
        for name, sub in schema["properties"].items():
            if name in cleaned:
                cleaned[name], n = limit_lists(cleaned[name], sub)
                dropped += n
        return cleaned, dropped
    if isinstance(value, list) and schema.get("type") == "array":
        kept: list[Any] = []
        seen: set[str] = set()
        dropped = 0
        for item in value:
            marker = json.dumps(_folded(item), sort_keys=True, default=str)
            if marker in seen:
                dropped += 1
                continue
            seen.add(marker)
            kept.append(item)
        limit = schema.get("maxItems")
        if isinstance(limit, int) and len(kept) > limit:
            dropped += len(kept) - limit
            kept = kept[:limit]
        return kept, dropped
    return value, 0


def _folded(item: Any) -> Any:
    """Case- and space-folded strings, so "Paris" and " paris" count as one item."""
    if isinstance(item, str):
        return " ".join(item.lower().split())
    if isinstance(item, list):
        return [_folded(x) for x in item]
    return item
