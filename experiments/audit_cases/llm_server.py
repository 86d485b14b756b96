"""A misbehaving OpenAI-compatible server on 127.0.0.1 for the integrity audit (bounded)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: A reverse proxy's error page, as some send it with HTTP 200.
HTML_PAGE = (
    "<html><body><h1>502 Bad Gateway</h1>\n"
    "The server returned an invalid or incomplete response.\n</body></html>\n"
)
#: The longest any slow handler keeps a connection, whatever the mode.
MAX_HOLD_S = 40.0
#: The most bytes a trickling handler sends.
TRICKLE_MAX = 300


def free_port() -> int:
    """A loopback port nobody listens on (bound, then closed): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy_content(body: dict[str, Any], answer: str) -> str:
    """The assistant text a healthy server gives, shaped by the schema the request names."""
    wanted = json.dumps(body.get("response_format") or body.get("grammar") or "")
    if "named_entities" in wanted:
        return json.dumps({"named_entities": ["Gustave Eiffel", "Paris"]})
    if "triples" in wanted:
        return json.dumps({"triples": [["Gustave Eiffel", "designed", "Eiffel Tower"]]})
    if "answer" in wanted:
        return json.dumps({"answer": answer, "citations": [1]})
    return "A short summary of the passages about towers, scientists and telescopes."


class LLMServer:
    """Serve chat completions in a mode the audit sets (and may change between runs)."""

    def __init__(self, mode: str = "ok", answer: str = "Gustave Eiffel") -> None:
        """Bind 127.0.0.1 on a free port; `mode` is one of the names handled in `_reply`."""
        self.mode = mode
        self.answer = answer
        self.huge_bytes = 50_000_000
        self.requests = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The /v1 root the client is given."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> LLMServer:
        """Start serving."""
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving; slow handlers notice the stop event and end."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class, bound to this server."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            """Answers POST /v1/chat/completions by the owner's mode."""

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet."""

            def do_GET(self) -> None:
                """Model lists and health checks: a plain 404."""
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                """Read the request, count it, and reply by mode."""
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                with owner._lock:
                    owner.requests += 1
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
                    owner._reply(self, body)

        return Handler

    def _send(self, h: BaseHTTPRequestHandler, status: int, data: bytes, ctype: str) -> None:
        """One whole reply with a Content-Length."""
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _completion(self, text: str) -> bytes:
        """A chat-completion body carrying `text`."""
        return json.dumps(
            {
                "id": "audit",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": "stub",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
        ).encode()

    def _reply(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        """Reply by mode: ok, html_content, html_body, offschema, status:N, trickle, silent,
        huge, huge_nolen, long_answer, not_json, empty_choices."""
        mode = self.mode
        js = "application/json"
        if mode == "ok":
            self._send(h, 200, self._completion(healthy_content(body, self.answer)), js)
        elif mode == "html_content":
            self._send(h, 200, self._completion(HTML_PAGE), js)
        elif mode == "html_body":
            self._send(h, 200, HTML_PAGE.encode(), "text/html")
        elif mode == "offschema":
            self._send(h, 200, self._completion('{"foo": 1}'), js)
        elif mode.startswith("status:"):
            code = int(mode.split(":")[1])
            err = json.dumps({"error": {"message": f"audit {code}", "code": code}}).encode()
            h.send_response(code)
            h.send_header("Content-Type", js)
            h.send_header("Retry-After", "0")
            h.send_header("Content-Length", str(len(err)))
            h.end_headers()
            h.wfile.write(err)
        elif mode == "not_json":
            self._send(h, 200, b"hello, this is not json", js)
        elif mode == "empty_choices":
            self._send(h, 200, json.dumps({"choices": []}).encode(), js)
        elif mode == "long_answer":
            text = json.dumps({"answer": "Eiffel " * 3000, "citations": [1]})
            self._send(h, 200, self._completion(text), js)
        elif mode == "trickle":
            data = self._completion(healthy_content(body, self.answer))
            h.send_response(200)
            h.send_header("Content-Type", js)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.flush()
            start = time.monotonic()
            for i in range(min(len(data), TRICKLE_MAX)):
                if self._stop.is_set() or time.monotonic() - start > MAX_HOLD_S:
                    break
                h.wfile.write(data[i : i + 1])
                h.wfile.flush()
                self._stop.wait(1.0)
        elif mode == "silent":
            self._stop.wait(MAX_HOLD_S)
        elif mode in ("huge", "huge_nolen"):
            pad = "x" * self.huge_bytes
            data = self._completion(pad)
            h.send_response(200)
            h.send_header("Content-Type", js)
            if mode == "huge":
                h.send_header("Content-Length", str(len(data)))
            else:
                h.send_header("Connection", "close")
            h.end_headers()
            for i in range(0, len(data), 1 << 16):
                if self._stop.is_set():
                    break
                h.wfile.write(data[i : i + (1 << 16)])
        else:
            raise ValueError(f"unknown mode {mode}")
