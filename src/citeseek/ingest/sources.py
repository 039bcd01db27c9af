"""What a build reads and what it leaves out: a ``SourceFile`` (a file found under the
paths given to a build, with its document id), a ``Skipped`` file or JSONL line with
its reason, and ``display_path``, which writes any path as text UTF-8 output can
carry."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Skipped:
    """A file (or JSONL line) that was not indexed, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as text any UTF-8 output (SQLite, JSON, a terminal) can carry: bytes of a
    name that are not UTF-8 (a Latin-1 ``café`` on Linux) are written ``\\xe9``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class SourceFile:
    """A file found under the paths given to a build."""

    path: Path
    doc_id: str  # path relative to the root it was found under (POSIX separators)

    @property
    def key(self) -> str:
        return display_path(self.path)
