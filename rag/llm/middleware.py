"""The layers around every LLM call: disk cache → retry → concurrency limit → metrics."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rag.closing import Closing
from rag.llm.base import LLM, ChatMessage, LLMResponse
from rag.llm.cache import LLMCache, cache_key
from rag.llm.metrics import LLMMetrics
from rag.llm.retry import call_with_retry
from rag.llm.structured import JsonOutput
from rag.llm.usage import in_this_context, record_usage
from rag.llm.validate import INVALID, check_answer, not_an_answer, shape_problem

logger = logging.getLogger(__name__)


class ManagedLLM(LLM, Closing):
    """Any backend behind a disk cache, retries with backoff, a concurrency cap and metrics."""

    def __init__(
        self,
        backend: LLM,
        *,
        cache_dir: Path | None = None,
        max_retries: int = 3,
        max_concurrency: int = 4,
        backoff_s: float = 1.0,
        backoff_max_s: float = 30.0,
        metrics: LLMMetrics | None = None,
    ) -> None:
        """Wrap `backend`; no cache_dir means no caching."""
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self.backend = backend
        self.model = backend.model
        self.max_retries = max_retries
        self.max_concurrency = max_concurrency
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.metrics = metrics if metrics is not None else LLMMetrics()
        self._cache = LLMCache(cache_dir) if cache_dir is not None else None
        # One semaphore per client, shared by every thread that calls it, batch or not.
        self._slots = threading.BoundedSemaphore(max_concurrency)
        base_url = getattr(backend, "base_url", None)
        self.endpoint: str | None = base_url if isinstance(base_url, str) else None
        self.where = f"LLM {self.model!r}" + (f" at {base_url}" if base_url else "")

    @property
    def params(self) -> dict[str, Any]:
        """The backend's pinned decoding parameters."""
        return self.backend.params

    def chat(self, messages: list[ChatMessage], *, stage: str = "default") -> LLMResponse:
        """Answer from the cache, or call the backend with retries under the concurrency cap."""
        return self._call(messages, stage, None)

    def chat_json(
        self, messages: list[ChatMessage], output: JsonOutput, *, stage: str = "default"
    ) -> LLMResponse:
        """chat() asking the backend for JSON of `output`'s shape; cached apart from plain calls."""
        return self._call(messages, stage, output)

    def next_token_logprobs(
        self, messages: list[ChatMessage], *, top: int = 20, stage: str = "default"
    ) -> LLMResponse:
        """The backend's first-token log-probabilities, behind the same cache, retries and
        metrics as a reply (cached apart from replies)."""
        return self._call(messages, stage, None, top_logprobs=top)

    def _call(
        self,
        messages: list[ChatMessage],
        stage: str,
        output: JsonOutput | None,
        top_logprobs: int | None = None,
    ) -> LLMResponse:
        """Cache lookup, then the backend call with retries, then cache store.

        Only replies that pass their checks are stored: an error page never gets here (it is
        an error), and an empty or off-schema reply is returned marked `raw["invalid"]` but
        not cached, so a later run asks again.
        """
        key = None
        if self._cache is not None:
            key = cache_key(
                self.model,
                messages,
                self.params,
                output.key
                if output
                else (f"top_logprobs:{top_logprobs}" if top_logprobs else None),
                endpoint=self.endpoint,
            )
            hit = self._cache.get(key)
            if hit is not None and not_an_answer(hit.text) is None:
                self.metrics.record_cache_hit(stage)
                record_usage(cached=1)
                return hit
        response = call_with_retry(
            lambda: self._limited_call(messages, stage, output, top_logprobs),
            max_retries=self.max_retries,
            where=self.where,
            backoff_s=self.backoff_s,
            backoff_max_s=self.backoff_max_s,
        )
        problem = (
            shape_problem(response, output)
            if top_logprobs is None
            else (None if response.raw.get("top_logprobs") else "no token log-probabilities")
        )
        if problem is not None:
            logger.warning("%s (%s): %s; not cached", self.where, stage, problem)
            response.raw[INVALID] = problem
        elif self._cache is not None and key is not None:
            self._cache.put(key, response)
        return response

    def _limited_call(
        self,
        messages: list[ChatMessage],
        stage: str,
        output: JsonOutput | None,
        top_logprobs: int | None = None,
    ) -> LLMResponse:
        """One attempt, holding a slot only while the backend works (not while backing off)."""
        with self._slots:
            return self._measured_call(messages, stage, output, top_logprobs)

    def _measured_call(
        self,
        messages: list[ChatMessage],
        stage: str,
        output: JsonOutput | None,
        top_logprobs: int | None = None,
    ) -> LLMResponse:
        """One backend request, timed and counted."""
        start = time.perf_counter()
        try:
            if top_logprobs is not None:
                response = self.backend.next_token_logprobs(messages, top=top_logprobs, stage=stage)
            elif output is None:
                response = self.backend.chat(messages, stage=stage)
            else:
                response = self.backend.chat_json(messages, output, stage=stage)
            check_answer(response, self.where)
        except Exception:
            self.metrics.record_error(stage, seconds=time.perf_counter() - start)
            record_usage(calls=1)
            raise
        record_usage(calls=1, tokens=response.prompt_tokens + response.completion_tokens)
        self.metrics.record_call(
            stage,
            prompt_tokens=response.prompt_tokens,
            completion_tokens=response.completion_tokens,
            seconds=time.perf_counter() - start,
        )
        return response

    def batch_chat(
        self, conversations: Sequence[list[ChatMessage]], *, stage: str = "default"
    ) -> list[LLMResponse]:
        """Run many conversations on max_concurrency threads; replies keep the input order."""
        if len(conversations) <= 1:
            return [self.chat(messages, stage=stage) for messages in conversations]
        workers = min(self.max_concurrency, len(conversations))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="memrag-llm") as pool:
            # Each worker runs in the caller's context, so usage is counted for the caller.
            futures = [
                pool.submit(in_this_context(self.chat), messages, stage=stage)
                for messages in conversations
            ]
            try:
                return [future.result() for future in futures]
            except BaseException:
                # Fail fast: calls not yet started would only spend tokens on a lost batch.
                for future in futures:
                    future.cancel()
                raise

    def batch_complete(
        self, prompts: Sequence[str], *, stage: str = "default"
    ) -> list[LLMResponse]:
        """batch_chat over single user prompts."""
        conversations = [[ChatMessage(role="user", content=prompt)] for prompt in prompts]
        return self.batch_chat(conversations, stage=stage)

    def warm_up(self) -> None:
        """Load the backend's weights now, if it has any, rather than on the first call."""
        warm_up = getattr(self.backend, "warm_up", None)
        if callable(warm_up):
            warm_up()

    def close(self) -> None:
        """Release the disk cache."""
        if self._cache is not None:
            self._cache.close()
