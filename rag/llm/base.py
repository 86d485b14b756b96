"""The LLM contract: one interface over every backend, with usage reported per call."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel, Field

from rag.llm.structured import JsonOutput


class ChatMessage(BaseModel):
    """One chat turn."""

    role: str
    content: str


class LLMResponse(BaseModel):
    """A completion with the usage needed for metrics and traces."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    raw: dict[str, Any] = Field(default_factory=dict)


class LLM(ABC):
    """A generative model; decoding parameters are fixed at construction and recorded."""

    #: Model identity, used in cache keys and manifests.
    model: str

    @property
    @abstractmethod
    def params(self) -> dict[str, Any]:
        """The pinned decoding parameters (temperature, max_tokens, seed, ...)."""

    @abstractmethod
    def chat(self, messages: list[ChatMessage], *, stage: str = "default") -> LLMResponse:
        """Complete a conversation; `stage` labels the call in metrics (e.g. 'generate')."""

    def complete(self, prompt: str, *, stage: str = "default") -> LLMResponse:
        """Complete a single user prompt."""
        return self.chat([ChatMessage(role="user", content=prompt)], stage=stage)

    def chat_json(
        self, messages: list[ChatMessage], output: JsonOutput, *, stage: str = "default"
    ) -> LLMResponse:
        """Complete a conversation whose reply should be JSON of `output`'s shape.

        Backends that can constrain decoding override this; the default relies on the prompt
        (which must ask for the JSON itself), so the caller parses the reply tolerantly anyway.
        """
        return self.chat(messages, stage=stage)

    def next_token_logprobs(
        self, messages: list[ChatMessage], *, top: int = 20, stage: str = "default"
    ) -> LLMResponse:
        """The reply's first-token distribution: `raw["top_logprobs"]` holds the `top` most
        likely [token, log-probability] pairs, best first, and `text` the likeliest token.

        Backends that can read token probabilities override this; the others cannot.
        """
        from rag.errors import LLMError

        raise LLMError(f"{type(self).__name__} ({self.model}) reports no token log-probabilities")

    def complete_json(
        self, prompt: str, output: JsonOutput, *, stage: str = "default"
    ) -> LLMResponse:
        """chat_json over a single user prompt."""
        return self.chat_json([ChatMessage(role="user", content=prompt)], output, stage=stage)


class InProcessLLM(LLM):
    """A model loaded into this process: one instance, calls serialized, loaded once."""

    def __init__(self, params: dict[str, Any]) -> None:
        """Pin the decoding parameters; the weights load on warm_up() or the first call."""
        self._params = dict(params)
        # One model instance: generation is serialized, which also keeps seeded runs repeatable.
        self._lock = threading.Lock()

    @property
    def params(self) -> dict[str, Any]:
        """The pinned decoding parameters and whatever else changes the replies."""
        return dict(self._params)

    def warm_up(self) -> None:
        """Load the weights (once)."""
        with self._lock:
            self._load()

    @abstractmethod
    def _load(self) -> None:
        """Load the model if not yet loaded; called with the lock held."""
