"""What a server takes from a client before it answers, bounded: ``ServerLimits`` (the
settings), ``Guard`` (ASGI middleware) and ``guarded_protocol`` (uvicorn's HTTP
protocol with a header deadline).

``Guard`` runs before any route: on a loopback server without an API key it answers
only ``Host`` headers that name loopback and its own port (a web page that rebinds its
DNS name to 127.0.0.1 gets a 421, not the collection); with a key it checks the key
before a byte of the body is read (401); a declared ``Content-Length`` over
``max_body`` is a 413 at once, a streamed body is counted and cut off there, and a body
not complete within ``body_timeout`` is a 408. The body is read whole (it is a small
JSON request) and handed to the app as it came.

``guarded_protocol`` closes a connection that has not sent a request's headers within
``header_timeout`` of opening it, or of the previous response (a client that sends half
a request, or a byte at a time, holds a descriptor that long at most), and one whose
headers pass ``max_header_bytes``. uvicorn itself closes idle keep-alive connections
after ``keep_alive`` seconds.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

KEY_NEEDED = "a valid API key is required (Authorization: Bearer KEY)"
# Open without the key: the health check and the API's own description (its pages and,
# served offline, their scripts and styles).
PUBLIC = ("/health", "/openapi.json", "/redoc", "/docs")
PUBLIC_UNDER = ("/docs/", "/static-offline-docs/")


@dataclass(frozen=True)
class ServerLimits:
    """How much and how slowly a client may send. ``max_body``: bytes of a request body
    (413 past it); ``body_timeout``: seconds for the whole body (408); ``header_timeout``:
    seconds from a connection opening (or its previous response) to a request's last
    header; ``max_header_bytes``: a request's headers; ``keep_alive``: seconds an idle
    connection stays open between requests."""

    max_body: int = 1024 * 1024
    body_timeout: float = 30.0
    header_timeout: float = 10.0
    max_header_bytes: int = 64 * 1024
    keep_alive: int = 5

    def __post_init__(self) -> None:
        for name in ("max_body", "body_timeout", "header_timeout", "max_header_bytes",
                     "keep_alive"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise UsageError(f"{name} must be a positive number, not {value!r:.40}",
                                 field=name)


def check_api_key(key: str | None, name: str = "the API key") -> str | None:
    """``key`` when an HTTP header can carry it: visible ASCII, no spaces (a key with
    other characters would start a server no client could use)."""
    if key is not None and (not key or not all("!" <= ch <= "~" for ch in key)):
        raise UsageError(f"{name} must be visible ASCII characters with no spaces (what "
                         "an HTTP header carries); choose another", field="api_key")
    return key


def host_allowed(host: str | None, port: int) -> bool:
    """Whether a ``Host`` header names this machine's loopback (``localhost`` or a
    loopback address) and ``port`` (80 when it names none)."""
    if not host:
        return False
    value = host.strip().lower()
    if value.startswith("["):  # [::1]:8000
        name, sep, rest = value[1:].partition("]")
        if not sep:
            return False
    else:
        name, colon, given = value.partition(":")
        rest = f":{given}" if colon else ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return False
    if (int(rest[1:]) if rest else 80) != port:
        return False
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


async def _refuse(send: Send, status: int, message: str, kind: str = "HTTPError",
                  headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    """A JSON error like every other the API sends; the connection closes after it
    (whatever the client still sends is not read)."""
    body = json.dumps({"error": message, "type": kind}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    """A streamed body passed ``max_body``."""


class Guard:
    """ASGI middleware: Host check (``port`` set: a loopback server without a key),
    the API key before the body, and the body bounded in size and time."""

    def __init__(self, app: App, *, limits: ServerLimits, api_key: str | None = None,
                 port: int | None = None) -> None:
        self.app, self.limits, self.api_key, self.port = app, limits, api_key, port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        if self.port is not None and not host_allowed(headers.get("host"), self.port):
            await _refuse(send, 421, f"this server answers requests for localhost:"
                          f"{self.port} only, not for Host {headers.get('host', '')!r:.80}")
            return
        if self.api_key is not None and not self._public(scope.get("path", "")) and \
                not self._authorized(headers.get("authorization", "")):
            await _refuse(send, 401, KEY_NEEDED, headers=((b"www-authenticate", b"Bearer"),))
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_body:
            await self._too_large(send)
            return
        try:
            body = await asyncio.wait_for(self._body(receive), self.limits.body_timeout)
        except (TimeoutError, asyncio.TimeoutError):
            await _refuse(send, 408, f"the request body did not arrive within "
                          f"{self.limits.body_timeout:g} s")
            return
        except _TooLarge:
            await self._too_large(send)
            return
        if body is not None:  # else the client went away
            await self.app(scope, _replay(body, receive), send)

    def _public(self, path: str) -> bool:
        return path in PUBLIC or path.startswith(PUBLIC_UNDER)

    def _authorized(self, header: str) -> bool:
        scheme, _, given = header.partition(" ")
        key = self.api_key or ""
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode("latin-1", "replace"), key.encode("ascii"))

    async def _too_large(self, send: Send) -> None:
        await _refuse(send, 413, f"the request body is larger than the server takes "
                      f"({self.limits.max_body:,} bytes)")

    async def _body(self, receive: Receive) -> bytes | None:
        """The whole body, or None when the client disconnected; ``_TooLarge`` past
        ``max_body``."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limits.max_body:
                raise _TooLarge
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` whole, then whatever the client sends next (its
    disconnect)."""
    given = False

    async def again() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


def _raw_response(status: str, message: str) -> bytes:
    body = json.dumps({"error": message, "type": "HTTPError"}).encode()
    return (f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\n"
            f"content-length: {len(body)}\r\n\r\n").encode() + body


def guarded_protocol(base: type[Any], limits: ServerLimits) -> type[Any]:
    """uvicorn's HTTP protocol class ``base`` with a deadline for each request's headers
    and a cap on their size (see the module's docstring). It relies on what uvicorn's
    protocols share: ``cycle`` (the request being answered) and ``on_response_complete``."""

    class Guarded(base):  # type: ignore[misc]
        _clock: asyncio.TimerHandle | None = None
        _pending = 0  # bytes received since the last request began

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if not self._between_requests():
                self._pending = 0
                return
            self._pending += len(data)
            if self._pending > limits.max_header_bytes:
                self._close("431 Request Header Fields Too Large", "the request's headers "
                            f"pass {limits.max_header_bytes:,} bytes")

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._pending = 0
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _between_requests(self) -> bool:
            cycle = getattr(self, "cycle", None)
            return cycle is None or bool(cycle.response_complete)

        def _arm(self) -> None:
            self._disarm()
            loop = asyncio.get_running_loop()
            self._clock = loop.call_later(limits.header_timeout, self._expire)

        def _disarm(self) -> None:
            if self._clock is not None:
                self._clock.cancel()
                self._clock = None

        def _expire(self) -> None:
            self._clock = None
            if self._between_requests():
                if self._pending:  # half a request: say why it is closed
                    self._close("408 Request Timeout", "the request's headers did not "
                                f"arrive within {limits.header_timeout:g} s")
                else:
                    self.transport.close()

        def _close(self, status: str, message: str) -> None:
            if not self.transport.is_closing():
                self.transport.write(_raw_response(status, message))
                self.transport.close()

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{base.__name__}"
    return Guarded
