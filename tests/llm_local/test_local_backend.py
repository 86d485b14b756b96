"""The `local` backend: bundled GGUF models in-process through llama-cpp-python."""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.errors import ConfigError, MissingExtraError
from rag.llm import ChatMessage, ManagedLLM, make_llm
from rag.llm.bundled_models import resolve_gguf
from rag.llm.local_llama import render_completion
from rag.llm.spec import llm_overrides
from rag.llm.structured import array_of, json_object
from rag.settings import LLMSettings
from tests.llm_local.conftest import skip_without

NAMES = json_object(
    "named_entities", {"named_entities": array_of({"type": "string", "maxLength": 40}, 3)}
)


def test_llm_flag_values_become_settings() -> None:
    """--llm local:NAME and --llm none map onto llm.provider / llm.model; others are errors."""
    assert llm_overrides(None) == {}
    assert llm_overrides("none") == {"llm__provider": "none"}
    with pytest.raises(ConfigError, match="--llm 'gpt'"):
        llm_overrides("gpt")
    if importlib.util.find_spec("llama_cpp") is None:
        with pytest.raises(MissingExtraError, match=r"memrag\[local\]"):
            llm_overrides("local:gemma-270m")
    else:
        assert llm_overrides("local:gemma-270m") == {
            "llm__provider": "local",
            "llm__model": "gemma-270m",
        }


def test_a_model_that_is_neither_bundled_nor_a_gguf_file_is_a_clear_error(
    tmp_path: Path,
) -> None:
    """The error names the setting, the bundled names, or the missing file."""
    with pytest.raises(ConfigError, match=r"not a bundled model.*gemma-270m"):
        resolve_gguf("llama-70b")
    missing = tmp_path / "nowhere.gguf"
    with pytest.raises(ConfigError, match="GGUF file not found"):
        resolve_gguf(str(missing))


def test_completion_prompt_turns_example_pairs_into_few_shot_examples() -> None:
    """System text first, then Input/Output pairs, ending on an open Output."""
    prompt = render_completion(
        [
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="user", content="2+2?"),
            ChatMessage(role="assistant", content="4"),
            ChatMessage(role="user", content="3+3?"),
        ]
    )
    assert prompt == "Be brief.\n\nInput:\n2+2?\nOutput: 4\n\nInput:\n3+3?\nOutput:"


@pytest.mark.parametrize(
    ("model", "style"), [("gemma-270m", "completion"), ("smollm2-135m", "chat")]
)
def test_prompt_style_follows_the_chat_template_and_json_is_grammar_bound(
    local_llms: Callable[[str], ManagedLLM], model: str, style: str
) -> None:
    """A base model gets completion prompts, an instruct model chat; JSON obeys the schema."""
    llm = local_llms(model)
    messages = [
        ChatMessage(role="system", content='Reply {"named_entities": [...]}.'),
        ChatMessage(role="user", content="Ada Lovelace met Charles Babbage in London. JSON:"),
    ]
    reply = llm.chat_json(messages, NAMES, stage="ner")
    assert reply.raw == {"finish_reason": "stop", "style": style, "structured": "grammar"}
    data = json.loads(reply.text)
    assert list(data) == ["named_entities"] and len(data["named_entities"]) <= 3
    assert all(isinstance(e, str) and len(e) <= 40 for e in data["named_entities"])
    stats = llm.metrics.stage("ner")
    assert stats.prompt_tokens == reply.prompt_tokens > 0 and stats.completion_tokens > 0


def test_local_replies_are_cached_with_the_schema_in_the_key(tmp_path: Path) -> None:
    """Same prompt plain and structured: two entries; repeated: a cache hit without generation."""
    skip_without("smollm2-135m")
    settings = LLMSettings(provider="local", model="smollm2-135m", max_tokens=24, n_ctx=1024)
    with make_llm(settings, tmp_path) as llm:  # type: ignore[union-attr]
        assert isinstance(llm, ManagedLLM)
        prompt = "Name two cities in Italy."
        first = llm.complete_json(prompt, NAMES)
        assert not llm.complete(prompt).cached
        again = llm.complete_json(prompt, NAMES)
        assert again.cached and again.text == first.text
        assert llm.params["gguf"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
        assert llm.metrics.total().calls == 2


def test_loading_a_gguf_model_prints_nothing_and_logs_llama_cpp(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """llama.cpp's load chatter (the SWA cache warning among it) is debug logging, not stderr."""
    skip_without("gemma-270m")
    from rag.llm.local_llama import LocalLlamaLLM

    caplog.set_level(logging.DEBUG, logger="rag.llm.local_llama")
    capfd.readouterr()
    # gemma-3 has sliding-window layers: loading it is what printed the SWA cache line.
    llm = LocalLlamaLLM(resolve_gguf("gemma-270m"), n_ctx=256, max_tokens=2)
    llm.chat([ChatMessage(role="user", content="Hi")])
    out, err = capfd.readouterr()
    assert "llama_" not in out + err and "SWA" not in out + err
    logged = [r.getMessage() for r in caplog.records if r.name == "rag.llm.local_llama"]
    assert any(m.startswith("llama.cpp: llama_kv_cache_iswa: using full-size SWA") for m in logged)
