"""Finding article files under the paths given to a build, and reading their bytes
safely: hidden files, types no format reads (``formats``), links out of reach, FIFOs,
devices and files too large are skipped with a reason, never hung on."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from .decoding import Unreadable
from .formats import BY_EXTENSION
from .sources import Skipped, SourceFile, display_path

MAX_FILE_BYTES = 512 * 1024 * 1024
UNREADABLE_FOLDER = "cannot read folder"  # the reason given; what was under it is kept


def is_collection(folder: Path) -> bool:
    """True for a citeseek collection folder (its ``CURRENT`` names a generation)."""
    try:
        return (folder / "CURRENT").is_file() and any(
            p.name.startswith("gen-") for p in folder.iterdir())
    except OSError:
        return False


def discover(paths: Iterable[str | os.PathLike[str]], *, follow_links: bool = False,
             exclude: Iterable[str | os.PathLike[str]] = (),
             ) -> tuple[list[SourceFile], list[Skipped]]:
    """Find the article files under ``paths`` (folders recursively, hidden files skipped).

    Symbolic links that lead out of the folder they were found in are skipped with a
    reason unless ``follow_links``. Collection folders (the build's own store among
    them, and anything in ``exclude``) are not articles and are passed over. A file name
    found under two of ``paths`` keeps its id under the first and is prefixed with its
    folder's name under the next (``siteB/index.html``)."""
    found: dict[str, SourceFile] = {}
    skipped: list[Skipped] = []
    excluded = {_real(p) for p in exclude}
    for raw in paths:
        root = Path(raw).expanduser()
        if root.is_symlink() and not root.exists():
            skipped.append(Skipped(display_path(root), "dangling symbolic link"))
        elif root.is_file():
            _add(found, skipped, root, root.name, root)
        elif root.is_dir():
            for path, rel in _walk(root, skipped, follow_links, excluded):
                _add(found, skipped, path, rel, root)
        else:
            skipped.append(Skipped(display_path(root), "no such file or folder"))
    return sorted(found.values(), key=lambda s: s.doc_id), skipped


def _real(path: str | os.PathLike[str]) -> Path:
    return Path(path).expanduser().resolve()


def _walk(root: Path, skipped: list[Skipped], follow_links: bool,
          excluded: set[Path]) -> Iterator[tuple[Path, str]]:
    """(file, id relative to ``root``) for every file below ``root``, walked with a stack
    rather than recursion (so any depth works), each folder once (a link loop ends)."""
    real_root = root.resolve()
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, str]] = [(root.absolute(), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in seen:
                skipped.append(Skipped(display_path(folder), "symbolic link loop"))
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:  # unreadable, or removed while the walk was under way
            skipped.append(Skipped(display_path(exc.filename or folder),
                                   f"{UNREADABLE_FOLDER}: {exc.strerror or exc}"))
            continue
        folders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path, rel = Path(entry.path), prefix + entry.name
            if entry.is_symlink() and not follow_links and not _inside(path, real_root):
                skipped.append(Skipped(display_path(path), "symbolic link out of "
                                       f"{display_path(root)} (follow links to include it)"))
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if not is_dir:
                yield path, rel
            elif _real(path) not in excluded and not is_collection(path):
                folders.append((path, rel + "/"))
        stack.extend(reversed(folders))


def _inside(link: Path, real_root: Path) -> bool:
    try:
        return link.resolve().is_relative_to(real_root)
    except (OSError, RuntimeError):  # a loop resolves to nowhere: the walk reports it
        return True


def _add(found: dict[str, SourceFile], skipped: list[Skipped], path: Path, rel: str,
         root: Path) -> None:
    shown = display_path(path)
    if path.suffix.lower() not in BY_EXTENSION:
        skipped.append(Skipped(shown, f"unsupported file type {path.suffix or '(none)'}"))
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
        skipped.append(Skipped(shown, reason))
        return
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block the build, a device never end
        skipped.append(Skipped(shown, "not a regular file"))
        return
    if st.st_size > MAX_FILE_BYTES:
        skipped.append(Skipped(shown, f"larger than {MAX_FILE_BYTES >> 20} MiB"))
        return
    doc_id = display_path(rel)
    taken = found.get(doc_id)
    if taken is not None and taken.path != path.absolute():  # one name in two places
        folder = root if root.is_dir() else root.parent
        doc_id = display_path(f"{folder.absolute().name}/{rel}")
        taken = found.get(doc_id)
    if taken is not None:
        skipped.append(Skipped(shown, f"document id {doc_id!r} already taken by "
                                      f"{display_path(taken.path)}"))
        return
    found[doc_id] = SourceFile(path=path.absolute(), doc_id=doc_id)


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
