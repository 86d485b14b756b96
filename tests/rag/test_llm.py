"""The LLM layer against a real local OpenAI-compatible server and a tiny offline model."""

from __future__ import annotations

import importlib.util
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from rag.errors import ConfigError, LLMError
from rag.llm import ChatMessage, ManagedLLM, TransformersLLM, make_llm
from rag.llm.structured import json_object, string_array
from rag.settings import LLMSettings
from tests.rag.openai_stub_server import StubOpenAIServer, echo_reply
from tests.stub_llm import managed_stub_llm

FAST_BACKOFF = 0.001


def _openai_llm(server: StubOpenAIServer, cache_dir: Path, **overrides: Any) -> ManagedLLM:
    """The managed client with room for retries (the tests count them)."""
    return managed_stub_llm(server, cache_dir, **{"timeout_s": 5.0, "max_retries": 3, **overrides})


def _ask(text: str) -> list[ChatMessage]:
    """A two-turn conversation ending in a user message."""
    return [ChatMessage(role="system", content="be brief"), ChatMessage(role="user", content=text)]


def test_provider_none_gives_no_llm(tmp_path: Path) -> None:
    """provider 'none' means the offline operators: no client at all."""
    assert make_llm(LLMSettings(provider="none"), tmp_path) is None


def test_missing_model_is_a_config_error(tmp_path: Path) -> None:
    """A provider without a model name is a settings error naming llm.model."""
    with pytest.raises(ConfigError, match=r"llm\.model"):
        make_llm(LLMSettings(provider="openai", base_url="http://127.0.0.1:1/v1"), tmp_path)


def test_openai_endpoint_without_key_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """api.openai.com without a key fails early, naming the variable."""
    monkeypatch.delenv("MEMRAG_TEST_NO_SUCH_KEY", raising=False)
    settings = LLMSettings(provider="openai", model="gpt-x", api_key_env="MEMRAG_TEST_NO_SUCH_KEY")
    with pytest.raises(ConfigError, match="MEMRAG_TEST_NO_SUCH_KEY"):
        make_llm(settings, tmp_path)


def test_end_to_end_completion_records_tokens(tmp_path: Path) -> None:
    """A call goes over HTTP with pinned parameters and reports the server's usage."""
    with StubOpenAIServer() as server, _openai_llm(server, tmp_path) as llm:
        reply = llm.chat(_ask("what is memrag"), stage="generate")
        assert reply.text == "echo: what is memrag"
        assert (reply.prompt_tokens, reply.completion_tokens) == (5, 4)
        assert not reply.cached
        assert reply.raw["finish_reason"] == "stop"
        sent = server.bodies[0]
        assert sent["model"] == "stub-model"
        assert (sent["temperature"], sent["max_tokens"], sent["seed"]) == (0.0, 512, 0)
        assert sent["messages"][0] == {"role": "system", "content": "be brief"}
        assert llm.params == {"temperature": 0.0, "max_tokens": 512, "seed": 0}


def test_cache_hit_then_miss_when_a_parameter_changes(tmp_path: Path) -> None:
    """Identical calls hit the disk cache; a changed parameter or cache=False misses."""
    with StubOpenAIServer() as server:
        with _openai_llm(server, tmp_path) as llm:
            first = llm.chat(_ask("hello"))
            second = llm.chat(_ask("hello"))
            assert server.request_count == 1
            assert second.cached and second.text == first.text
            assert second.prompt_tokens == first.prompt_tokens
            assert llm.metrics.stage("default").cache_hits == 1
        # A new client over the same folder still hits: the cache is on disk.
        with _openai_llm(server, tmp_path) as llm:
            assert llm.chat(_ask("hello")).cached
            assert server.request_count == 1
        with _openai_llm(server, tmp_path, max_tokens=7) as llm:
            assert not llm.chat(_ask("hello")).cached
            assert server.request_count == 2
        with _openai_llm(server, tmp_path, cache=False) as llm:
            llm.chat(_ask("hello"))
            assert server.request_count == 3


def test_retry_recovers_from_transient_500s(tmp_path: Path) -> None:
    """Two HTTP 500s, then success: three requests, two counted errors."""
    with StubOpenAIServer(fail_first=2) as server, _openai_llm(server, tmp_path) as llm:
        reply = llm.chat(_ask("again"), stage="read")
        assert reply.text == "echo: again"
        assert server.request_count == 3
        stats = llm.metrics.stage("read")
        assert (stats.calls, stats.errors) == (3, 2)


def test_gives_up_after_max_retries_on_permanent_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A server that always fails gets max_retries + 1 tries, then an LLMError."""
    with (
        StubOpenAIServer(fail_first=10**6) as server,
        _openai_llm(server, tmp_path, max_retries=2) as llm,
    ):
        with (
            caplog.at_level(logging.WARNING),
            pytest.raises(LLMError, match="gave up after 3 attempts") as info,
        ):
            llm.chat(_ask("doomed"))
        assert server.request_count == 3
        assert "stub-model" in str(info.value) and server.base_url in str(info.value)
        assert "HTTP 500" in str(info.value)
        assert "retrying" in caplog.text


def test_client_error_is_not_retried(tmp_path: Path) -> None:
    """HTTP 404 is permanent: one request, then an LLMError."""
    with StubOpenAIServer() as server:
        llm = _openai_llm(server, tmp_path, base_url=server.base_url + "/nowhere")
        with llm, pytest.raises(LLMError, match="HTTP 404"):
            llm.chat(_ask("lost"))
        assert server.request_count == 1


@pytest.mark.parametrize("mode", ["garbage", "garbage_html", "no_choices", "empty_choices"])
def test_malformed_reply_is_an_error_not_text(
    tmp_path: Path, mode: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A 200 that is not a chat completion becomes a logged LLMError."""
    with StubOpenAIServer(mode=mode) as server, _openai_llm(server, tmp_path) as llm:
        with caplog.at_level(logging.ERROR), pytest.raises(LLMError, match="malformed reply"):
            llm.chat(_ask("anything"))
        assert "malformed reply" in caplog.text
        assert llm.metrics.stage("default").errors == 1
        # Nothing unusable was cached: the server is asked again.
        with pytest.raises(LLMError):
            llm.chat(_ask("anything"))
        assert server.request_count == 2


def test_slow_reply_times_out_then_llm_error(tmp_path: Path) -> None:
    """A server slower than timeout_s is abandoned, retried, then reported."""
    with StubOpenAIServer(delay_s=10.0) as server:
        with _openai_llm(server, tmp_path, timeout_s=0.2, max_retries=1) as llm:
            start = time.perf_counter()
            with pytest.raises(LLMError, match=r"no reply within 0\.2s"):
                llm.chat(_ask("slowly"))
            assert time.perf_counter() - start < 3.0
        assert server.request_count == 2


def test_concurrency_limit_is_respected(tmp_path: Path) -> None:
    """Never more than max_concurrency requests in flight, order kept in batches."""
    with (
        StubOpenAIServer(delay_s=0.15) as server,
        _openai_llm(server, tmp_path, max_concurrency=2, cache=False) as llm,
    ):
        questions = [f"question {i}" for i in range(6)]
        replies = llm.batch_chat([_ask(q) for q in questions], stage="draft")
        assert [r.text for r in replies] == [f"echo: {q}" for q in questions]
        assert server.max_in_flight == 2
        # Callers on their own threads share the same cap.
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(lambda q: llm.chat(_ask(q)), questions))
        assert server.max_in_flight == 2
        assert server.request_count == 12


def test_metrics_per_stage(tmp_path: Path) -> None:
    """Calls, cache hits, tokens and seconds are kept apart per stage."""
    with StubOpenAIServer() as server, _openai_llm(server, tmp_path) as llm:
        llm.chat(_ask("one two"), stage="summarize")
        llm.chat(_ask("one two"), stage="summarize")
        llm.batch_complete(["a", "b c"], stage="generate")
        summary = llm.metrics.summary()
        assert set(summary) == {"summarize", "generate"}
        assert summary["summarize"]["calls"] == 1
        assert summary["summarize"]["cache_hits"] == 1
        assert summary["summarize"]["prompt_tokens"] == 4
        assert summary["generate"]["calls"] == 2
        expected = [echo_reply([{"role": "user", "content": t}]) for t in ("a", "b c")]
        assert summary["generate"]["completion_tokens"] == sum(len(e.split()) for e in expected)
        assert summary["generate"]["errors"] == 0
        assert summary["generate"]["seconds"] > 0
        assert llm.metrics.total().calls == 3


def _tiny_gpt2(folder: Path, chat_template: str | None = None) -> Path:
    """Save a random 1-layer GPT-2 and a word-level tokenizer to `folder`, fully offline."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = ["[UNK]", "[PAD]", "[EOS]", "the", "cat", "sat", "on", "a", "mat", "dog", "ran", "."]
    backend = Tokenizer(WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    backend.pre_tokenizer = Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    if chat_template:
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(folder)
    config = GPT2Config(
        vocab_size=len(words),
        n_positions=64,
        n_embd=16,
        n_layer=1,
        n_head=2,
        bos_token_id=2,
        eos_token_id=2,
        pad_token_id=1,
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


@pytest.mark.parametrize("template", [None, "{% for m in messages %}{{ m.content }} {% endfor %}"])
def test_transformers_llm_generates_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: str | None
) -> None:
    """A tiny random GPT-2 generates through the factory, with and without a template."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = _tiny_gpt2(tmp_path / "tiny", template)
    settings = LLMSettings(provider="transformers", model=str(folder), max_tokens=5)
    managed = make_llm(settings, tmp_path / "cache", backoff_s=FAST_BACKOFF)
    assert managed is not None
    with managed as llm:
        assert isinstance(llm.backend, TransformersLLM)
        messages = [ChatMessage(role="user", content="the cat sat on a mat")]
        reply = llm.chat(messages, stage="generate")
        assert isinstance(reply.text, str)
        assert reply.prompt_tokens == 6
        assert 1 <= reply.completion_tokens <= 5
        assert llm.metrics.stage("generate").completion_tokens == reply.completion_tokens
        # Greedy decoding is deterministic: a fresh, uncached backend says the same.
        again = TransformersLLM(str(folder), max_tokens=5).chat(messages)
        assert again.text == reply.text


class FormatRejectingServer(StubOpenAIServer):
    """A stub that refuses some structured-output forms the way real servers do."""

    def __init__(self, rejects: set[str], status: int = 500) -> None:
        """Refuse the forms in `rejects` ('json_schema', 'json_object', 'grammar')."""
        super().__init__(reply=lambda messages: '{"colors": ["red", "blue"]}')
        self.rejects = rejects
        self.status = status

    def _respond(self, number: int, body: dict[str, Any]) -> tuple[int, bytes]:
        """Reject a refused form with a validation message naming the field, else answer."""
        form = body.get("response_format", {}).get("type") or (
            "grammar" if "grammar" in body else None
        )
        if form in self.rejects:
            # llama-cpp-python's server answers json_schema with this (as HTTP 500).
            message = f"1 validation error: ('body', 'response_format', 'type'): {form}"
            return self.status, json.dumps({"error": {"message": message}}).encode()
        return super()._respond(number, body)


COLORS = json_object("colors", {"colors": string_array(3)})


def _form(body: dict[str, Any]) -> str | None:
    """The structured-output form a request body used."""
    if "grammar" in body:
        return "grammar"
    return body.get("response_format", {}).get("type")


def test_structured_output_falls_back_and_remembers_the_form_that_worked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """json_schema refused (HTTP 500) → json_object with the schema; later calls start there."""
    with (
        FormatRejectingServer({"json_schema"}) as server,
        _openai_llm(server, tmp_path, cache=False) as llm,
        caplog.at_level(logging.WARNING, logger="rag.llm.server_formats"),
    ):
        reply = llm.chat_json(_ask("three colors"), COLORS, stage="colors")
        assert reply.text == '{"colors": ["red", "blue"]}'
        assert reply.raw["structured"] == "json_object"
        assert [_form(b) for b in server.bodies] == ["json_schema", "json_object"]
        assert server.bodies[1]["response_format"]["schema"] == COLORS.schema
        assert "rejects structured output as json_schema" in caplog.text
        llm.chat_json(_ask("more colors"), COLORS)
        assert [_form(b) for b in server.bodies][2:] == ["json_object"]
        assert llm.backend.structured_variant == "json_object"  # type: ignore[attr-defined]
        # The refusal is not a transient failure: no retry was spent, no error counted.
        assert llm.metrics.stage("colors").errors == 0


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs llama-cpp-python")
def test_structured_output_reaches_grammar_then_plain(tmp_path: Path) -> None:
    """A server refusing every response_format gets a GBNF grammar; refusing that too, plain."""
    server = FormatRejectingServer({"json_schema", "json_object"}, status=400)
    with server:
        with _openai_llm(server, tmp_path, cache=False) as llm:
            reply = llm.chat_json(_ask("colors"), COLORS)
            assert reply.raw["structured"] == "grammar"
            assert "root ::=" in server.bodies[-1]["grammar"]
        server.rejects.add("grammar")
        with _openai_llm(server, tmp_path, cache=False) as llm:
            reply = llm.chat_json(_ask("colors"), COLORS)
            assert reply.raw["structured"] is None
            assert _form(server.bodies[-1]) is None
            assert [_form(b) for b in server.bodies[-4:]] == [
                "json_schema",
                "json_object",
                "grammar",
                None,
            ]


def test_overload_during_structured_call_is_retried_not_a_refusal(tmp_path: Path) -> None:
    """An HTTP 500 that says nothing about the format is retried with the same form."""
    with StubOpenAIServer(fail_first=1) as server, _openai_llm(server, tmp_path) as llm:
        reply = llm.chat_json(_ask("colors"), COLORS)
        assert reply.raw["structured"] == "json_schema"
        assert [_form(b) for b in server.bodies] == ["json_schema", "json_schema"]
        spec = server.bodies[1]["response_format"]["json_schema"]
        assert spec["name"] == "colors" and spec["schema"] == COLORS.schema


def test_structured_and_plain_calls_are_cached_apart(tmp_path: Path) -> None:
    """The same messages asked plain and with a schema are two cache entries."""
    colors = json.dumps({"colors": ["red", "green"]})
    with StubOpenAIServer(reply=lambda m: colors) as server, _openai_llm(server, tmp_path) as llm:
        llm.chat(_ask("colors"))
        assert not llm.chat_json(_ask("colors"), COLORS).cached
        assert llm.chat_json(_ask("colors"), COLORS).cached
        assert server.request_count == 2
