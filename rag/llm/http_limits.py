"""An httpx transport that bounds each request in total time and reply size.

httpx's timeouts bound each network operation, not the request: a server that sends a byte
every couple of seconds never trips a 10 s read timeout, and one that ignores max_tokens can
send megabytes. This transport gives every request one deadline (each connect, write and read
waits at most until then, and the body is read against it) and a byte budget checked against
Content-Length up front and against what has arrived while reading.
"""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx

#: The least reply budget, whatever max_tokens says: error bodies and usage blocks need room.
MIN_REPLY_BYTES = 1 << 20
#: Reply bytes allowed per max_tokens token: a token is a few bytes, and JSON escapes
#: non-ASCII text as \uXXXX (six bytes a character), plus logprobs and other extras.
BYTES_PER_TOKEN = 32


def reply_budget(max_tokens: int, max_reply_bytes: int | None) -> int:
    """The reply size limit in bytes: the setting, or one that max_tokens cannot reach."""
    if max_reply_bytes is not None:
        return max_reply_bytes
    return max(MIN_REPLY_BYTES, BYTES_PER_TOKEN * max_tokens)


def env_proxy(url: str) -> str | None:
    """The proxy that HTTP(S)_PROXY / NO_PROXY name for `url`, as httpx would use by itself.

    A client given its own transport no longer reads the environment, so the transport must.
    """
    parsed = urllib.parse.urlsplit(url)
    if urllib.request.proxy_bypass(parsed.hostname or ""):
        return None
    proxies = urllib.request.getproxies_environment()
    return proxies.get(parsed.scheme) or proxies.get("all")


class DeadlineExceededError(httpx.ReadTimeout):
    """The request ran past its total deadline (a timeout, so clients treat it as one)."""


class ReplyTooLargeError(Exception):
    """The reply is larger than the byte budget; not worth another try."""

    def __init__(self, limit: int, seen: int) -> None:
        """Say how much arrived (or was announced) against the limit."""
        super().__init__(f"reply larger than {limit} bytes (at least {seen}); not read further")
        self.limit = limit


class BoundedTransport(httpx.BaseTransport):
    """Wraps an httpx transport: one deadline per request and a cap on the reply's size."""

    def __init__(
        self, deadline_s: float, max_bytes: int, inner: httpx.BaseTransport | None = None
    ) -> None:
        """Bound every request to deadline_s seconds and max_bytes of body."""
        if deadline_s <= 0 or max_bytes < 1:
            raise ValueError(
                f"need deadline_s > 0 and max_bytes >= 1, got {deadline_s}, {max_bytes}"
            )
        self.deadline_s = deadline_s
        self.max_bytes = max_bytes
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send with each wait clipped to the deadline; the body is read under both limits."""
        deadline = time.monotonic() + self.deadline_s
        timeouts: dict[str, Any] = dict(request.extensions.get("timeout", {}))
        for name in ("connect", "read", "write", "pool"):
            given = timeouts.get(name)
            timeouts[name] = self.deadline_s if given is None else min(given, self.deadline_s)
        request.extensions["timeout"] = timeouts
        response = self._inner.handle_request(request)
        announced = response.headers.get("content-length", "")
        if announced.isdigit() and int(announced) > self.max_bytes:
            response.close()
            raise ReplyTooLargeError(self.max_bytes, int(announced))
        stream = _BoundedStream(response, request, deadline, self.deadline_s, self.max_bytes)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=stream,
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        """Close the wrapped transport's connections."""
        self._inner.close()


class _BoundedStream(httpx.SyncByteStream):
    """A response body that stops at the deadline or the byte budget."""

    def __init__(
        self,
        response: httpx.Response,
        request: httpx.Request,
        deadline: float,
        deadline_s: float,
        max_bytes: int,
    ) -> None:
        """Read `response`'s raw body for `request`."""
        self._response = response
        self._request = request
        self._deadline = deadline
        self._deadline_s = deadline_s
        self._max_bytes = max_bytes

    def __iter__(self) -> Iterator[bytes]:
        """The body's chunks, as long as both limits hold."""
        seen = 0
        for chunk in self._response.iter_raw():
            seen += len(chunk)
            if seen > self._max_bytes:
                raise ReplyTooLargeError(self._max_bytes, seen)
            if time.monotonic() > self._deadline:
                raise DeadlineExceededError(
                    f"reply not complete within {self._deadline_s}s", request=self._request
                )
            yield chunk

    def close(self) -> None:
        """Release the connection."""
        self._response.close()
