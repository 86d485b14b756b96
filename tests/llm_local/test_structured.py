"""Structured-output helpers: list limits, de-duplication, and telling a refused format."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from rag.llm.base import LLM, ChatMessage, LLMResponse
from rag.llm.server_formats import rejects_format, structured_request
from rag.llm.structured import array_of, json_object, limit_lists, number_choice, string_array
from rag.operators.llm_json import parse_json_object
from rag.operators.reader.llm import LLMReader
from rag.types import Passage

TRIPLES = json_object(
    "triples",
    {"triples": array_of(array_of({"type": "string"}, 3, min_items=3), 2), "note": {}},
)


def test_limit_lists_drops_repeats_and_surplus_but_never_cuts_an_item() -> None:
    reply: dict[str, list[Any]] = {
        "triples": [
            ["Ada", "met", "Babbage"],
            [" ada", "MET", "babbage "],  # the same triple, differently written
            ["Ada", "born in", "London", "1815"],  # malformed: kept whole for the operator
            ["Ada", "wrote", "notes"],
        ],
        "note": ["x", "x"],  # not a list the schema describes: untouched
    }
    cleaned, dropped = limit_lists(reply, TRIPLES.schema)
    assert cleaned["triples"] == [["Ada", "met", "Babbage"], ["Ada", "born in", "London", "1815"]]
    assert dropped == 2  # one repeat, one past maxItems
    assert cleaned["note"] == ["x", "x"]
    assert reply["triples"][1] == [" ada", "MET", "babbage "]  # the input is not modified


def test_schemas_carry_item_limits_and_citation_ranges() -> None:
    assert string_array(4) == {
        "type": "array",
        "items": {"type": "string"},
        "minItems": 0,
        "maxItems": 4,
    }
    assert number_choice(3) == {"type": "integer", "enum": [1, 2, 3]}
    with pytest.raises(ValueError, match="max_items"):
        array_of({"type": "string"}, 0)
    assert TRIPLES.schema["required"] == ["triples", "note"]


@pytest.mark.parametrize(
    ("status", "message", "refused"),
    [
        (500, "('body', 'response_format', 'type'): Input should be 'text' or 'json_object'", True),
        (400, "Unrecognized request argument supplied: grammar", True),
        (422, "json_schema is not supported by this model", True),
        (500, "overloaded", False),  # a transient failure, retried as such
        (429, "rate limit on response_format requests", False),
        (401, "invalid api key for json_schema", False),
    ],
)
def test_a_refused_format_is_told_from_other_failures(
    status: int, message: str, refused: bool
) -> None:
    assert rejects_format(status, message) is refused


def test_each_form_puts_the_schema_where_its_servers_read_it() -> None:
    out = json_object("colors", {"colors": string_array(2)})
    schema = structured_request("json_schema", out)["response_format"]
    assert schema == {
        "type": "json_schema",
        "json_schema": {"name": "colors", "schema": out.schema, "strict": True},
    }
    assert structured_request("json_object", out) == {
        "response_format": {"type": "json_object", "schema": out.schema}
    }
    if importlib.util.find_spec("llama_cpp") is not None:
        grammar = structured_request("grammar", out)["extra_body"]["grammar"]
        assert "root ::=" in grammar and "colors" in grammar


def test_a_raw_newline_inside_a_string_still_parses_as_json() -> None:
    """SmolLM2 under llama.cpp's json_object grammar wrote a bare newline inside a string."""
    obj, mode = parse_json_object('{"answer": "); \n{","citations":[1, 2]}')
    assert (obj, mode) == ({"answer": "); \n{", "citations": [1, 2]}, "json")
    obj, mode = parse_json_object('{"answer": "two\nlines", "citations": [1, ')
    assert (obj, mode) == ({"answer": "two\nlines", "citations": [1]}, "repaired")


class _Echo(LLM):
    """Replies with one fixed text, as a model that copies its prompt would."""

    model = "echo"

    def __init__(self, text: str) -> None:
        """Keep the reply."""
        self.text = text

    @property
    def params(self) -> dict[str, Any]:
        """No decoding happens."""
        return {}

    def chat(self, messages: list[ChatMessage], *, stage: str = "default") -> LLMResponse:
        """The fixed reply."""
        return LLMResponse(text=self.text)


def test_reader_takes_an_echoed_placeholder_for_no_answer(caplog: pytest.LogCaptureFixture) -> None:
    """Gemma 270M answered 6 of 20 MuSiQue questions with the prompt's own placeholder."""
    reply = '{"answer": "<the answer in as few words as possible>", "citations": [1]}'
    passage = Passage.from_text("The Hubble Space Telescope was launched in 1990.", title="Hubble")
    reading = LLMReader(_Echo(reply)).read("When was Hubble launched?", [passage])
    assert (reading.answer, reading.citations) == ("", [])
    assert reading.details["fallback"] == "echoed the prompt's placeholder"
    assert reading.reader == "llm:echo" and "placeholder" in caplog.text
