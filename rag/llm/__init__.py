"""LLM clients: one interface over backends, wrapped in cache, retry, concurrency and metrics.

Importing this package is light: the backends import llama-index, openai, torch,
transformers and llama-cpp-python only when one is constructed or called.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from rag.errors import ConfigError, MissingExtraError
from rag.llm.base import LLM, ChatMessage, LLMResponse
from rag.llm.metrics import LLMMetrics, StageMetrics
from rag.llm.middleware import ManagedLLM
from rag.llm.openai_compat import OpenAICompatibleLLM, resolve_api_key
from rag.llm.retry import TransientLLMError
from rag.llm.structured import JsonOutput
from rag.llm.transformers_llm import TransformersLLM
from rag.settings import LLMSettings

logger = logging.getLogger(__name__)

__all__ = [
    "LLM",
    "ChatMessage",
    "JsonOutput",
    "LLMMetrics",
    "LLMResponse",
    "ManagedLLM",
    "OpenAICompatibleLLM",
    "StageMetrics",
    "TransformersLLM",
    "TransientLLMError",
    "make_backend",
    "make_llm",
]


def make_backend(settings: LLMSettings) -> LLM:
    """The bare backend that settings name, without the middleware layers."""
    if not settings.model:
        raise ConfigError(f"llm.model: required when llm.provider is {settings.provider!r}")
    if settings.provider == "openai":
        return OpenAICompatibleLLM(
            settings.model,
            base_url=settings.base_url,
            api_key=resolve_api_key(settings.api_key_env, settings.base_url),
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            seed=settings.seed,
            timeout_s=settings.timeout_s,
        )
    if settings.provider == "local":
        from rag.llm.bundled_models import resolve_gguf
        from rag.llm.local_llama import LocalLlamaLLM

        if importlib.util.find_spec("llama_cpp") is None:
            # Before resolving the model: the missing runtime is the first thing to install.
            raise MissingExtraError("llama-cpp-python", "local")

        return LocalLlamaLLM(
            resolve_gguf(settings.model),
            name=settings.model,
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            seed=settings.seed,
            prompt_style=settings.prompt_style,
        )
    if settings.provider == "transformers":
        return TransformersLLM(
            settings.model,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            seed=settings.seed,
        )
    raise ConfigError(f"llm.provider: unknown provider {settings.provider!r}")


def make_llm(
    settings: LLMSettings, cache_dir: Path, *, backoff_s: float = 1.0
) -> ManagedLLM | None:
    """The configured LLM with its middleware, or None when provider is 'none' (offline)."""
    if settings.provider == "none":
        return None
    backend = make_backend(settings)
    logger.info("LLM %s via %s, params %s", settings.model, settings.provider, backend.params)
    return ManagedLLM(
        backend,
        cache_dir=Path(cache_dir) if settings.cache else None,
        max_retries=settings.max_retries,
        max_concurrency=settings.max_concurrency,
        backoff_s=backoff_s,
    )
