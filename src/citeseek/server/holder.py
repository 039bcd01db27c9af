"""The collection a server holds: opened once (its model loaded once), each request
answered from one pinned generation (closed once no request holds it and it is no longer
live), and a damaged or deleted collection, or one built anew with another model,
reported, not fatal: the server keeps answering 503 with the reason until a good
generation is published."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ..collection import Collection
from ..embed.base import Embedder
from ..errors import CollectionNotFound, CorruptCollection, ModelMismatch

T = TypeVar("T")
# What makes a collection unable to answer: damage, a deleted store, another model.
_GONE = (CorruptCollection, CollectionNotFound, ModelMismatch)
REOPEN_EVERY = 1.0  # seconds between attempts to open a collection that failed to open
_ATTEMPTS = 3  # a request whose generation builds removed under it runs again


class Unavailable(Exception):
    """The collection cannot answer now (missing, damaged, another model): a 503.
    ``kind`` is the name of the citeseek error behind it."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.kind = type(cause).__name__


class CollectionHolder:
    """Opens the collection at ``store`` on first use and hands out pinned copies."""

    def __init__(self, store: str | os.PathLike[str], *,
                 model: str | Embedder | None = None, verify: bool = True) -> None:
        self.store, self.model, self.verify = store, model, verify
        self._collection: Collection | None = None
        self._error: Unavailable | None = None
        self._tried = 0.0
        self._lock = threading.Lock()

    def collection(self) -> Collection:
        """The open collection; ``Unavailable`` while it cannot be opened."""
        if self._collection is not None:
            return self._collection
        with self._lock:
            if self._collection is None:
                if self._error is not None and time.monotonic() - self._tried < REOPEN_EVERY:
                    raise self._error
                self._tried = time.monotonic()
                try:
                    self._collection = Collection(self.store, model=self.model,
                                                  verify=self.verify)
                    self._error = None
                except _GONE as exc:
                    self._error = Unavailable(exc)
                    raise self._error from exc
            return self._collection

    def warm(self) -> None:
        """Load the model now (an embedding of one query), not on the first request."""
        col = self.collection()
        col.embed_query("warm up")

    def run(self, action: Callable[[Collection], T]) -> tuple[str, T]:
        """``action`` on a copy of the collection pinned to its live generation, and that
        generation's name. Should builds remove the generation mid-request, the request
        runs again on the live one; damage is ``Unavailable``."""
        for attempt in range(_ATTEMPTS):
            try:
                live = self.collection()
                held = live.pinned()
            except _GONE as exc:
                raise Unavailable(exc) from exc
            try:
                return held.generation, action(held)
            except CorruptCollection as exc:
                try:
                    moved_on = live.refresh()
                except _GONE as newer:
                    raise Unavailable(newer) from newer
                if attempt + 1 == _ATTEMPTS or (not moved_on and
                                                live.generation == held.generation):
                    raise Unavailable(exc) from exc
            finally:
                held.close()  # its generation closes once it is no longer live
        raise AssertionError("unreachable")
