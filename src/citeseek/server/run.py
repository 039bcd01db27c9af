"""Starting the API: the address check (loopback by default; any other address only
with an API key), the key from the environment (refused unless an HTTP header can carry
it), and uvicorn in this process with the limits of ``limits.ServerLimits``: a body
size, header, body and keep-alive timeouts, and, on loopback without a key, only
``Host`` headers that name loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

from ..errors import UsageError
from ..storage.layout import resolve_root
from .limits import ServerLimits, check_api_key

API_KEY_ENV = "CITESEEK_API_KEY"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is this machine's loopback."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def api_key(host: str) -> str | None:
    """The API key from ``CITESEEK_API_KEY`` (None when unset). Binding to an address
    other than loopback without one is a ``UsageError``: the collection would be open to
    the network."""
    key = check_api_key(os.environ.get(API_KEY_ENV) or None, API_KEY_ENV)
    if key is None and not is_loopback(host):
        raise UsageError(f"{host} is reachable from other machines: set {API_KEY_ENV} to "
                         "a secret that clients send as 'Authorization: Bearer KEY', or "
                         f"serve on {DEFAULT_HOST}")
    return key


def serve(store: str | os.PathLike[str], *, host: str = DEFAULT_HOST,
          port: int = DEFAULT_PORT, engine: str = "local", replicas: int = 1,
          address: str | None = None, log_level: str = "info",
          limits: ServerLimits | None = None) -> None:
    """Serve the collection at ``store`` until interrupted: with uvicorn in this process
    (``engine="local"``), or as ``replicas`` Ray Serve replicas (``engine="ray"``, on
    the cluster at ``address``, default a local one). The collection and its model are
    loaded before the first request. ``limits`` bound what clients may send (the
    defaults of ``ServerLimits``)."""
    limits = limits or ServerLimits()
    key = api_key(host)
    resolve_root(store)  # a mistyped path fails here; damage is answered with 503s
    if engine == "ray":
        from .ray_serve import serve_on_ray

        serve_on_ray(store, replicas=replicas, host=host, port=port, api_key=key,
                     address=address)
        return
    try:
        import uvicorn
        from uvicorn.protocols.http.auto import AutoHTTPProtocol

        from .app import create_app
        from .limits import guarded_protocol
    except ImportError as exc:
        raise UsageError("serving needs the serve extra: pip install 'citeseek[serve]'") \
            from exc
    from .holder import CollectionHolder, Unavailable

    holder = CollectionHolder(store)
    try:
        holder.warm()
    except Unavailable as exc:  # answered 503 until a good generation is published
        print(f"citeseek: warning: {exc}; answering 503 until it can be opened",
              file=sys.stderr)
    # Without a key, a loopback server answers only requests that name loopback: a web
    # page whose DNS name was rebound to 127.0.0.1 is refused.
    app = create_app(holder, api_key=key, limits=limits,
                     loopback_port=port if key is None else None)
    uvicorn.run(app, host=host, port=port, log_level=log_level,
                http=guarded_protocol(AutoHTTPProtocol, limits),
                timeout_keep_alive=limits.keep_alive)
