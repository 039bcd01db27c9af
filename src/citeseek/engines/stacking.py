"""How a build's store sits on the live generation's (see ``storage.levels``).

A build on a live generation of schema 2 that chunks and indexes as it did stacks
(another batch size or model name for the same model changes nothing stored): its folder
links the live levels' files (the base and its deltas, or the base alone when the live
generation has ``MAX_DELTAS`` deltas, which the new top level then merges) and its own
top level, ``delta-NNNNNN.sqlite``, receives what the build records. Otherwise (a first
build, a schema-1 store, other settings) the store starts as one file holding every
level of the live one, as a full build. ``flatten`` turns a stacked store that grew too
large (``levels.flatten_due``) into that same single file before its index is built.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

from ..errors import BuildError
from ..storage import layout
from ..storage import levels as policy
from ..storage.database import GenerationDB
from ..storage.generation import store_of
from ..storage.manifest import IndexInfo, Manifest
from ..storage.vector_index import VectorIndex
from .settings import PreviousBuild

FLAT_PART = ".flat.sqlite"  # a single-file store being written (never a published name)


def stacks(previous: PreviousBuild | None, same_settings: bool) -> bool:
    """Whether a build on ``previous`` stacks a level on it (rather than a full store);
    ``same_settings``: its chunking and index settings are the live generation's."""
    return previous is not None and same_settings and previous.manifest.keyword_dir is not None


def start_stacked(root: Path, gen_dir: Path, previous: PreviousBuild) -> tuple[Path, list[Path]]:
    """Link the live levels into ``gen_dir`` and make its top level: (top, levels below
    it, base first). With ``MAX_DELTAS`` live deltas, the top starts as their merge."""
    live, levels = root / previous.name, previous.manifest.levels
    merge = len(levels) - 1 >= policy.MAX_DELTAS
    kept = levels[:1] if merge else levels
    for database, index in kept:
        for name in (database, index):
            layout.link_or_copy(live / name, gen_dir / name)
    top = gen_dir / layout.delta_name(gen_dir.name, "sqlite")
    if merge:
        db = store_of(live, previous.manifest)
        try:
            db.merge_into(top, db.levels[1:], keep_hidden=True)
        finally:
            db.close()
    return top, [gen_dir / database for database, _ in kept]


def start_flat(root: Path, gen_dir: Path, previous: PreviousBuild | None) -> Path:
    """The store of a full build: empty, or every level of the live one in one file."""
    target = gen_dir / layout.STORE_FILE
    if previous is not None:
        db = store_of(root / previous.name, previous.manifest)
        try:
            db.flatten_to(target)
        finally:
            db.close()
    return target


def flatten_needed(db: GenerationDB) -> bool:
    """Whether the stacked store ``db`` should be written into one base now."""
    if not db.below:
        return False
    levels = db.levels
    return policy.flatten_due(db.level_passages(levels[0]),
                       sum(db.level_passages(level) for level in levels[1:]),
                       len(db.hidden_chunk_ids(levels[0])))


def flatten(db: GenerationDB, gen_dir: Path) -> GenerationDB:
    """Write every level of the stacked store ``db`` into the generation's one
    ``store.sqlite`` (the links to the live levels leave this folder, never the live
    one's), and return it open for the rest of the build, with ``db``'s keyword writer."""
    part = gen_dir / FLAT_PART
    with contextlib.suppress(FileNotFoundError):
        part.unlink()
    db.flatten_to(part)
    writer, db.keyword_writer = db.keyword_writer, None
    db.close()
    for name in os.listdir(gen_dir):
        if name in layout.DATA_FILES or layout.DELTA_FILE.match(name):
            (gen_dir / name).unlink()
    os.replace(part, gen_dir / layout.STORE_FILE)
    return GenerationDB(gen_dir / layout.STORE_FILE, keyword_writer=writer)


def own_store(root: Path, name: str, live: Path | None) -> Path | None:
    """The database an unpublished generation ``name`` wrote itself (its top level, or
    its single store when that is not a link to the live base), whose cached vectors a
    later build takes over; None when it has none."""
    folder = root / name
    top = folder / layout.delta_name(name, "sqlite")
    if top.is_file():
        return top
    store = folder / layout.STORE_FILE
    if not store.is_file():
        return None
    if live is not None and (live / layout.STORE_FILE).exists() and \
            os.path.samefile(store, live / layout.STORE_FILE):
        return None
    return store


def top_index(db: GenerationDB, gen_dir: Path, live: Manifest, model: str, dim: int,
              visible: int) -> tuple[VectorIndex, IndexInfo]:
    """The exact index of the stacked store's top level, and the index's record: the
    base's kind and tuning (the live manifest's), each level's vectors, and how many of
    them levels above hide; ``visible`` passages must be what the levels' vectors
    less the hidden ones come to."""
    top = db.level_passages(db.levels[-1])
    index = VectorIndex.build(lambda: db.embeddings.blocks(model, dim), dim, top, "Flat")
    parts = {faiss: live.index.part(faiss) for database, faiss in live.levels
             if (gen_dir / database).exists()}
    parts[layout.delta_name(gen_dir.name, "faiss")] = index.ntotal
    hidden = sum(len(db.hidden_chunk_ids(level)) for level in db.levels)
    if index.ntotal != top or sum(parts.values()) - hidden != visible:
        raise BuildError(f"{visible} passages but {sum(parts.values()) - hidden} vectors "
                         f"({index.ntotal} of the new level's {top})")
    return index, dataclasses.replace(live.index, ntotal=visible, parts=parts, hidden=hidden)
