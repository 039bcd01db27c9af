"""A collection folder: generations, the atomic CURRENT pointer, manifests and the lock.

```
NAME/CURRENT          the live generation's folder name
NAME/gen-000007/      manifest.json, store.sqlite, index.faiss
NAME/.lock            held (flock) by the one process building
```
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..config import SCHEMA_VERSION, Settings
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
_GEN = re.compile(r"^gen-(\d{6,})$")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


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
    if not _GEN.match(name):
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
    return sorted(p.name for p in root.iterdir() if _GEN.match(p.name) and p.is_dir())


def next_generation(root: Path) -> str:
    numbers = [int(_GEN.match(g).group(1)) for g in generations(root)]  # type: ignore[union-attr]
    current = current_generation(root)
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
    """Delete generation folders (finished or half-written) not in ``keep``."""
    removed = []
    for name in generations(root):
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)
            removed.append(name)
    for tmp in root.glob(f".{CURRENT}.*.tmp"):
        tmp.unlink(missing_ok=True)
    return removed


def write_manifest(gen_dir: Path, manifest: dict[str, Any]) -> None:
    for name in DATA_FILES:
        fsync_file(gen_dir / name)
    manifest = dict(manifest, schema_version=SCHEMA_VERSION, files={
        name: {"sha256": sha256_file(gen_dir / name), "bytes": (gen_dir / name).stat().st_size}
        for name in DATA_FILES
    })
    write_atomic(gen_dir / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())


def read_manifest(gen_dir: Path, *, verify: bool = True) -> dict[str, Any]:
    """Load and check a generation's manifest; any problem names the file at fault."""
    path = gen_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorruptCollection(f"missing {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptCollection(f"{path} is not valid JSON: {exc}") from None
    except OSError as exc:
        raise CorruptCollection(f"cannot read {path}: {exc.strerror or exc}") from None
    if not isinstance(manifest, dict):
        raise CorruptCollection(f"{path} is not a manifest (a JSON object)")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise CorruptCollection(
            f"{path} has schema version {manifest.get('schema_version')!r}; this citeseek "
            f"reads version {SCHEMA_VERSION}")
    _check_fields(manifest, path)
    for name in DATA_FILES:
        expected = manifest["files"][name]
        target = gen_dir / name
        try:
            size = target.stat().st_size if target.is_file() else None
            if size is None:
                raise CorruptCollection(f"missing {target}")
            if size != expected["bytes"]:
                raise CorruptCollection(
                    f"{target} has {size} bytes, the manifest says "
                    f"{expected['bytes']} (truncated or altered)")
            if verify and sha256_file(target) != expected["sha256"]:
                raise CorruptCollection(
                    f"{target} does not match its checksum (altered or damaged)")
        except OSError as exc:  # unreadable, or removed while being checked
            raise CorruptCollection(f"cannot read {target}: {exc.strerror or exc}") from None
    return manifest


_FIELDS: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    # Every field that loading, searching or printing a collection reads.
    ("model.id", str), ("model.dimension", int), ("index.ntotal", int),
    ("index.factory", str), ("settings", dict), ("counts.chunks", int),
    ("counts.documents", int), ("counts.files", int), ("created", str),
)


def _field(manifest: dict[str, Any], dotted: str) -> Any:
    value: Any = manifest
    for part in dotted.split("."):
        if not isinstance(value, dict):
            raise KeyError(dotted)
        value = value[part]
    return value


def _check_fields(manifest: dict[str, Any], path: Path) -> None:
    """The fields loading relies on, present and of the right kind: a tampered or
    damaged manifest is an error naming the file and the field, never a traceback."""
    problem = None
    try:
        for name in DATA_FILES:
            entry = manifest["files"][name]
            if not isinstance(entry["sha256"], str) or type(entry["bytes"]) is not int:
                problem = f"files.{name}"
        for dotted, kind in _FIELDS:
            value = _field(manifest, dotted)
            if not isinstance(value, kind) or isinstance(value, bool):
                problem = problem or dotted
            elif isinstance(value, int) and value < (dotted == "model.dimension"):
                problem = problem or dotted  # a count below 0, a dimension below 1
        search = manifest["index"].get("search") or {}
        if not isinstance(search, dict) or any(
                type(v) is not int or v < 1 for v in search.values()):
            problem = problem or "index.search"
        if manifest["index"]["ntotal"] != manifest["counts"]["chunks"]:
            problem = problem or "index.ntotal"
        recall = manifest["index"].get("recall_at_10")
        if recall is not None and (isinstance(recall, bool) or
                                   not isinstance(recall, int | float)):
            problem = problem or "index.recall_at_10"
        Settings.from_dict(manifest["settings"])
    except (KeyError, TypeError) as exc:
        problem = str(exc.args[0]) if exc.args else repr(exc)
    except UsageError as exc:
        problem = f"settings ({exc})"
    if problem:
        raise CorruptCollection(f"{path} lacks a field or has a malformed one ({problem})")


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
