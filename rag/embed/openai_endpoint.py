"""Embeddings from an OpenAI-compatible /v1/embeddings endpoint (OpenAI, vLLM, Ollama, TEI)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.embed.base import Embedder
from rag.errors import ConfigError, EmbeddingEndpointError

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
PREFIX = "openai:"
_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIEndpointEmbedder(Embedder):
    """Embeds through an OpenAI-compatible endpoint; the dimension comes from its first reply."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        batch_size: int = 32,
        timeout_s: float = 60.0,
        max_retries: int = 3,
    ) -> None:
        """Prepare a client for `model` ('openai:<name>' or '<name>'); nothing is sent yet."""
        import httpx

        self.model = model.removeprefix(PREFIX)
        if not self.model:
            raise ConfigError(f"embedder.model = {model!r}: name the model after 'openai:'")
        self.name = PREFIX + self.model
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.url = f"{self.base_url}/embeddings"
        self.api_key_env = api_key_env
        self.batch_size = batch_size
        self.max_retries = max_retries
        key = os.environ.get(api_key_env)
        # Local servers (vLLM, Ollama) take no key, so a missing one is not an error here.
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(headers=headers, timeout=timeout_s)
        self._httpx = httpx
        self._dim: int | None = None

    @property
    def dim(self) -> int:  # type: ignore[override]
        """Vector size, asking the endpoint once if no reply has told it yet."""
        if self._dim is None:
            self.embed(["dimension probe"])
        assert self._dim is not None
        return self._dim

    @property
    def cache_key(self) -> str:
        """Model name plus endpoint: two servers may serve different weights under one name."""
        return f"{self.name}|{self.base_url}"

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed texts in batches of batch_size, normalized, in input order."""
        from tqdm.auto import tqdm

        chunks: list[np.ndarray] = []
        with tqdm(total=len(texts), desc="embed", unit="text", disable=not show_progress) as bar:
            for start in range(0, len(texts), self.batch_size):
                batch = list(texts[start : start + self.batch_size])
                chunks.append(self._embed_batch(batch))
                bar.update(len(batch))
        if not chunks:
            return np.empty((0, self._dim or 0), dtype=np.float32)
        return np.concatenate(chunks)

    def _embed_batch(self, batch: list[str]) -> np.ndarray:
        """One request; checks the reply's shape and normalizes the vectors."""
        # OpenAI rejects empty strings; a single space embeds "nothing" just as well.
        payload = {"model": self.model, "input": [t if t else " " for t in batch]}
        reply = self._post(payload)
        data = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(data, list) or len(data) != len(batch):
            got = len(data) if isinstance(data, list) else "no 'data' list"
            raise EmbeddingEndpointError(
                f"{self.url}: expected {len(batch)} embeddings in 'data', got {got}"
            )
        try:
            items = sorted(data, key=lambda item: int(item.get("index", 0)))
            vectors = np.asarray([item["embedding"] for item in items], dtype=np.float32)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise EmbeddingEndpointError(
                f"{self.url}: malformed embedding in reply: {exc}"
            ) from exc
        if vectors.ndim != 2 or vectors.shape[1] == 0:
            raise EmbeddingEndpointError(f"{self.url}: embeddings are not equal-length lists")
        if self._dim is None:
            self._dim = int(vectors.shape[1])
            logger.info("%s returns %d-dimensional vectors", self.name, self._dim)
        elif vectors.shape[1] != self._dim:
            raise EmbeddingEndpointError(
                f"{self.url}: got {vectors.shape[1]}-dimensional vectors, earlier {self._dim}"
            )
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def _post(self, payload: dict[str, Any]) -> Any:
        """POST with retries on transient failures; parse the JSON reply."""
        for attempt in range(self.max_retries + 1):
            try:
                response = self._client.post(self.url, json=payload)
            except self._httpx.TransportError as exc:
                error = f"{self.url}: {type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError as exc:
                        raise EmbeddingEndpointError(
                            f"{self.url}: reply is not JSON: {response.text[:200]!r}"
                        ) from exc
                error = f"{self.url}: HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code in (401, 403):
                    error += f" (is ${self.api_key_env} set to a valid key?)"
                if response.status_code not in _RETRY_STATUS:
                    raise EmbeddingEndpointError(error)
            if attempt < self.max_retries:
                delay = 0.5 * 2**attempt
                logger.warning("%s; retrying in %.1fs", error, delay)
                time.sleep(delay)
        raise EmbeddingEndpointError(f"{error} (after {self.max_retries + 1} attempts)")

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()
