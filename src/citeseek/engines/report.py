"""``BuildReport``: what a build did, for people (``str``) and scripts (``to_dict``)."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any

from ..ingest.sources import Skipped
from ..terminal import printable


@dataclass
class BuildReport:
    """What a build did. ``generation`` is None when nothing changed. ``damaged`` names
    the live generation (or ``CURRENT``) found damaged, for ``damage``: the build then
    started from ``previous``, the last good generation (None: from the sources)."""

    store: str
    generation: str | None
    previous: str | None
    damaged: str | None = None
    damage: str | None = None
    files: int = 0
    files_changed: int = 0
    files_removed: int = 0
    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0  # vectors taken over from an interrupted build
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def unchanged(self) -> bool:
        return self.generation is None

    def skipped_lines(self, shown: int = 10) -> str:
        """The skipped files with their reasons, one a line (the first ``shown``, the
        rest counted), or "" when none was skipped."""
        lines = [f"\n  {s}" for s in self.skipped[:shown]]
        if len(self.skipped) > shown:
            lines.append(f"\n  ... and {len(self.skipped) - shown:,} more")
        return printable("".join(lines))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped"] = [{"source": s.source, "reason": s.reason} for s in self.skipped]
        data["unchanged"] = self.unchanged
        return data

    def __str__(self) -> str:
        head = (f"{self.store}: up to date ({self.previous})" if self.unchanged else
                f"{self.store}: built {self.generation}")
        if self.damaged:
            head += (f"\n  {self.damaged} was damaged ({self.damage}): built from "
                     + (self.previous or "the sources") + ", and it is replaced")
        lines = [
            head,
            f"  files {self.files} ({self.files_changed} changed, {self.files_removed} removed),"
            f" documents {self.documents}, passages {self.chunks}, newly embedded "
            f"{self.embedded}{f' (reused {self.reused})' if self.reused else ''}, "
            f"{self.seconds:.1f}s",
        ]
        if self.skipped:
            lines.append(f"  skipped {len(self.skipped)}:")
            lines.extend(f"    {s}" for s in self.skipped)
        return printable("\n".join(lines))


def versions() -> dict[str, str]:
    """Versions of citeseek and of the libraries whose output a collection holds."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"sqlite": sqlite3.sqlite_version}
    for pkg in ("citeseek", "faiss-cpu", "sentence-transformers"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out
