"""Retry with exponential backoff on transient LLM failures, then one clear LLMError."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TypeVar

import tenacity

from rag.errors import LLMError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: HTTP statuses worth another try: request timeout, rate limit, and server-side failures.
RETRYABLE_STATUS = frozenset({408, 409, 429})


class TransientLLMError(LLMError):
    """A failure that may pass on its own (connection, timeout, HTTP 429/5xx); retried."""


def _status_of(exc: BaseException) -> int | None:
    """The HTTP status an exception carries, if it carries one."""
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is worth retrying."""
    if isinstance(exc, (TransientLLMError, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, LLMError):
        return False
    # Look httpx up only if something already imported it: an httpx error cannot exist otherwise.
    httpx = sys.modules.get("httpx")
    if httpx is not None and isinstance(exc, httpx.TransportError):
        return True
    status = _status_of(exc)
    return status is not None and (status in RETRYABLE_STATUS or status >= 500)


def call_with_retry(
    fn: Callable[[], T],
    *,
    max_retries: int,
    where: str,
    backoff_s: float = 1.0,
    backoff_max_s: float = 30.0,
) -> T:
    """Run `fn`, retrying transient failures up to `max_retries` times with backoff."""
    attempts = max_retries + 1

    def log_retry(state: tenacity.RetryCallState) -> None:
        """Say what failed and how long until the next try."""
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        logger.warning(
            "%s: attempt %d/%d failed (%s); retrying in %.2fs",
            where,
            state.attempt_number,
            attempts,
            exc,
            delay,
        )

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        # Jitter keeps many worker threads from retrying a rate-limited server in lockstep.
        wait=tenacity.wait_exponential(multiplier=backoff_s, max=backoff_max_s)
        + tenacity.wait_random(0, backoff_s / 2),
        retry=tenacity.retry_if_exception(is_transient),
        before_sleep=log_retry,
        reraise=True,
    )
    try:
        return retrying(fn)
    except Exception as exc:
        if not is_transient(exc):
            raise
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        logger.error("%s: giving up after %s: %s", where, tries, exc)
        raise LLMError(f"{where}: gave up after {tries}: {exc}") from exc
