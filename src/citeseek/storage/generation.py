"""Opening a generation whole (manifest, store and vector index, checked against each
other and against the model asked for), and following a collection's live generation
through rebuilds: readers switch to a newer generation in one step, and a generation
cleaned up under a reader is never an error while a newer one is live.

A reader keeps the model of the first generation it loaded: a later one built with
another model (the store deleted and built anew) is a ``ModelMismatch``, as is a
deleted store a ``CollectionNotFound``, never answers from what is gone. A generation
no longer live is closed (its database connections, in every thread) as soon as the
last request holding it ends."""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..config import Settings
from ..embed.base import Embedder, wanted_model_id
from ..errors import CollectionNotFound, CorruptCollection, ModelMismatch
from . import layout
from .database import GenerationDB
from .manifest import Manifest
from .tantivy_index import TantivyIndex
from .vector_index import VectorIndex
from .vector_levels import VectorLevels

_LOAD_ATTEMPTS = 5  # a build publishing (and cleaning up) while a reader loads
T = TypeVar("T")


@dataclass
class Generation:
    """One generation of a collection, open for reading."""

    name: str
    manifest: Manifest
    db: GenerationDB
    index: VectorLevels
    stamp: tuple[int, ...] | None = None  # tells it from a later build of the same name

    def __post_init__(self) -> None:
        self._holds, self._retired, self._closed = 0, False, False
        self._count = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.manifest.model.id

    @property
    def settings(self) -> Settings:
        return self.manifest.settings

    def hold(self) -> bool:
        """One more reader holds it open; False once it is closed."""
        with self._count:
            if self._closed:
                return False
            self._holds += 1
            return True

    def release(self) -> None:
        """A reader lets go; the last one closes a retired generation."""
        with self._count:
            self._holds -= 1
            done = self._retired and self._holds <= 0 and not self._closed
            self._closed = self._closed or done
        if done:
            self.db.close_all()

    def retire(self) -> None:
        """No longer live: closed now, or when the last reader holding it lets go."""
        with self._count:
            self._retired = True
            done = self._holds <= 0 and not self._closed
            self._closed = self._closed or done
        if done:
            self.db.close_all()


def store_of(gen_dir: Path, manifest: Manifest, *, keywords: TantivyIndex | None = None,
             ) -> GenerationDB:
    """The store of the generation in ``gen_dir``, every level of it, read-only."""
    names = [gen_dir / database for database, _ in manifest.levels]
    return GenerationDB(names[-1], readonly=True, below=names[:-1], keywords=keywords)


def _vector_levels(gen_dir: Path, manifest: Manifest, db: GenerationDB) -> VectorLevels:
    """The vector index of each level, with the ids of its passages hidden from above;
    their count must be the manifest's."""
    parts = []
    for i, (_, name) in enumerate(manifest.levels):
        index = VectorIndex.load(
            gen_dir / name, dimension=manifest.model.dimension,
            count=manifest.index.part(name),
            factory=manifest.index.factory if i == 0 else "Flat",
            search=dict(manifest.index.search or {}) if i == 0 else None)
        parts.append((index, db.hidden_chunk_ids(db.levels[i])))
    hidden = sum(len(ids) for _, ids in parts)
    if hidden != manifest.index.hidden:
        raise CorruptCollection(f"{gen_dir / layout.MANIFEST} says {manifest.index.hidden} "
                                f"hidden passages, its levels hide {hidden}")
    return VectorLevels(parts)


def open_generation(gen_dir: Path, *, verify: bool = True,
                    model: str | Embedder | None = None,
                    verified: Manifest | None = None,
                    trusted: Manifest | None = None,
                    model_id: str | None = None) -> Generation:
    """Open the generation in ``gen_dir``: its manifest (checksums verified when
    ``verify``), store and index. ``model``, when given, must be the one it was built
    with, and ``model_id`` (the model of the generation a reader first loaded) its id
    (``ModelMismatch`` otherwise); damage is a ``CorruptCollection`` naming the file.
    ``verified`` is a manifest whose files were just hashed (by the build that published
    them): when the folder's manifest is that one, its files are not hashed again.
    ``trusted`` is the manifest of a generation this process opened verified: the files
    the two share (hard links, unchanged since) are not hashed again."""
    stamp = layout.stamp(gen_dir)
    manifest = Manifest.load(gen_dir)
    built_with = manifest.model.id
    if model_id is not None and built_with != model_id:
        raise ModelMismatch(f"{gen_dir.parent} was built anew with model {built_with!r}; "
                            f"it was opened with {model_id!r}: open it again (restart the "
                            "server) to search it with the new model")
    manifest.check_files(gen_dir, hashes=verify and manifest != verified,
                         trusted=set(trusted.files.values()) if trusted else ())
    if model is not None:
        wanted = wanted_model_id(model, manifest.settings.backend)
        if wanted != built_with:
            raise ModelMismatch(f"{gen_dir.parent} was built with model {built_with!r}, "
                                f"not {wanted!r}")
    keywords = TantivyIndex(gen_dir / manifest.keyword_dir) if manifest.keyword_dir else None
    db = store_of(gen_dir, manifest, keywords=keywords)
    db.check_readable()
    index = _vector_levels(gen_dir, manifest, db)
    if layout.stamp(gen_dir) != stamp:  # replaced while it was being read
        raise CorruptCollection(f"{gen_dir} was replaced while it was being opened")
    return Generation(gen_dir.name, manifest, db, index, stamp)


class LiveGeneration:
    """The live generation of the collection at ``path``, kept current.

    ``current`` is the generation loaded now; ``refresh`` moves to a newer one when a
    build has published it; ``read`` runs an action on the live generation and turns
    SQLite errors into citeseek's. ``verified``: the manifest of a generation whose
    files were just hashed (by the build that published it), so that loading it first
    does not hash them again."""

    def __init__(self, path: str | os.PathLike[str], *, verify: bool = True,
                 model: str | Embedder | None = None,
                 verified: Manifest | None = None) -> None:
        self.root = layout.resolve_root(path)
        self.verify = verify
        self.model = model
        self.model_id: str | None = None  # the first generation's, once loaded
        self._lock = threading.Lock()
        # A live generation that failed to load, and why: until its files change, that
        # error is given again rather than every call re-hashing the files.
        self._failed: tuple[tuple[object, ...], CorruptCollection | ModelMismatch] | None \
            = None
        self._verified = verified
        self.current = self._load_current()
        self.model_id = self.current.model_id
        self._verified = None  # later generations are verified as they load

    def load(self, name: str) -> Generation:
        """Open generation ``name`` of this collection."""
        current = getattr(self, "current", None)
        return open_generation(self.root / name, verify=self.verify, model=self.model,
                               verified=self._verified, model_id=self.model_id,
                               trusted=current.manifest if current is not None else None)

    def _live(self) -> tuple[str | None, tuple[int, ...] | None]:
        """The live generation's name and stamp, as the folder says now."""
        name = layout.current_generation(self.root)
        return name, (layout.stamp(self.root / name) if name else None)

    def _load_current(self) -> Generation:
        """Load the live generation. Should a build publish a newer one and clean up the
        one being loaded meanwhile, load the newer one: a race is never an error."""
        for attempt in range(_LOAD_ATTEMPTS):
            name, stamp = self._live()
            if name is None:
                raise CorruptCollection(f"{self.root / layout.CURRENT} is missing")
            try:
                return self.load(name)
            except CorruptCollection:
                if attempt + 1 == _LOAD_ATTEMPTS or self._live() == (name, stamp):
                    raise
        raise AssertionError("unreachable")

    def _files(self) -> tuple[object, ...]:
        """The live generation's stamp and its data files' sizes and times."""
        name, stamp = self._live()
        files: list[object] = [name, stamp]
        for file in (layout.STORE_FILE, layout.INDEX_FILE):
            try:
                st = os.stat(self.root / str(name) / file)
                files.append((st.st_ino, st.st_size, st.st_mtime_ns))
            except OSError:
                files.append(None)
        return tuple(files)

    def _is_current(self, gen: Generation) -> bool:
        return self._live() == (gen.name, gen.stamp)

    def refresh(self) -> bool:
        """Switch to a newer generation if one was published (or the collection was
        deleted and built anew under the same generation name); True when it switched.

        The switch is one assignment of a fully loaded generation, so a search running
        meanwhile in another thread uses the old one or the new one, never a mix."""
        live = self._live()
        if live[0] is None:  # never answered from a collection that is gone
            if not self.root.is_dir():
                raise CollectionNotFound(f"{self.root} was deleted")
            raise CorruptCollection(f"{self.root / layout.CURRENT} is missing: the "
                                    "collection was deleted or damaged")
        if live == (self.current.name, self.current.stamp):
            return False
        with self._lock:
            if self._failed is not None and self._failed[0] == self._files():
                raise self._failed[1]
            if not self._is_current(self.current):
                try:
                    loaded = self._load_current()
                except (CorruptCollection, ModelMismatch) as exc:
                    self._failed = (self._files(), exc)
                    raise
                old, self.current, self._failed = self.current, loaded, None
                old.retire()
        return True

    def hold_current(self) -> Generation:
        """The live generation, held open (``Generation.release`` lets go)."""
        for _ in range(_LOAD_ATTEMPTS):
            gen = self.current
            if gen.hold():
                return gen
            self.refresh()  # closed as a newer one went live: that one, then
        raise CorruptCollection(f"{self.root} is closed")

    def pinned(self) -> PinnedGeneration:
        """The live generation now, held: it does not follow later builds."""
        self.refresh()
        return PinnedGeneration(self)

    def close(self) -> None:
        """Close the generation loaded now once no reader holds it."""
        self.current.retire()

    def read(self, action: Callable[[Generation], T]) -> T:
        """Run ``action`` on the live generation (held open meanwhile); SQLite errors
        become citeseek's."""
        for attempt in range(2):
            self.refresh()
            gen = self.hold_current()
            try:
                return action(gen)
            except sqlite3.Error as exc:
                error = CorruptCollection(f"cannot read {gen.db.path}: {exc}")
            except CorruptCollection as exc:
                error = exc
            finally:
                gen.release()
            # Cleaned up under us by builds two generations on, or the whole collection
            # replaced: try the live one again.
            if attempt or self._is_current(gen):
                raise error
        raise AssertionError("unreachable")


class PinnedGeneration(LiveGeneration):
    """One generation of ``live``, held: ``refresh`` never moves on, so every ``read``
    runs on the same generation (one request, one generation). Should builds remove it
    meanwhile, a read fails with ``CorruptCollection`` and the caller pins again.
    ``close`` (or the copy being dropped) lets go of it."""

    def __init__(self, live: LiveGeneration) -> None:  # shares what ``live`` has loaded
        self.root, self.verify, self.model = live.root, live.verify, live.model
        self.model_id = live.model_id
        self._lock = threading.Lock()
        self._failed, self._verified = None, None
        self.current = live.hold_current()
        self._release = weakref.finalize(self, self.current.release)

    def refresh(self) -> bool:
        return False

    def close(self) -> None:
        """Let go of the generation (once; dropping the copy does the same)."""
        self._release()
