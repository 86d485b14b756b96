"""memrag's OpenAI-compatible client against `python -m llama_cpp.server` with real models."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from rag.errors import LLMError
from rag.llm import ChatMessage, ManagedLLM, make_llm
from rag.llm.local_llama import INPUT_LABEL, render_completion
from rag.llm.structured import json_object, limit_lists, string_array
from tests.llm_local.conftest import (
    MODELS,
    LlamaServer,
    server_settings,
    skip_without,
    start_server,
)

#: A greedy 2-shot prompt whose answer the base model gets exactly right.
TWO_SHOT = [
    ChatMessage(
        role="system", content="Answer each question from its passage in as few words as possible."
    ),
    ChatMessage(
        role="user",
        content="Passage: The Eiffel Tower in Paris was completed in 1889 for the World's Fair."
        "\nQuestion: When was the Eiffel Tower completed?",
    ),
    ChatMessage(role="assistant", content="1889"),
    ChatMessage(
        role="user",
        content="Passage: Marie Curie won the Nobel Prize in Chemistry in 1911 for discovering "
        "radium.\nQuestion: What did Marie Curie discover?",
    ),
    ChatMessage(role="assistant", content="radium"),
    ChatMessage(
        role="user",
        content="Passage: The Great Barrier Reef lies off the coast of Queensland, Australia."
        "\nQuestion: Which coast does the Great Barrier Reef lie off?",
    ),
]
ENTITIES = json_object("named_entities", {"named_entities": string_array(4)})


@pytest.mark.parametrize("model", MODELS)
def test_chat_and_complete_report_usage_in_metrics(
    served_llm: Callable[..., ManagedLLM], model: str
) -> None:
    """Both call shapes get text back, and the server's token counts reach the metrics."""
    llm = served_llm(model, max_tokens=12)
    chat = llm.chat(
        [
            ChatMessage(role="system", content="You are brief."),
            ChatMessage(role="user", content="Name one planet."),
        ],
        stage="chat",
    )
    done = llm.complete("The capital of France is", stage="complete")
    for reply, stage in ((chat, "chat"), (done, "complete")):
        # Gemma is a base model: behind the server's default chat format it may say only "\n".
        assert reply.text.strip() or model == "gemma-270m"
        assert reply.prompt_tokens > 0 and 0 < reply.completion_tokens <= 12
        stats = llm.metrics.stage(stage)
        assert (stats.calls, stats.errors) == (1, 0)
        assert (stats.prompt_tokens, stats.completion_tokens) == (
            reply.prompt_tokens,
            reply.completion_tokens,
        )
    assert chat.raw["model"] == model


@pytest.mark.parametrize("model", MODELS)
def test_json_under_a_schema_parses_after_the_server_refuses_json_schema(
    served_llm: Callable[..., ManagedLLM], model: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The server answers json_schema with HTTP 500; json_object with the schema then holds."""
    llm = served_llm(model, max_tokens=64)
    messages = [
        ChatMessage(role="system", content='List the named entities as {"named_entities": [...]}.'),
        ChatMessage(role="user", content="Marie Curie worked in Paris with Pierre Curie. JSON:"),
    ]
    with caplog.at_level(logging.WARNING, logger="rag.llm.server_formats"):
        reply = llm.chat_json(messages, ENTITIES, stage="ner")
    assert "rejects structured output as json_schema" in caplog.text
    assert reply.raw["structured"] == "json_object"
    data = json.loads(reply.text)  # strict JSON, not just tolerantly parsable
    assert set(data) == {"named_entities"} and len(data["named_entities"]) <= 4
    assert all(isinstance(e, str) for e in data["named_entities"])
    cleaned, _dropped = limit_lists(data, ENTITIES.schema)
    assert len(set(cleaned["named_entities"])) == len(cleaned["named_entities"])
    assert llm.metrics.stage("ner").errors == 0


def test_greedy_two_shot_answer_is_exact_in_process_and_served(
    local_llms: Callable[[str], ManagedLLM], llama_servers: Callable[[str], LlamaServer]
) -> None:
    """Gemma 270M (a base model) answers a 2-shot completion prompt exactly, in both runtimes."""
    llm = local_llms("gemma-270m")
    reply = llm.chat(TWO_SHOT, stage="two-shot")
    assert reply.text == "Queensland"
    assert reply.raw["style"] == "completion"
    server = llama_servers("gemma-270m")
    body = {
        "model": server.model,
        "prompt": render_completion(TWO_SHOT),
        "max_tokens": 16,
        "temperature": 0.0,
        "seed": 0,
        "stop": [f"\n{INPUT_LABEL}"],
    }
    served = httpx.post(f"{server.base_url}/completions", json=body, timeout=120).json()
    assert served["choices"][0]["text"].strip() == "Queensland"


def test_a_timeout_is_retried_then_reported(
    served_llm: Callable[..., ManagedLLM], caplog: pytest.LogCaptureFixture
) -> None:
    """A reply slower than timeout_s is a transient failure: retried, then one clear error."""
    llm = served_llm("smollm2-135m", max_tokens=64, timeout_s=0.05, max_retries=1)
    with caplog.at_level(logging.WARNING, logger="rag.llm.retry"), pytest.raises(LLMError) as err:
        llm.complete("Write a long story about a lighthouse keeper.", stage="slow")
    assert "gave up after 2 attempts" in str(err.value) and "no reply within" in str(err.value)
    assert "attempt 1/2 failed" in caplog.text
    stats = llm.metrics.stage("slow")
    assert (stats.calls, stats.errors) == (2, 2)


def test_a_killed_server_is_retried_then_reported(tmp_path: Path) -> None:
    """The server process dies between calls: connection failures are retried, then reported."""
    skip_without("smollm2-135m")
    server = start_server("smollm2-135m", tmp_path)
    try:
        settings = server_settings(server, max_tokens=8, max_retries=2)
        llm = make_llm(settings, tmp_path, backoff_s=0.05)
        assert isinstance(llm, ManagedLLM)
        assert llm.complete("Say yes.", stage="alive").text.strip()
        server.process.kill()
        server.process.wait()
        with pytest.raises(LLMError, match=r"gave up after 3 attempts.*connection failed"):
            llm.complete("Say yes again.", stage="dead")
        assert llm.metrics.stage("dead").errors == 3
        llm.close()
    finally:
        server.stop()
