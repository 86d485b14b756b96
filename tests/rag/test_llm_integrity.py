"""Issue 20, items 7, 11, 12: garbage, trickling and huge replies from a real loopback server.

Each server loop is bounded (the stub caps what a trickle sends and stops at once on exit);
every deadline here is a second or two, so each test ends within a few seconds.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from rag.errors import LLMError
from rag.llm import ChatMessage, ManagedLLM
from rag.llm.http_limits import MIN_REPLY_BYTES, reply_budget
from rag.llm.structured import json_object, string_array
from rag.llm.validate import INVALID, not_an_answer
from rag.operators.openie import CachedExtractor, LLMOpenIE
from rag.operators.openie.prompts import NER_SYSTEM
from rag.operators.summarize import LLMSummarizer
from rag.types import Passage
from tests.rag.openai_stub_server import BAD_GATEWAY_PAGE, StubOpenAIServer, echo_reply
from tests.stub_llm import managed_stub_llm

NAMES = json_object("names", {"names": string_array(5)})
CURIE = Passage.from_text("Marie Curie was born in Warsaw.", title="Marie Curie")
HUBBLE = Passage.from_text("The Hubble telescope was launched in 1990.", title="Hubble")


def _llm(server: StubOpenAIServer, cache_dir: Path, **overrides: Any) -> ManagedLLM:
    """The managed client with short deadlines and one retry, so faults surface fast."""
    return managed_stub_llm(server, cache_dir, **{"timeout_s": 2.0, "max_retries": 1, **overrides})


def _user(text: str) -> list[ChatMessage]:
    """One user turn."""
    return [ChatMessage(role="user", content=text)]


def _fixed(text: str) -> Any:
    """A stub script that always replies `text`."""
    return lambda messages: text


# Item 7: garbage replies are errors, never cached, and the cache does not outlive the fault.


def test_html_error_page_is_an_error_and_the_healthy_server_is_asked_next_run(
    tmp_path: Path,
) -> None:
    """A 200 completion whose text is a 502 page: retried, reported, not cached."""
    with StubOpenAIServer(reply=_fixed(BAD_GATEWAY_PAGE)) as server:
        with _llm(server, tmp_path) as llm, pytest.raises(LLMError, match="HTML page"):
            llm.chat(_user("what is memrag"))
        assert server.request_count == 2  # a proxy's error page may pass: retried once
        server.reply = echo_reply  # the server is healthy again; a new run asks it
        with _llm(server, tmp_path) as llm:
            reply = llm.chat(_user("what is memrag"))
        assert reply.text == "echo: what is memrag" and not reply.cached
        assert server.request_count == 3


def test_cached_html_from_an_older_version_is_a_miss(tmp_path: Path) -> None:
    """An error page already in the cache (written before the checks) is not served."""
    from rag.llm.base import LLMResponse
    from rag.llm.cache import LLMCache, cache_key

    with StubOpenAIServer() as server, _llm(server, tmp_path) as llm:
        key = cache_key(llm.model, _user("q"), llm.params, endpoint=llm.endpoint)
        poisoned = LLMCache(tmp_path)
        poisoned.put(key, LLMResponse(text=BAD_GATEWAY_PAGE))
        poisoned.close()
        assert llm.chat(_user("q")).text == "echo: q"
        assert server.request_count == 1


def test_the_endpoint_is_part_of_the_cache_key(tmp_path: Path) -> None:
    """Two servers with one model name: each answers for itself from one cache dir."""
    with (
        StubOpenAIServer(reply=_fixed("from A")) as first,
        StubOpenAIServer(reply=_fixed("from B")) as second,
    ):
        with _llm(first, tmp_path) as llm:
            assert llm.chat(_user("q")).text == "from A"
        with _llm(second, tmp_path) as llm:
            assert llm.chat(_user("q")).text == "from B"
        with _llm(first, tmp_path) as llm:
            assert llm.chat(_user("q")).cached
        assert (first.request_count, second.request_count) == (1, 1)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("I cannot help with that.", "no JSON object"),
        ('{"people": ["Marie Curie"]}', "lacks ['names']"),
        ("   ", "empty reply"),
    ],
)
def test_off_schema_json_reply_is_used_but_not_cached(tmp_path: Path, text: str, why: str) -> None:
    """The operator's tolerant parser sees the reply; the cache never does."""
    with StubOpenAIServer(reply=_fixed(text)) as server, _llm(server, tmp_path) as llm:
        for _ in range(2):
            reply = llm.chat_json(_user("names?"), NAMES)
            assert reply.text == text and why in reply.raw[INVALID] and not reply.cached
        assert server.request_count == 2


def test_schema_conforming_json_reply_is_cached(tmp_path: Path) -> None:
    """The control: a good reply is asked for once."""
    good = json.dumps({"names": ["Marie Curie"]})
    with StubOpenAIServer(reply=_fixed(good)) as server, _llm(server, tmp_path) as llm:
        assert INVALID not in llm.chat_json(_user("names?"), NAMES).raw
        assert llm.chat_json(_user("names?"), NAMES).cached
        assert server.request_count == 1


def test_not_an_answer_spots_error_pages_only() -> None:
    """Error pages are caught; answers that merely mention HTML are not."""
    assert not_an_answer(BAD_GATEWAY_PAGE)
    assert not_an_answer("<!DOCTYPE html><html><head><title>504 Gateway Time-out</title>")
    assert not_an_answer("Result: <h1>503 Service Unavailable</h1>")
    assert not_an_answer('{"answer": "the <body> tag", "citations": [1]}') is None
    assert not_an_answer("Paris [1]") is None


class _Healing:
    """OpenIE replies: garbage until `heal()`, then entities and triples from the title."""

    def __init__(self, garbage: str) -> None:
        """Start broken, answering `garbage` to every request."""
        self.garbage: str | None = garbage

    def heal(self) -> None:
        """Answer properly from now on."""
        self.garbage = None

    def __call__(self, messages: list[dict[str, Any]]) -> str:
        """The reply to one OpenIE request."""
        if self.garbage is not None:
            return self.garbage
        title = messages[-1]["content"].split("Passage:\n", 1)[1].split("\n", 1)[0]
        if messages[0]["content"] == NER_SYSTEM:
            return json.dumps({"named_entities": [title]})
        return json.dumps({"triples": [[title, "is", "known"]]})


@pytest.mark.parametrize("garbage", ["Service temporarily unavailable", BAD_GATEWAY_PAGE])
def test_openie_against_a_garbage_server_stores_nothing_and_rebuild_extracts(
    tmp_path: Path, garbage: str
) -> None:
    """No empty extraction is cached from a broken backend; the healthy rerun extracts."""
    script = _Healing(garbage)
    with StubOpenAIServer(reply=script) as server:
        with (
            _llm(server, tmp_path / "llm") as llm,
            CachedExtractor(LLMOpenIE(llm), tmp_path) as extractor,
            pytest.raises(LLMError),
        ):
            extractor.extract([CURIE, HUBBLE])
        script.heal()
        with (
            _llm(server, tmp_path / "llm") as llm,
            CachedExtractor(LLMOpenIE(llm), tmp_path) as extractor,
        ):
            curie, hubble = extractor.extract([CURIE, HUBBLE])
    assert curie.entities == ["Marie Curie"] and hubble.triples == [("Hubble", "is", "known")]


def test_openie_keeps_a_failed_passage_out_of_the_cache(tmp_path: Path) -> None:
    """One passage with an unusable reply: used for this build, extracted again next time."""

    def script(messages: list[dict[str, Any]]) -> str:
        """Good replies, except a non-answer to the triples of Marie Curie."""
        title = messages[-1]["content"].split("Passage:\n", 1)[1].split("\n", 1)[0]
        if messages[0]["content"] == NER_SYSTEM:
            return json.dumps({"named_entities": [title]})
        return "no idea" if title == "Marie Curie" else json.dumps({"triples": []})

    with StubOpenAIServer(reply=script) as server, _llm(server, tmp_path / "llm") as llm:
        with CachedExtractor(LLMOpenIE(llm), tmp_path) as extractor:
            curie, hubble = extractor.extract([CURIE, HUBBLE])
            assert curie.failure and "openie.triples" in curie.failure and not hubble.failure
            asked = server.request_count
            extractor.extract([CURIE, HUBBLE])
        # Hubble came from the OpenIE cache; Curie's stages were asked again (the good NER
        # reply from the LLM cache, the unusable triples reply from the server).
        assert server.request_count == asked + 1


def test_llm_summary_never_stores_an_error_page(tmp_path: Path) -> None:
    """A tree summary from an error-page server fails; no node text becomes the page."""
    with (
        StubOpenAIServer(reply=_fixed(BAD_GATEWAY_PAGE)) as server,
        _llm(server, tmp_path) as llm,
        pytest.raises(LLMError, match="HTML page"),
    ):
        LLMSummarizer(llm).summarize([["Marie Curie was born in Warsaw."]])


# Item 11: one deadline per request, however the bytes trickle.


def test_trickling_server_is_abandoned_at_the_deadline(tmp_path: Path) -> None:
    """A byte every 0.2 s never trips a per-read timeout, but the 1 s total deadline ends it."""
    with StubOpenAIServer(mode="trickle", trickle_s=0.2) as server:
        with _llm(server, tmp_path, timeout_s=1.0, max_retries=0) as llm:
            start = time.perf_counter()
            with pytest.raises(LLMError, match=r"no reply within 1\.0s"):
                llm.chat(_user("slowly"))
            elapsed = time.perf_counter() - start
        assert 0.9 < elapsed < 2.5
        assert 0 < server.bytes_sent < 20  # far from the whole body


# Item 12: a reply far past max_tokens is cut off, reported and not cached.


@pytest.mark.parametrize("announce_length", [True, False])
def test_huge_reply_is_an_error_and_not_cached(tmp_path: Path, announce_length: bool) -> None:
    """5 MB for max_tokens=512: stopped at the 1 MiB budget, not retried, asked again later."""
    with StubOpenAIServer(mode="huge", announce_length=announce_length) as server:
        with _llm(server, tmp_path, max_tokens=512, max_retries=2) as llm:
            for _ in range(2):
                start = time.perf_counter()
                with pytest.raises(LLMError, match="larger than 1048576 bytes") as caught:
                    llm.chat(_user("everything"))
                assert time.perf_counter() - start < 2.0
                assert "max_tokens=512" in str(caught.value)
        # Not retried (the server would do it again), not cached (the next call asks again).
        assert server.request_count == 2


def test_reply_budget_grows_with_max_tokens() -> None:
    """1 MiB at least; more for large max_tokens; an explicit limit wins."""
    assert reply_budget(512, None) == MIN_REPLY_BYTES
    assert reply_budget(100_000, None) == 3_200_000
    assert reply_budget(512, 4096) == 4096
