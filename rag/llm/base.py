"""The LLM contract: one interface over every backend, with usage reported per call."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel, Field


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
