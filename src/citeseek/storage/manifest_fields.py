"""Checked reading of manifest.json: each value with the dotted name of its field, so
that every problem is a ``CorruptCollection`` naming the file and the field; and the
sum of a data file (``FileSum``), as sealed and as checked again."""

from __future__ import annotations

import dataclasses
import re
import reprlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CorruptCollection

INT64 = 2**63 - 1  # SQLite's and FAISS's largest count
_SHA256 = re.compile(r"[0-9a-f]{64}")
SHOWN = reprlib.Repr()
SHOWN.maxstring = SHOWN.maxother = SHOWN.maxlong = 40


@dataclass(frozen=True)
class Field:
    """A value of manifest.json and where it sits: every check names the file and the
    dotted field."""

    path: Path
    name: str  # "" for the whole document
    value: Any

    def error(self, problem: str) -> CorruptCollection:
        where = f"has a bad {self.name}" if self.name else "is not a manifest"
        return CorruptCollection(f"{self.path} {where}: {problem}")

    def wrong(self, kind: str) -> CorruptCollection:
        return self.error(f"must be {kind}, not {SHOWN.repr(self.value)}")

    def _child(self, key: str, value: Any) -> Field:
        key = key if len(key) <= 40 else f"{key[:40]}…"
        return Field(self.path, f"{self.name}.{key}" if self.name else key, value)

    def object(self) -> dict[str, Any]:
        if not isinstance(self.value, dict):
            raise self.wrong("a JSON object")
        return self.value

    def get(self, key: str) -> Field:
        """The field ``key`` of this object, which must be there."""
        found = self.find(key)
        if found is None:
            raise CorruptCollection(f"{self.path} lacks {self._child(key, None).name}")
        return found

    def find(self, key: str) -> Field | None:
        """The field ``key`` of this object, or None when it is absent."""
        data = self.object()
        return self._child(key, data[key]) if key in data else None

    def entries(self) -> list[tuple[str, Field]]:
        """Each key of this object, and its field."""
        return [(key, self._child(key, value)) for key, value in self.object().items()]

    def text(self, choices: tuple[str, ...] = ()) -> str:
        if not isinstance(self.value, str):
            raise self.wrong("text")
        if not self.value or (choices and self.value not in choices):
            raise self.wrong(f"one of {', '.join(choices)}" if choices else "non-empty text")
        return self.value

    def whole(self, low: int, high: int) -> int:
        if type(self.value) is not int:  # not a bool, not 14.0
            raise self.wrong("a whole number")
        if not low <= self.value <= high:
            raise self.wrong(f"a whole number from {low} to {high}")
        return self.value

    def fraction(self) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise self.wrong("a number")
        if not 0 <= self.value <= 1:  # NaN is not either
            raise self.wrong("a number from 0 to 1")
        return self.value

    def flag(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.wrong("true or false")
        return self.value


@dataclass(frozen=True)
class FileSum:
    """A data file's SHA-256 and size, as the build that wrote it measured them, and
    the file's inode and modification time then (None in stores sealed before they were
    recorded): a file that still has them was not written since (``unchanged``)."""

    sha256: str
    bytes: int
    inode: int | None = None
    mtime_ns: int | None = None

    @classmethod
    def parse(cls, node: Field) -> FileSum:
        sha = node.get("sha256")
        if not _SHA256.fullmatch(sha.text()):
            raise sha.wrong("64 hexadecimal digits")
        inode, mtime = node.find("inode"), node.find("mtime_ns")
        return cls(sha.value, node.get("bytes").whole(0, INT64),
                   None if inode is None else inode.whole(0, INT64 * 2 + 1),
                   None if mtime is None else mtime.whole(0, INT64))

    @classmethod
    def measure(cls, path: Path, sha256: str) -> FileSum:
        st = path.stat()
        return cls(sha256, st.st_size, st.st_ino, st.st_mtime_ns)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def unchanged(self, path: Path) -> bool:
        """Whether ``path`` is still the very file that was measured: same inode, size
        and modification time (writing a file changes its time; a copy is another
        inode)."""
        if self.inode is None or self.mtime_ns is None:
            return False
        try:
            st = path.stat()
        except OSError:
            return False
        return (st.st_ino, st.st_size, st.st_mtime_ns) == (self.inode, self.bytes,
                                                           self.mtime_ns)
