"""A collection folder: generations, the atomic CURRENT pointer and the lock; the
file tools a generation is written with (its manifest is ``manifest.py``'s).

```
NAME/CURRENT          the live generation's folder name
NAME/gen-000007/      manifest.json, store.sqlite, index.faiss, keywords/ (Tantivy's files),
                      delta-NNNNNN.sqlite and .faiss (the levels stacked on the store)
NAME/.lock            held (flock) by the one process building
```

A generation is its folder: the manifest names every data file in it with its size and
SHA-256 (``generation_files``). Files that did not change since the previous generation
(the base store and index, earlier deltas, keyword segments) are hard links to that
generation's: one copy on disk, shared by both, never written again; removing a
generation's folder frees what no other generation links.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from ..errors import (
    BuildError,
    CollectionLocked,
    CollectionNotFound,
    CorruptCollection,
    UsageError,
)

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
STORE_FILE = "store.sqlite"
INDEX_FILE = "index.faiss"
DATA_FILES = (STORE_FILE, INDEX_FILE)
KEYWORD_DIR = "keywords"  # Tantivy's index (schema 2 on); schema 1 kept FTS5 in the store
GENERATION = re.compile(r"^gen-(\d{6,})$")  # a generation folder's name
KEYWORD_FILE = re.compile(r"^keywords/[A-Za-z0-9._-]{1,100}$")  # one of its files' names
DELTA_FILE = re.compile(r"^delta-(\d{6,})\.(sqlite|faiss)$")  # a level above the store
_KEYWORD_LOCKS = (".tantivy-meta.lock", ".tantivy-writer.lock")  # Tantivy's, not data


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def generation_files(gen_dir: Path) -> list[str]:
    """The data files of the generation in ``gen_dir`` as its manifest names them: the
    store, the vector index, the levels above them (``delta-NNNNNN.sqlite`` and
    ``.faiss``), then the keyword index's files (``keywords/NAME``)."""
    folder = gen_dir / KEYWORD_DIR
    names = sorted(p.name for p in folder.iterdir() if p.is_file()
                   and p.name not in _KEYWORD_LOCKS) if folder.is_dir() else []
    deltas = sorted(p.name for p in gen_dir.iterdir() if DELTA_FILE.match(p.name))
    return [*DATA_FILES, *deltas, *(f"{KEYWORD_DIR}/{name}" for name in names)]


def delta_name(generation: str, suffix: str) -> str:
    """The file of the level ``generation`` wrote: ``delta-000007.sqlite`` (or .faiss)."""
    return f"delta-{generation.removeprefix('gen-')}.{suffix}"


def link_or_copy(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (one copy on disk, shared), or a copy where
    the file system has no hard links."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP,
                             errno.EOPNOTSUPP):
            raise
        shutil.copyfile(source, target)


def check_file(target: Path, size: int, sha256: str | None) -> None:
    """``target`` is a file of ``size`` bytes (and, given ``sha256``, that checksum); a
    ``CorruptCollection`` naming it otherwise."""
    try:
        found = target.stat().st_size if target.is_file() else None
        if found is None:
            raise CorruptCollection(f"missing {target}")
        if found != size:
            raise CorruptCollection(f"{target} has {found} bytes, the manifest says {size} "
                                    "(truncated or altered)")
        if sha256 is not None and sha256_file(target) != sha256:
            raise CorruptCollection(f"{target} does not match its checksum (altered or damaged)")
    except OSError as exc:  # unreadable, or removed while being checked
        raise CorruptCollection(f"cannot read {target}: {exc.strerror or exc}") from None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def create_new(path: Path) -> int:
    """A descriptor of a new file at ``path``, opened for writing: never through a
    symbolic link planted there, never onto a file that exists (a stale one of ours,
    from a build that died, is removed first; unlinking removes a link, not its target)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so readers see the old or the new content, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with os.fdopen(create_new(tmp), "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def current_generation(root: Path) -> str | None:
    """The live generation's name, or None for a folder with no complete build yet."""
    path = root / CURRENT
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CorruptCollection(f"{path} is a symbolic link, not the plain file a "
                                    "collection keeps there") from None
        raise CorruptCollection(f"cannot read {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        raw = fh.read(64) if stat.S_ISREG(os.fstat(fh.fileno()).st_mode) else b""
    name = raw.decode("utf-8", "replace").strip()
    if not GENERATION.match(name):
        raise CorruptCollection(f"{path} does not name a generation")
    return name


def stamp(gen_dir: Path) -> tuple[int, int, int, int] | None:
    """What tells one build's generation from another's under the same name (a store
    deleted and built anew starts at gen-000001 again): its manifest's inode, size and
    modification time; None when it is gone."""
    try:
        st = os.stat(gen_dir / MANIFEST)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def generations(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if GENERATION.match(p.name) and p.is_dir())


def next_generation(root: Path) -> str:
    numbers = [int(GENERATION.match(g).group(1)) for g in generations(root)]  # type: ignore[union-attr]
    try:
        current = current_generation(root)
    except CorruptCollection:  # a build replacing a damaged CURRENT numbers past every folder
        current = None
    if current:
        numbers.append(int(current[4:]))
    return f"gen-{max(numbers, default=0) + 1:06d}"


def publish(root: Path, generation: str) -> None:
    """Make ``generation`` live in one atomic step."""
    write_atomic(root / CURRENT, (generation + "\n").encode())


def unpublished(root: Path) -> list[str]:
    """Generations newer than the live one: builds that were interrupted (or failed
    just before publishing). Their cached vectors are still worth taking over."""
    live = current_generation(root)
    floor = int(live[4:]) if live else 0
    return [g for g in generations(root) if int(g[4:]) > floor]


def remove_stale(root: Path, keep: set[str]) -> list[str]:
    """Delete generation folders (finished or half-written) not in ``keep``, never the
    one ``CURRENT`` names (a damaged live generation goes once another is published)."""
    try:
        live = current_generation(root)
    except CorruptCollection:
        live = None
    keep = keep | {live} if live else keep
    removed = []
    for name in generations(root):
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)
            removed.append(name)
    for tmp in root.glob(f".{CURRENT}.*.tmp"):
        tmp.unlink(missing_ok=True)
    return removed


def resolve_root(path: str | os.PathLike[str]) -> Path:
    if not isinstance(path, str | os.PathLike) or not os.fspath(path):
        raise UsageError(f"a store must be a non-empty path, not {path!r}")  # "" is "."
    root = Path(path).expanduser()
    if not root.is_dir() or current_generation(root) is None:
        raise CollectionNotFound(f"no collection at {root} (build one with citeseek index)")
    return root


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """One builder at a time. flock is released by the OS if the holder dies."""
    path = root / ".lock"
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o644)
        fh = os.fdopen(fd, "r+")  # held until the build ends
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BuildError(f"{path} is a symbolic link: a build writes its PID there and "
                             "will not write through a link") from None
        raise BuildError(f"cannot create or lock {path}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise CollectionLocked(f"{root} is being built by PID {holder}") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fh.close()
