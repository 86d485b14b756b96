"""The `make_stub` fixture: a real OpenAI-compatible HTTP server on loopback and a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.llm import ManagedLLM, make_llm
from rag.settings import LLMSettings
from tests.rag.openai_stub_server import StubOpenAIServer


@pytest.fixture
def make_stub(tmp_path: Path) -> Iterator[Any]:
    """Start a stub server on a script and build the project's real client for it."""
    servers: list[StubOpenAIServer] = []
    clients: list[ManagedLLM] = []

    def start(script: Any) -> tuple[StubOpenAIServer, ManagedLLM]:
        server = StubOpenAIServer(reply=script).__enter__()
        servers.append(server)
        settings = LLMSettings(
            provider="openai",
            model="stub-model",
            base_url=server.base_url,
            api_key_env="MEMRAG_TEST_NO_SUCH_KEY",
            timeout_s=5.0,
            max_retries=1,
        )
        llm = make_llm(settings, tmp_path / f"llm{len(clients)}", backoff_s=0.001)
        assert isinstance(llm, ManagedLLM)
        clients.append(llm)
        return server, llm

    yield start
    for llm in clients:
        llm.close()
    for server in servers:
        server.__exit__(None, None, None)


def stub_llm_settings(server: StubOpenAIServer, **extra: Any) -> dict[str, Any]:
    """The `llm` settings section for the project's client against a stub server (no cache)."""
    return {
        "provider": "openai",
        "model": "stub",
        "base_url": server.base_url,
        "api_key_env": "MEMRAG_TEST_NO_SUCH_KEY",
        "cache": False,
        **extra,
    }


def managed_stub_llm(server: StubOpenAIServer, cache_dir: Path, **overrides: Any) -> ManagedLLM:
    """The project's managed client for a stub server, with a disk cache and tiny backoffs."""
    fields: dict[str, Any] = {
        "provider": "openai",
        "model": "stub-model",
        "base_url": server.base_url,
        "api_key_env": "MEMRAG_TEST_NO_SUCH_KEY",
        **overrides,
    }
    llm = make_llm(LLMSettings(**fields), cache_dir, backoff_s=0.001)
    assert isinstance(llm, ManagedLLM)
    return llm
