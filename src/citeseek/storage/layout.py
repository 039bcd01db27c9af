"""A collection folder: generations, the atomic CURRENT pointer, manifests and the lock.

```
NAME/CURRENT          the live generation's folder name
NAME/gen-000007/      manifest.json, store.sqlite, index.faiss
NAME/.lock            held (flock) by the one process building
```
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..config import SCHEMA_VERSION
from ..errors import BuildError, CollectionLocked, CollectionNotFound, CorruptCollection

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


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so readers see the old or the new content, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def current_generation(root: Path) -> str | None:
    """The live generation's name, or None for a folder with no complete build yet."""
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not _GEN.match(name):
        raise CorruptCollection(f"{root / CURRENT} does not name a generation: {name!r}")
    return name


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


def _check_fields(manifest: dict[str, Any], path: Path) -> None:
    """The fields loading relies on, present and of the right kind."""
    try:
        for name in DATA_FILES:
            entry = manifest["files"][name]
            if not isinstance(entry["sha256"], str) or not isinstance(entry["bytes"], int):
                raise TypeError(f"files.{name}")
        checks = (manifest["model"]["id"], manifest["model"]["dimension"],
                  manifest["index"]["ntotal"], manifest["index"]["factory"],
                  manifest["settings"], manifest["counts"]["chunks"])
        kinds = (str, int, int, str, dict, int)
        for value, kind in zip(checks, kinds, strict=True):
            if not isinstance(value, kind):
                raise TypeError(value)
    except (KeyError, TypeError) as exc:
        raise CorruptCollection(f"{path} lacks a field or has a malformed one "
                                f"({exc.args[0] if exc.args else exc!r})") from None


def resolve_root(path: str | os.PathLike[str]) -> Path:
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
        fh = open(path, "a+")  # noqa: SIM115 - held until the build ends
    except OSError as exc:
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
