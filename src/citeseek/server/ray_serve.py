"""The same API as a Ray Serve deployment: ``replicas`` copies of the app, each holding
the collection (opened from storage every node sees, under the same path) and its model,
behind Ray Serve's HTTP proxy. Each replica follows rebuilds as the single server does."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

from ..errors import UsageError

APP_NAME = "citeseek"


def _import_ray() -> tuple[Any, Any]:
    try:
        import ray
        from ray import serve
    except ImportError as exc:
        raise UsageError("--engine ray needs the ray extra: pip install 'citeseek[ray]'") \
            from exc
    return ray, serve


def app_builder(store: str, api_key: str | None, rerank: tuple[str, ...] = (),
                llm: Any = None) -> Callable[[], Any]:
    """What each replica runs at start: open the collection, load the model, make the
    app. A plain function, so Ray sends it (and the two strings) to the replicas."""

    def build() -> Any:
        from .app import create_app
        from .holder import CollectionHolder, Unavailable

        holder = CollectionHolder(store)
        # a damaged collection is answered 503 with the reason until a good one is live
        with contextlib.suppress(Unavailable):
            holder.warm()
        return create_app(holder, api_key=api_key, rerank=rerank, llm=llm)

    return build


def deploy(store: str | os.PathLike[str], *, replicas: int, host: str, port: int,
           api_key: str | None, rerank: tuple[str, ...] = (), llm: Any = None) -> None:
    """Run the app on the connected Ray cluster with ``replicas`` replicas (one CPU
    each in Ray's accounting), its HTTP proxy on ``host:port``; returns once every
    replica has loaded the collection."""
    if replicas < 1:
        raise UsageError(f"--replicas must be >= 1, not {replicas}")
    _, serve = _import_ray()
    serve.start(http_options={"host": host, "port": port})
    ingress = serve.ingress(app_builder(str(os.path.abspath(store)), api_key, rerank, llm))
    deployment = serve.deployment(ingress(), name="CiteseekAPI", num_replicas=replicas,
                                  ray_actor_options={"num_cpus": 1})
    serve.run(deployment.bind(), name=APP_NAME, route_prefix="/", blocking=False)


def serve_on_ray(store: str | os.PathLike[str], *, replicas: int, host: str, port: int,
                 api_key: str | None, address: str | None, rerank: list[str] | None = None,
                 llm: Any = None) -> None:
    """Connect to (or start) a Ray cluster, deploy, and serve until interrupted (the
    rerankers checked here first, then made on each replica)."""
    from ..rerank.choice import resolve

    for name in rerank or ():
        resolve(name, llm=llm)
    ray, serve = _import_ray()
    ray.init(address=address, include_dashboard=False)
    try:
        deploy(store, replicas=replicas, host=host, port=port, api_key=api_key,
               rerank=tuple(rerank or ()), llm=llm)
        print(f"citeseek: serving {store} on http://{host}:{port} with {replicas} "
              "Ray Serve replica(s); Ctrl-C stops", flush=True)
        while True:
            time.sleep(3600)
    finally:
        serve.shutdown()
        ray.shutdown()
