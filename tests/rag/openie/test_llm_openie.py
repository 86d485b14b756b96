"""LLMOpenIE against a real local OpenAI-compatible HTTP server with scripted replies."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from rag.errors import LLMError
from rag.operators.openie import LLMOpenIE
from rag.operators.openie.prompts import NER_SYSTEM
from rag.types import Passage

CURIE = Passage.from_text(
    "Marie Curie won the Nobel Prize in Chemistry in 1911. She was born in Warsaw.",
    title="Marie Curie",
)
HUBBLE = Passage.from_text(
    "The Hubble Space Telescope was launched aboard Space Shuttle Discovery in 1990.",
    title="Hubble",
)


class Script:
    """Replies chosen by stage (from the system prompt) and by the passage's title."""

    def __init__(self, ner: dict[str, str], triples: dict[str, str]) -> None:
        """Map a passage title to the raw reply text of each stage."""
        self.ner, self.triples = ner, triples
        self.triple_prompts: list[str] = []

    def __call__(self, messages: list[dict[str, Any]]) -> str:
        """The scripted reply to one request."""
        last = messages[-1]["content"]
        title = last.split("Passage:\n", 1)[1].split("\n", 1)[0]
        if messages[0]["content"] == NER_SYSTEM:
            return self.ner.get(title, '{"named_entities": []}')
        self.triple_prompts.append(last)
        return self.triples.get(title, '{"triples": []}')


def _fenced(obj: Any) -> str:
    """A reply that wraps JSON in a code fence after some chatter."""
    return f"Sure! Here it is:\n```json\n{json.dumps(obj)}\n```\nHope this helps."


def test_two_stages_with_fenced_and_prose_json(make_stub: Any) -> None:
    """Entities from a fenced reply feed the triple prompt; triples come from prose-wrapped JSON."""
    script = Script(
        ner={"Marie Curie": _fenced({"named_entities": ["Marie Curie", "Nobel Prize", "1911"]})},
        triples={
            "Marie Curie": 'The triples are {"triples": [["Marie Curie", "won", "Nobel Prize"], '
            '["Marie Curie", "born in", "Warsaw"]]} as requested.'
        },
    )
    server, llm = make_stub(script)
    extractor = LLMOpenIE(llm)
    assert extractor.name == "llm:stub-model"
    [found] = extractor.extract([CURIE])
    assert found.passage_id == CURIE.id and found.extractor == "llm:stub-model"
    assert found.entities == ["Marie Curie", "Nobel Prize", "1911"]
    assert found.triples == [
        ("Marie Curie", "won", "Nobel Prize"),
        ("Marie Curie", "born in", "Warsaw"),
    ]
    assert '"Marie Curie", "Nobel Prize", "1911"' in script.triple_prompts[0]
    assert server.request_count == 2
    assert llm.metrics.stage("openie.ner").calls == 1
    assert llm.metrics.stage("openie.triples").calls == 1


def test_truncated_reply_is_repaired_and_malformed_triples_dropped(
    make_stub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A reply cut mid-triple keeps its complete triples; bad ones are dropped and counted."""
    script = Script(
        ner={"Marie Curie": '{"named_entities": ["Marie Curie", "Warsaw", "Nobel Prize", "19'},
        triples={
            "Marie Curie": '{"triples": [["Marie Curie", "won", "Nobel Prize"], ["Marie Curie",'
            ' "born in", 1867], ["Warsaw"], ["", "is", "x"], ["a", "b", "c", "d"], '
            '["Marie Curie", "was born in", "War'
        },
    )
    _, llm = make_stub(script)
    with caplog.at_level(logging.INFO, logger="rag.operators.openie"):
        [found] = LLMOpenIE(llm).extract([CURIE])
    assert found.entities == ["Marie Curie", "Warsaw", "Nobel Prize", "19"]
    assert found.triples == [
        ("Marie Curie", "won", "Nobel Prize"),
        ("Marie Curie", "born in", "1867"),
        ("Marie Curie", "was born in", "War"),
    ]
    assert f"passage {CURIE.id}: dropped 3 malformed triple(s)" in caplog.text
    assert "repaired a truncated JSON reply" in caplog.text


def test_garbage_reply_gives_an_empty_extraction(
    make_stub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """No JSON at all: nothing is kept for that stage, the reason is logged, and the
    extraction is marked failed (so no cache keeps it)."""
    script = Script(
        ner={"Marie Curie": "I am sorry, I cannot help with that."},
        triples={"Marie Curie": '{"facts": [["Marie Curie", "won", "Nobel Prize"]]}'},
    )
    _, llm = make_stub(script)
    with caplog.at_level(logging.WARNING):
        found, healthy = LLMOpenIE(llm).extract([CURIE, HUBBLE])
    assert (found.entities, found.triples) == ([], [])
    assert found.failure is not None and "openie.ner" in found.failure
    assert healthy.failure is None
    assert "1 of 2 passage(s) got an unusable reply" in caplog.text
    assert "openie.ner" in caplog.text and "no JSON object in reply" in caplog.text
    assert "I am sorry" in caplog.text
    assert "openie.triples" in caplog.text and "reply has no 'triples' list" in caplog.text


def test_every_passage_failing_is_a_broken_backend(make_stub: Any) -> None:
    """Unusable replies for all passages of a call: an LLMError, not empty extractions."""
    _, llm = make_stub(lambda messages: "Service temporarily unavailable")
    with pytest.raises(LLMError, match="no usable reply for any of 2 passage"):
        LLMOpenIE(llm).extract([CURIE, HUBBLE])


def test_many_passages_keep_their_order(make_stub: Any) -> None:
    """Passages run concurrently, results come back in input order."""
    passages = [CURIE, HUBBLE] * 3 + [
        Passage.from_text(f"Text {i}.", title=f"T{i}") for i in range(4)
    ]
    script = Script(
        ner={
            "Marie Curie": '{"named_entities": ["Marie Curie"]}',
            "Hubble": '{"named_entities": ["Hubble"]}',
        },
        triples={"Hubble": '{"triples": [["Hubble", "launched in", "1990"]]}'},
    )
    _, llm = make_stub(script)
    found = LLMOpenIE(llm, max_workers=4).extract(passages, show_progress=True)
    assert [f.passage_id for f in found] == [p.id for p in passages]
    assert found[1].triples == [("Hubble", "launched in", "1990")]
    assert found[2].entities == ["Marie Curie"]
    assert LLMOpenIE(llm).extract([]) == []


def test_query_entities_use_the_ner_stage(make_stub: Any) -> None:
    """A question goes through the entity prompt only."""
    script = Script(
        ner={"Who won the 1911 Nobel Prize?": '{"named_entities": ["1911", "Nobel Prize"]}'},
        triples={},
    )
    server, llm = make_stub(script)
    assert LLMOpenIE(llm).query_entities("Who won the 1911 Nobel Prize?") == ["1911", "Nobel Prize"]
    assert server.request_count == 1
    assert llm.metrics.stage("openie.ner").calls == 1
