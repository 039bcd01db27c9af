"""Finding article files under the paths given to a build, and reading their bytes
safely: hidden files, unsupported types, links out of reach, FIFOs, devices and files
too large are skipped with a reason, never hung on."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .decoding import Unreadable

TEXT_EXTENSIONS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md"}
HTML_EXTENSIONS = {".html": "html", ".htm": "html"}
JSONL_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl"}
PDF_EXTENSIONS = {".pdf": "pdf"}
FORMATS = {**TEXT_EXTENSIONS, **HTML_EXTENSIONS, **JSONL_EXTENSIONS, **PDF_EXTENSIONS}
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Skipped:
    """A file (or JSONL line) that was not indexed, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass(frozen=True)
class SourceFile:
    """A file found under the paths given to a build."""

    path: Path
    doc_id: str  # path relative to the root it was found under (POSIX separators)

    @property
    def key(self) -> str:
        return str(self.path)


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[SourceFile], list[Skipped]]:
    """Find the article files under ``paths`` (folders recursively, hidden files skipped)."""
    found: dict[str, SourceFile] = {}
    skipped: list[Skipped] = []
    for raw in paths:
        root = Path(raw).expanduser()
        if root.is_symlink() and not root.exists():
            skipped.append(Skipped(str(root), "dangling symbolic link"))
        elif root.is_file():
            _add(found, skipped, root, root.name)
        elif root.is_dir():
            for path, rel in _walk(root, skipped):
                _add(found, skipped, path, rel)
        else:
            skipped.append(Skipped(str(root), "no such file or folder"))
    return sorted(found.values(), key=lambda s: s.doc_id), skipped


def _walk(root: Path, skipped: list[Skipped]) -> Iterator[tuple[Path, str]]:
    seen_dirs: set[tuple[int, int]] = set()

    def unreadable_folder(exc: OSError) -> None:  # reported, never silently left out
        skipped.append(Skipped(exc.filename or str(root),
                               f"cannot read folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True,
                                                onerror=unreadable_folder):
        try:
            st = os.stat(dirpath)
        except OSError as exc:  # removed or replaced while the walk was under way
            skipped.append(Skipped(dirpath, f"cannot read folder: {exc.strerror or exc}"))
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:  # a symlink loop: stop descending
            skipped.append(Skipped(dirpath, "symbolic link loop"))
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            yield path, path.relative_to(root).as_posix()


def _add(found: dict[str, SourceFile], skipped: list[Skipped], path: Path, rel: str) -> None:
    if path.suffix.lower() not in FORMATS:
        skipped.append(Skipped(str(path), f"unsupported file type {path.suffix or '(none)'}"))
        return
    try:
        st = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            reason = "symbolic link loop"
        elif exc.errno == errno.ENOENT and path.is_symlink():
            reason = "dangling symbolic link"
        else:
            reason = f"cannot read: {exc.strerror or exc}"
        skipped.append(Skipped(str(path), reason))
        return
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block the build, a device never end
        skipped.append(Skipped(str(path), "not a regular file"))
        return
    if st.st_size > MAX_FILE_BYTES:
        skipped.append(Skipped(str(path), f"larger than {MAX_FILE_BYTES >> 20} MiB"))
        return
    if rel in found:
        skipped.append(Skipped(str(path), f"document id {rel!r} already taken by {found[rel].path}"))
        return
    found[rel] = SourceFile(path=path.absolute(), doc_id=rel)


def read_source(path: Path) -> bytes:
    """A file's bytes, read once. Raises ``Unreadable`` for anything that is not a
    regular file of at most ``MAX_FILE_BYTES`` (checked on the open file itself, so a
    file swapped for a FIFO or a device after discovery cannot hang the build)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise Unreadable("not a regular file")
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable(f"larger than {MAX_FILE_BYTES >> 20} MiB")
    return data
