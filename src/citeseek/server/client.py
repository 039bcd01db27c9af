"""A client of a running citeseek server (standard library only, so it needs no extra):
requests as JSON, the ``--json`` shapes back, and the server's error objects raised as
the citeseek errors they name."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

from .. import errors
from ..errors import CiteseekError
from .limits import check_api_key
from .run import API_KEY_ENV

TIMEOUT = 300.0  # seconds: a first query may wait for the server to load its model


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A citeseek server never redirects: a redirect is answered as the error it is, so
    the API key is never sent on to another address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


class Client:
    """The server at ``url`` (e.g. ``http://127.0.0.1:8000``); ``api_key`` defaults to
    ``CITESEEK_API_KEY``."""

    def __init__(self, url: str, *, api_key: str | None = None,
                 timeout: float = TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.api_key = check_api_key(
            api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None,
            "api_key" if api_key is not None else API_KEY_ENV)
        self.timeout = timeout

    def search(self, query: str, **options: Any) -> list[dict[str, Any]]:
        """``options``: the request fields (k, mode, source, date_from, date_to, doc_id,
        per_doc); None values are left out."""
        result: list[dict[str, Any]] = self.request("/search", {"query": query, **options})
        return result

    def ask(self, question: str, **options: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.request("/ask", {"question": question, **options})
        return result

    def request(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST ``body`` as JSON (GET when None) and return the decoded answer."""
        data = None if body is None else json.dumps(
            {k: v for k, v in body.items() if v is not None}).encode("utf-8")
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.url + path, data=data, headers=headers)
        try:
            with _OPENER.open(req, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise _server_error(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CiteseekError(f"cannot reach the server at {self.url}: {reason}") from None


def _server_error(exc: urllib.error.HTTPError) -> CiteseekError:
    """The citeseek error a server's error object names (its message kept)."""
    try:
        body = json.loads(exc.read().decode("utf-8"))
        message, kind = str(body["error"]), str(body.get("type", ""))
    except (ValueError, KeyError, TypeError):
        return CiteseekError(f"the server answered {exc.code} {exc.reason}")
    found = getattr(errors, kind, None)
    if exc.code in (400, 422) and not (isinstance(found, type) and
                                       issubclass(found, errors.UsageError)):
        found = errors.UsageError
    cls = found if isinstance(found, type) and issubclass(found, CiteseekError) else \
        CiteseekError
    return cls(message)
