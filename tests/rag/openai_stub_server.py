"""A small real HTTP server speaking the OpenAI chat-completions protocol, for client tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Mode = Literal["ok", "garbage", "garbage_html", "no_choices", "empty_choices", "trickle", "huge"]
#: A reverse proxy's error page, as some send it with HTTP 200.
BAD_GATEWAY_PAGE = (
    "<html><body><h1>502 Bad Gateway</h1>\n"
    "The server returned an invalid or incomplete response.\n</body></html>\n"
)
#: The most bytes a trickling handler sends, whatever else happens.
_TRICKLE_MAX = 2000
Replier = Callable[[list[dict[str, Any]]], str]
#: Scripts the first reply token's likeliest tokens: [(token, natural-log probability)], best first.
LogprobScript = Callable[[list[dict[str, Any]]], list[tuple[str, float]]]


def token_logprobs(top: list[tuple[str, float]], count: int) -> dict[str, Any]:
    """A choice's `logprobs` as OpenAI writes it: one content entry with its top_logprobs."""

    def entry(token: str, logprob: float) -> dict[str, Any]:
        return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

    first = top[0]
    return {
        "content": [
            {**entry(*first), "top_logprobs": [entry(t, lp) for t, lp in top[:count]]},
        ],
        "refusal": None,
    }


def echo_reply(messages: list[dict[str, Any]]) -> str:
    """The deterministic reply the stub gives: the last user message, echoed."""
    last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return f"echo: {last_user}"


class _QuietServer(ThreadingHTTPServer):
    """Joins handler threads on close and stays silent about clients that hung up."""

    daemon_threads = False
    block_on_close = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore errors from clients that gave up (timeouts close the socket mid-reply)."""


class StubOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 whose misbehaviour the test chooses."""

    def __init__(
        self,
        mode: Mode = "ok",
        fail_first: int = 0,
        delay_s: float = 0.0,
        reply: Replier | None = None,
        trickle_s: float = 0.2,
        huge_bytes: int = 5_000_000,
        announce_length: bool = True,
        logprobs: LogprobScript | None = None,
    ) -> None:
        """Serve in `mode`, answering HTTP 500 to the first `fail_first` requests.

        `reply` scripts the assistant's text from the request's messages; the default echoes.
        Mode "trickle" sends the headers, then the body a byte every `trickle_s` seconds;
        "huge" sends a completion whose text makes the body `huge_bytes` long (without a
        Content-Length header unless `announce_length`). `logprobs` scripts the first token's
        distribution a request with `logprobs: true` gets (its top one is the reply's text).
        """
        self.logprobs = logprobs
        self.mode: Mode = mode
        self.reply: Replier = reply or echo_reply
        self.fail_first = fail_first
        self.delay_s = delay_s
        self.trickle_s = trickle_s
        self.huge_bytes = huge_bytes
        self.announce_length = announce_length
        self.bytes_sent = 0
        self.request_count = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        # Set at stop so that slow handlers end at once and the server can join them.
        self._stopping = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The /v1 root a client is pointed at."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> StubOpenAIServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving and wait for every handler thread to finish."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _arrive(self, body: dict[str, Any]) -> int:
        """Count a request on arrival (a slow one too) and return its number."""
        with self._lock:
            self.request_count += 1
            self.bodies.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.request_count

    def _respond(self, number: int, body: dict[str, Any]) -> tuple[int, bytes]:
        """Decide the status and body for one request, by mode and request number."""
        if number <= self.fail_first:
            return 500, json.dumps({"error": {"message": "overloaded", "type": "server"}}).encode()
        if self.mode in ("garbage", "garbage_html"):
            return 200, b"<html>this is not json"
        reply = self.reply(body.get("messages", []))
        top = None
        if body.get("logprobs") and self.logprobs is not None:
            top = self.logprobs(body.get("messages", []))
            reply = top[0][0]
        if self.mode == "huge":
            reply = "x" * self.huge_bytes
        prompt_words = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        payload: dict[str, Any] = {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "stub"),
            "usage": {
                "prompt_tokens": prompt_words,
                "completion_tokens": len(reply.split()),
                "total_tokens": prompt_words + len(reply.split()),
            },
        }
        if self.mode == "empty_choices":
            payload["choices"] = []
        elif self.mode in ("ok", "trickle", "huge"):
            message = {"role": "assistant", "content": reply}
            choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": "stop"}
            if top is not None:
                choice["logprobs"] = token_logprobs(top, int(body.get("top_logprobs") or 1))
            payload["choices"] = [choice]
        return 200, json.dumps(payload).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        """A request handler class bound to this server's state."""
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                """Answer one chat-completions request the way the stub's mode says."""
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                number = stub._arrive(body)
                try:
                    if stub.delay_s:
                        stub._stopping.wait(stub.delay_s)
                    if self.path.rstrip("/") != "/v1/chat/completions":
                        status, data = 404, b'{"error": {"message": "not found"}}'
                    else:
                        status, data = stub._respond(number, body)
                finally:
                    with stub._lock:
                        stub.in_flight -= 1
                self.send_response(status)
                html = stub.mode == "garbage_html" and status == 200
                self.send_header("Content-Type", "text/html" if html else "application/json")
                if stub.mode != "huge" or stub.announce_length:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if stub.mode == "trickle":
                    self._trickle(data)
                else:
                    self._send_body(data)

            def _trickle(self, data: bytes) -> None:
                """One byte at a time until the body, the byte cap or the server ends."""
                for i in range(min(len(data), _TRICKLE_MAX)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    with stub._lock:
                        stub.bytes_sent += 1
                    if stub._stopping.wait(stub.trickle_s):
                        return

            def _send_body(self, data: bytes) -> None:
                """The body in 64 KiB pieces, stopping when the client hangs up."""
                for start in range(0, len(data), 1 << 16):
                    if stub._stopping.is_set():
                        return
                    self.wfile.write(data[start : start + (1 << 16)])
                    with stub._lock:
                        stub.bytes_sent += min(1 << 16, len(data) - start)

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output clean."""

        return Handler
