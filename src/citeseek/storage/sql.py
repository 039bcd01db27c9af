"""Small pieces every table of a generation's database shares: a part that reads and
writes through the database's connection, and ids in batches short enough for one
``IN (...)`` statement."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Protocol

BATCH = 500  # ids per IN (...): well under SQLite's limit on bound parameters


class HasConnection(Protocol):
    @property
    def conn(self) -> sqlite3.Connection: ...


class Part:
    """One table's (or one job's) methods of a ``GenerationDB``, over its connection (one
    per thread for a read-only database)."""

    def __init__(self, db: HasConnection) -> None:
        self._db = db

    @property
    def conn(self) -> sqlite3.Connection:
        return self._db.conn


def in_batches(ids: Iterable[int], size: int = BATCH) -> Iterator[tuple[list[int], str]]:
    """``ids`` (as Python ints) in lists of at most ``size``, each with its ``?,?,...``."""
    batch: list[int] = []
    for value in ids:
        batch.append(int(value))
        if len(batch) == size:
            yield batch, ",".join("?" * len(batch))
            batch = []
    if batch:
        yield batch, ",".join("?" * len(batch))
