"""OpenAI-compatible chat-completions servers (vLLM, Ollama, llama.cpp, OpenAI) via OpenAILike."""

from __future__ import annotations

import logging
import os
from typing import Any

from rag.errors import ConfigError, LLMError, MissingExtraError
from rag.llm.base import LLM, ChatMessage, LLMResponse
from rag.llm.http_limits import BoundedTransport, ReplyTooLargeError, env_proxy, reply_budget
from rag.llm.retry import RETRYABLE_STATUS, TransientLLMError
from rag.llm.server_formats import (
    StructuredVariants,
    UnsupportedFormatError,
    rejects_format,
    structured_request,
)
from rag.llm.structured import JsonOutput

logger = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"
#: What local servers get as a key: they ignore it, but the client refuses an empty one.
NO_KEY = "not-needed"


def resolve_api_key(api_key_env: str, base_url: str | None) -> str:
    """The key from the named variable; local servers may go without, api.openai.com may not."""
    key = os.environ.get(api_key_env, "")
    if key:
        return key
    if base_url is None or base_url.rstrip("/") == OPENAI_URL:
        raise ConfigError(f"llm.api_key_env: ${api_key_env} is not set; {OPENAI_URL} needs a key")
    return NO_KEY


class OpenAICompatibleLLM(LLM):
    """A chat model behind an OpenAI-style /v1/chat/completions endpoint."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str = NO_KEY,
        temperature: float = 0.0,
        max_tokens: int = 512,
        seed: int | None = 0,
        timeout_s: float = 60.0,
        max_reply_bytes: int | None = None,
    ) -> None:
        """Configure the client; nothing is sent until the first call.

        timeout_s bounds each request as a whole, from connect to the reply's last byte;
        a reply over max_reply_bytes (default: reply_budget) is abandoned as an error.
        """
        try:
            import httpx
            from llama_index.llms.openai_like import OpenAILike
        except ImportError as exc:
            raise MissingExtraError("llama-index-llms-openai-like", "llm") from exc
        self.model = model
        self.base_url = base_url or OPENAI_URL
        self.timeout_s = timeout_s
        self.max_reply_bytes = reply_budget(max_tokens, max_reply_bytes)
        inner = httpx.HTTPTransport(proxy=env_proxy(self.base_url))
        transport = BoundedTransport(timeout_s, self.max_reply_bytes, inner)
        self._http = httpx.Client(transport=transport, timeout=timeout_s)
        self._structured = StructuredVariants()
        self._params: dict[str, Any] = {
            "temperature": temperature,
            "max_tokens": max_tokens,
            "seed": seed,
        }
        self._client = OpenAILike(
            model=model,
            api_base=self.base_url,
            api_key=api_key,
            is_chat_model=True,
            is_function_calling_model=False,
            temperature=temperature,
            max_tokens=max_tokens,
            # ManagedLLM retries with its own backoff and logging; two retry loops would multiply.
            max_retries=0,
            timeout=timeout_s,
            additional_kwargs={"seed": seed} if seed is not None else {},
            http_client=self._http,
        )

    @property
    def params(self) -> dict[str, Any]:
        """temperature, max_tokens and seed, as sent with every request."""
        return dict(self._params)

    @property
    def structured_variant(self) -> str | None:
        """The structured-output form this client sends now (None: the server takes none)."""
        return self._structured.current

    @property
    def where(self) -> str:
        """The model and endpoint, for error messages."""
        return f"model {self.model!r} at {self.base_url}"

    def chat(self, messages: list[ChatMessage], *, stage: str = "default") -> LLMResponse:
        """One request; failures become TransientLLMError (retryable) or LLMError."""
        return self._to_response(self._send(messages, {}).raw)

    def chat_json(
        self, messages: list[ChatMessage], output: JsonOutput, *, stage: str = "default"
    ) -> LLMResponse:
        """One request for JSON of `output`'s shape, in the first form the server accepts.

        The forms are tried in STRUCTURED_VARIANTS order; one the server rejects as
        unsupported is not sent again by this client, so later calls start with the form that
        worked. When the server takes none, the request goes out plain and the prompt alone
        asks for JSON.
        """
        while True:
            variant = self._structured.current
            extra = structured_request(variant, output) if variant else {}
            try:
                reply = self._send(messages, extra, variant=variant)
            except UnsupportedFormatError as exc:
                self._structured.reject(variant, str(exc), self.where)
                continue
            response = self._to_response(reply.raw)
            response.raw["structured"] = variant
            return response

    def next_token_logprobs(
        self, messages: list[ChatMessage], *, top: int = 20, stage: str = "default"
    ) -> LLMResponse:
        """One token of reply with `logprobs` and `top_logprobs`, read as the server reports it."""
        # max_tokens rides in extra_body: the client would put llm.max_tokens over a plain one.
        extra = {"logprobs": True, "top_logprobs": top, "extra_body": {"max_tokens": 1}}
        raw = self._send(messages, extra).raw
        response = self._to_response(raw)
        choice = raw.choices[0]
        content = getattr(getattr(choice, "logprobs", None), "content", None) or []
        if not content:
            raise self._malformed("no logprobs in the reply (does the server support them?)")
        first = content[0]
        pairs = [[str(t.token), float(t.logprob)] for t in (first.top_logprobs or [])]
        if not pairs:
            pairs = [[str(first.token), float(first.logprob)]]
        response.raw["top_logprobs"] = pairs
        return response

    def _send(
        self, messages: list[ChatMessage], extra: dict[str, Any], variant: str | None = None
    ) -> Any:
        """Send one request with `extra` request fields; map failures to memrag errors."""
        import openai
        from llama_index.core.llms import ChatMessage as LlamaChatMessage

        try:
            request = [LlamaChatMessage(role=m.role, content=m.content) for m in messages]
        except ValueError as exc:
            raise LLMError(f"{self.where}: unsupported chat role: {exc}") from exc
        try:
            reply = self._client.chat(request, **extra)
        except openai.APIStatusError as exc:
            status = exc.status_code
            message = f"{self.where}: HTTP {status}: {exc.message}"
            if variant is not None and rejects_format(status, str(exc.message)):
                raise UnsupportedFormatError(message) from exc
            if status in RETRYABLE_STATUS or status >= 500:
                raise TransientLLMError(message) from exc
            raise LLMError(message) from exc
        except openai.APITimeoutError as exc:
            raise TransientLLMError(
                f"{self.where}: no reply within {self.timeout_s}s (llm.timeout_s bounds the "
                "whole request)"
            ) from exc
        except ReplyTooLargeError as exc:
            raise self._too_large(exc) from exc
        except openai.APIConnectionError as exc:
            if isinstance(exc.__cause__, ReplyTooLargeError):
                raise self._too_large(exc.__cause__) from exc
            raise TransientLLMError(f"{self.where}: connection failed: {exc}") from exc
        except (openai.APIError, ValueError, TypeError, AttributeError, LookupError) as exc:
            # The client indexes into whatever the server sent; a 200 with a body that is not a
            # chat completion surfaces here (JSONDecodeError, None or [] choices, a bare string).
            raise self._malformed(f"{type(exc).__name__}: {exc}") from exc
        return reply

    def _too_large(self, exc: ReplyTooLargeError) -> LLMError:
        """An LLMError for an oversized reply: the server ignored max_tokens; not retried."""
        logger.error("%s: %s", self.where, exc)
        return LLMError(
            f"{self.where}: {exc}; the server ignored max_tokens={self._params['max_tokens']} "
            "(the limit grows with llm.max_tokens)"
        )

    def _malformed(self, reason: str) -> LLMError:
        """An LLMError for a reply that is not a usable chat completion, logged with why."""
        logger.error("%s: malformed reply: %s", self.where, reason)
        return LLMError(f"{self.where}: malformed reply: {reason}")

    def _to_response(self, raw: Any) -> LLMResponse:
        """Text, token usage and a compact record from the raw ChatCompletion."""
        choices = getattr(raw, "choices", None)
        if not choices:
            raise self._malformed("no choices in the reply")
        choice = choices[0]
        text = getattr(getattr(choice, "message", None), "content", None)
        if not isinstance(text, str):
            reason = getattr(choice, "finish_reason", None)
            raise self._malformed(f"no text content (finish_reason={reason!r})")
        usage = getattr(raw, "usage", None)
        if usage is None:
            logger.debug("%s: reply carries no usage; counting 0 tokens", self.where)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        record = {
            "id": getattr(raw, "id", None),
            "model": getattr(raw, "model", None),
            "finish_reason": getattr(choice, "finish_reason", None),
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
        }
        return LLMResponse(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            raw=record,
        )
