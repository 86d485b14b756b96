"""A disk cache of LLM replies keyed by (model, endpoint, messages, decoding parameters)."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import diskcache
from pydantic import ValidationError

from rag.llm.base import ChatMessage, LLMResponse

logger = logging.getLogger(__name__)


def cache_key(
    model: str,
    messages: list[ChatMessage],
    params: dict[str, Any],
    output: str | None = None,
    *,
    endpoint: str | None = None,
) -> str:
    """The sha256 hex digest that identifies one call.

    `output` is a structured-output key; `endpoint` the server's base URL, so that replies
    from one server (a broken one, say) are never served for another that has the same model
    name. In-process backends have no endpoint.
    """
    payload: dict[str, Any] = {
        "model": model,
        "messages": [[m.role, m.content] for m in messages],
        "params": params,
    }
    # Only structured calls carry an output and only servers an endpoint, so the keys of
    # plain in-process calls stay as they were.
    if output is not None:
        payload["output"] = output
    if endpoint is not None:
        payload["endpoint"] = endpoint.rstrip("/")
    # sort_keys and fixed separators make the key stable across runs and dict orders.
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class LLMCache:
    """Replies stored under `<cache_dir>/llm`; safe to share between threads and processes."""

    def __init__(self, cache_dir: Path) -> None:
        """Open (or create) the cache folder."""
        self.directory = Path(cache_dir) / "llm"
        self._cache = diskcache.Cache(str(self.directory))

    def get(self, key: str) -> LLMResponse | None:
        """The stored reply for `key`, marked cached, or None."""
        stored = self._cache.get(key)
        if stored is None:
            return None
        try:
            response = LLMResponse.model_validate(stored)
        except ValidationError as exc:
            # An entry from an older format is a miss, not an error: the call is simply redone.
            logger.warning("ignoring unreadable LLM cache entry %s: %s", key[:12], exc)
            return None
        return response.model_copy(update={"cached": True})

    def put(self, key: str, response: LLMResponse) -> None:
        """Store a fresh reply."""
        self._cache.set(key, response.model_dump(exclude={"cached"}))

    def close(self) -> None:
        """Release the cache's SQLite connections."""
        self._cache.close()
