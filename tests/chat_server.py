"""A chat-completions endpoint for tests: a real local HTTP server (standard library
only, on a free port) whose replies each test chooses, streamed (SSE) or whole, and
that records every request. The ``serve`` fixture in ``tests/conftest.py`` starts them
and shuts them down."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[dict[str, Any], int],
                 tuple[int, dict[str, str], bytes | list[bytes] | Iterator[bytes]]]


def chat(text: str) -> bytes:
    return json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": text}}]
                       }).encode()


def sse(pieces: list[str]) -> list[bytes]:
    events = []
    for piece in pieces:
        chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                 "choices": [{"index": 0, "delta": {"content": piece},
                              "finish_reason": None}]}
        events.append(f"data: {json.dumps(chunk)}\n\n".encode())
    return [*events, b"data: [DONE]\n\n"]


class Server:
    """A chat-completions endpoint whose replies the test chooses; it records every
    request it was sent."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                status, headers, payload = outer.reply(body, len(outer.requests))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if not isinstance(payload, bytes):  # server-sent events, one by one
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    with contextlib.suppress(OSError):  # the client may hang up
                        for event in payload:
                            self.wfile.write(event)
                            self.wfile.flush()
                    return
                self.send_header("Content-Type", headers.get("Content-Type",
                                                             "application/json"))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
