"""Serving a collection over HTTP: a JSON API (FastAPI, run by uvicorn or as a Ray Serve
deployment) that holds the collection and its model in memory, and the client that
``citeseek search/ask --server URL`` use. Nothing here is imported by the library
itself; the ``serve`` extra brings FastAPI and uvicorn.

``app`` holds the routes, request fields, errors and the API key; ``schemas`` the
response bodies' shapes for ``/openapi.json``; ``holder`` the collection opened once,
each request answered from one pinned generation; ``limits`` what a client may send
(body size, header and body deadlines, the Host check, the key before the body);
``run`` the address check and uvicorn; ``ray_serve`` the same app as Ray Serve
replicas; ``client``
what ``--server URL`` uses (standard library only)."""
