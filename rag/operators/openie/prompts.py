"""Prompts for two-stage LLM OpenIE: named entities first, then triples about them."""

from __future__ import annotations

import json

from rag.llm.base import ChatMessage
from rag.llm.structured import JsonOutput, array_of, json_object

#: Item limits of the replies: small models otherwise repeat an item until the budget ends.
MAX_ENTITIES = 20
MAX_TRIPLES = 20
_NAME = {"type": "string", "minLength": 1, "maxLength": 80}
NER_OUTPUT: JsonOutput = json_object(
    "named_entities", {"named_entities": array_of(_NAME, MAX_ENTITIES, min_items=1)}
)
TRIPLES_OUTPUT: JsonOutput = json_object(
    "triples",
    {"triples": array_of(array_of(_NAME, 3, min_items=3), MAX_TRIPLES, min_items=1)},
)

NER_SYSTEM = (
    "You find the named entities in a passage: people, places, organizations, works, events, "
    "dates, years and quantities, written exactly as in the passage. Reply with one JSON "
    'object and nothing else: {"named_entities": ["...", "..."]}.'
)
TRIPLES_SYSTEM = (
    "You turn a passage into facts for a knowledge graph. Each fact is a triple "
    "[subject, relation, object] with a short relation phrase. Every triple must contain at "
    "least one of the listed named entities as its subject or object. Replace pronouns such "
    "as he, she, it or they with the name they stand for. Reply with one JSON object and "
    'nothing else: {"triples": [["subject", "relation", "object"], ...]}.'
)

_EXAMPLE_PASSAGE = (
    "Lake Tahoe\nLake Tahoe is a freshwater lake in the Sierra Nevada. It straddles the "
    "border between California and Nevada, and it was formed about 2 million years ago."
)
_EXAMPLE_ENTITIES = ["Lake Tahoe", "Sierra Nevada", "California", "Nevada", "2 million years"]
_EXAMPLE_TRIPLES = [
    ["Lake Tahoe", "is a freshwater lake in", "Sierra Nevada"],
    ["Lake Tahoe", "straddles the border of", "California"],
    ["Lake Tahoe", "straddles the border of", "Nevada"],
    ["Lake Tahoe", "was formed", "2 million years ago"],
]


def ner_messages(passage_text: str) -> list[ChatMessage]:
    """The named-entity conversation: instructions, one worked example, then the passage."""
    return [
        ChatMessage(role="system", content=NER_SYSTEM),
        ChatMessage(role="user", content=_ner_user(_EXAMPLE_PASSAGE)),
        ChatMessage(role="assistant", content=json.dumps({"named_entities": _EXAMPLE_ENTITIES})),
        ChatMessage(role="user", content=_ner_user(passage_text)),
    ]


def triples_messages(passage_text: str, entities: list[str]) -> list[ChatMessage]:
    """The triple conversation: instructions, one worked example, then passage and entities."""
    return [
        ChatMessage(role="system", content=TRIPLES_SYSTEM),
        ChatMessage(role="user", content=_triples_user(_EXAMPLE_PASSAGE, _EXAMPLE_ENTITIES)),
        ChatMessage(role="assistant", content=json.dumps({"triples": _EXAMPLE_TRIPLES})),
        ChatMessage(role="user", content=_triples_user(passage_text, entities)),
    ]


def _ner_user(passage_text: str) -> str:
    """The user turn of the entity stage."""
    return f"Passage:\n{passage_text.strip()}\n\nJSON:"


def _triples_user(passage_text: str, entities: list[str]) -> str:
    """The user turn of the triple stage."""
    listed = json.dumps({"named_entities": entities}, ensure_ascii=False)
    return f"Passage:\n{passage_text.strip()}\n\nNamed entities: {listed}\n\nJSON:"
