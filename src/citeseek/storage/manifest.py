"""A generation's ``manifest.json`` as typed records, read and checked in one place.

```
generation, created, schema_version
model      id, dimension, max_seq_length
settings   the build's Settings (stores from before ``backend`` existed read as torch)
counts     files, documents, chunks (passages)
index      factory, ntotal; how it was chosen and tuned: chosen, search, recall_at_10,
           recall_queries, exact (all five, or none in a store built before tuning);
           parts (vectors in each level's index file) and hidden, with delta levels
readers    the reader version of each format (absent in stores built before them)
versions   citeseek's and its libraries' versions
files      sha256 and bytes of store.sqlite, index.faiss, (schema 2) delta-NNNNNN.sqlite
           and .faiss of each level above and keywords/*, with each file's inode and
           modification time when it was sealed
```

``Manifest.read`` parses the JSON once into these records. A field that is missing,
of the wrong type, out of range or inconsistent with another is a ``CorruptCollection``
naming manifest.json and the dotted field (``index.search.efSearch``), never a Python
error from deeper down. ``to_dict`` gives the JSON back as a build writes it, which is
the JSON on disk (keys no citeseek writes are dropped; stores older than ``backend``
gain it).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import AUTO_BACKEND, READ_SCHEMAS, SCHEMA_VERSION, Settings
from ..errors import CorruptCollection, UsageError
from . import layout
from .manifest_fields import INT64, SHOWN, Field, FileSum

SEARCH_KNOBS = ("efSearch", "nprobe")  # the search settings ``tuning`` sets
SEARCH_LIMIT = 1 << 20  # FAISS takes a search setting as a C int, boosted up to 4x
C_INT = 2**31 - 1
CHOSEN = ("auto", "setting")  # the index type chosen by size, or named in the settings
TUNING = ("chosen", "search", "recall_at_10", "recall_queries", "exact")
OPTIONAL_SETTINGS = ("backend",)  # settings added after the first stores were built


@dataclass(frozen=True)
class ModelInfo:
    """The model the passages were embedded with (``id`` names it with its backend)."""

    id: str
    dimension: int
    max_seq_length: int

    @classmethod
    def parse(cls, node: Field) -> ModelInfo:
        return cls(id=node.get("id").text(), dimension=node.get("dimension").whole(1, C_INT),
                   max_seq_length=node.get("max_seq_length").whole(1, C_INT))


@dataclass(frozen=True)
class Counts:
    """How many files, documents and passages (``chunks``) the generation holds."""

    files: int
    documents: int
    chunks: int

    @classmethod
    def parse(cls, node: Field) -> Counts:
        return cls(**{name: node.get(name).whole(0, INT64)
                      for name in ("files", "documents", "chunks")})


@dataclass(frozen=True)
class IndexInfo:
    """The FAISS index: its factory string and size, and how it was chosen and tuned
    (``chosen`` and what follows are None in a store built before tuning was recorded;
    ``recall_at_10`` is also None when there was nothing to measure)."""

    factory: str
    ntotal: int
    chosen: str | None = None
    search: Mapping[str, int] | None = None
    recall_at_10: float | None = None
    recall_queries: int | None = None
    exact: bool | None = None
    parts: Mapping[str, int] | None = None  # vectors in each level's file (None: one level)
    hidden: int = 0  # of them, those of passages a level above hides

    @classmethod
    def parse(cls, node: Field) -> IndexInfo:
        factory, ntotal = node.get("factory").text(), node.get("ntotal").whole(0, INT64)
        found, parts = node.find("parts"), None
        if found is not None:
            parts = {name: item.whole(0, INT64) for name, item in found.entries()}
        hidden = node.get("hidden").whole(0, INT64) if parts is not None else 0
        if parts is not None and sum(parts.values()) - hidden != ntotal:
            raise node.error(f"parts {sum(parts.values())} less hidden {hidden} is not "
                             f"ntotal {ntotal}")
        if all(node.find(name) is None for name in TUNING):
            return cls(factory, ntotal, parts=parts, hidden=hidden)
        search = {}
        for knob, item in node.get("search").entries():
            if knob not in SEARCH_KNOBS:
                raise item.error(f"is not a search setting ({', '.join(SEARCH_KNOBS)})")
            search[knob] = item.whole(1, SEARCH_LIMIT)
        recall = node.get("recall_at_10")
        return cls(factory, ntotal, chosen=node.get("chosen").text(CHOSEN), search=search,
                   recall_at_10=None if recall.value is None else recall.fraction(),
                   recall_queries=node.get("recall_queries").whole(0, INT64),
                   exact=node.get("exact").flag(), parts=parts, hidden=hidden)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if self.parts is None:
            del data["parts"], data["hidden"]
        return data if self.chosen is not None else {
            k: v for k, v in data.items() if k in ("factory", "ntotal", "parts", "hidden")}

    def part(self, name: str) -> int:
        """The vectors the level file ``name`` holds."""
        return self.ntotal if self.parts is None else self.parts[name]


def _settings(node: Field) -> Settings:
    """The build's settings, each checked by ``Settings``' own rules, one at a time so
    that the error names the field."""
    values: dict[str, Any] = {}
    for name in (f.name for f in dataclasses.fields(Settings)):
        item = node.find(name) if name in OPTIONAL_SETTINGS else node.get(name)
        if item is None:
            if name == "backend":  # stores from before backends were built with torch
                values[name] = "torch"
            continue
        try:
            Settings(**{name: item.value})
        except UsageError as exc:
            raise item.error(str(exc)) from None
        if name == "backend" and item.value == AUTO_BACKEND:  # a build records its choice
            raise item.error("backend must be the one the build chose, not 'auto'")
        if name in ("model", "index"):
            item.text()
        values[name] = item.value
    return Settings(**values)


@dataclass(frozen=True)
class Manifest:
    """What a generation holds and how it was built (see the module docstring).
    ``files`` is empty until ``write`` measures the data files."""

    generation: str
    created: str
    model: ModelInfo
    settings: Settings
    counts: Counts
    index: IndexInfo
    readers: Mapping[str, int] | None  # None: built before reader versions were recorded
    versions: Mapping[str, str]
    files: Mapping[str, FileSum] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def read(cls, gen_dir: Path, *, verify: bool, trust_seals: bool = False) -> Manifest:
        """The manifest of the generation in ``gen_dir``, with its data files checked:
        their sizes always, their SHA-256s when ``verify`` (with ``trust_seals``, not
        those of files unchanged since their build measured them: see ``check_files``)."""
        manifest = cls.load(gen_dir)
        manifest.check_files(gen_dir, hashes=verify, trust_seals=trust_seals)
        return manifest

    @classmethod
    def load(cls, gen_dir: Path) -> Manifest:
        """The manifest of the generation in ``gen_dir``, its data files not looked at."""
        path = gen_dir / layout.MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CorruptCollection(f"missing {path}") from None
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # digits, nesting
            raise CorruptCollection(f"{path} is not valid JSON: {exc}") from None
        except OSError as exc:
            raise CorruptCollection(f"cannot read {path}: {exc.strerror or exc}") from None
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: Any, path: Path) -> Manifest:
        """Parse the JSON of the manifest at ``path`` (named in every error)."""
        top = Field(path, "", data)
        top.object()
        version = top.find("schema_version")
        if version is None or type(version.value) is not int or \
                version.value not in READ_SCHEMAS:
            found = "lacks schema_version" if version is None else \
                f"has schema_version {SHOWN.repr(version.value)}"
            raise CorruptCollection(f"{path} {found}; this citeseek reads versions "
                                    f"{' and '.join(map(str, READ_SCHEMAS))}")
        generation = top.get("generation")
        if not layout.GENERATION.fullmatch(generation.text()):
            raise generation.wrong("a generation's name (gen-000001)")
        created = top.get("created")
        try:
            datetime.fromisoformat(created.text())
        except ValueError:
            raise created.wrong("an ISO date and time") from None
        counts, index = Counts.parse(top.get("counts")), IndexInfo.parse(top.get("index"))
        if counts.chunks != index.ntotal:
            raise CorruptCollection(
                f"{path} has counts.chunks {counts.chunks} but index.ntotal {index.ntotal}: "
                "one of them was altered")
        files = top.get("files")
        newer = {name for name in files.object() if layout.KEYWORD_FILE.match(name)
                 or layout.DELTA_FILE.match(name)}
        unknown = set(files.object()) - set(layout.DATA_FILES) - newer
        if unknown or (version.value == 1 and newer):
            raise files.get(min(unknown | newer)).error(
                "is not a file of a generation" + (" of schema 1" if not unknown else ""))
        if version.value >= 2 and f"{layout.KEYWORD_DIR}/meta.json" not in newer:
            raise files.error(f"lacks {layout.KEYWORD_DIR}/meta.json, the keyword index")
        _check_levels(files, newer, index)
        readers = top.find("readers")
        return cls(
            generation=generation.value, created=created.value,
            model=ModelInfo.parse(top.get("model")), settings=_settings(top.get("settings")),
            counts=counts, index=index,
            readers=None if readers is None else {
                key: item.whole(1, C_INT) for key, item in readers.entries()},
            versions={key: item.text() for key, item in top.get("versions").entries()},
            files={name: FileSum.parse(files.get(name))
                   for name in [*layout.DATA_FILES, *sorted(newer)]},
            schema_version=version.value)

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON data, as written (keys sorted, as on disk)."""
        data: dict[str, Any] = {
            "generation": self.generation, "created": self.created,
            "model": dataclasses.asdict(self.model), "settings": self.settings.to_dict(),
            "counts": dataclasses.asdict(self.counts), "index": self.index.to_dict(),
            "versions": dict(self.versions), "schema_version": self.schema_version,
            "files": {name: s.to_dict() for name, s in self.files.items()},
        }
        if self.readers is not None:
            data["readers"] = dict(self.readers)
        return _sorted(data)

    @property
    def keyword_dir(self) -> str | None:
        """The folder of the keyword index, from schema 2 on (schema 1: None, FTS5)."""
        return layout.KEYWORD_DIR if self.schema_version >= 2 else None

    @property
    def levels(self) -> list[tuple[str, str]]:
        """The store's levels, base first: (database, vector index) file names."""
        deltas = sorted(name for name in self.files if layout.DELTA_FILE.match(name)
                        and name.endswith(".sqlite"))
        return [(layout.STORE_FILE, layout.INDEX_FILE),
                *((name, name.removesuffix(".sqlite") + ".faiss") for name in deltas)]

    def check_files(self, gen_dir: Path, *, hashes: bool, trust_seals: bool = False,
                    trusted: Collection[FileSum] = ()) -> None:
        """Each data file is there with the size recorded (and, with ``hashes``, the
        SHA-256); a ``CorruptCollection`` naming the file otherwise. A file in
        ``keywords/`` that the manifest does not name is an error too: the index would
        read it.

        A file that is still the one measured (``FileSum.unchanged``) is not hashed again
        when its sum is in ``trusted`` (a generation this process verified, which shared
        it), or, with ``trust_seals``, at all: what a build does, so that an update reads
        what changed and not every shared file. Bytes changed in place by a write change
        the file's time and are hashed."""
        if self.keyword_dir is not None:
            found = set(layout.generation_files(gen_dir)) - set(layout.DATA_FILES)
            extra = found - set(self.files)
            if extra:
                raise CorruptCollection(f"{gen_dir / min(extra)} is not named in the manifest "
                                        "(planted or left by another build)")
        for name, expected in self.files.items():
            known = (trust_seals or expected in trusted) and expected.unchanged(gen_dir / name)
            layout.check_file(gen_dir / name, expected.bytes,
                              expected.sha256 if hashes and not known else None)

    def write(self, gen_dir: Path, trusted: Mapping[str, FileSum] | None = None) -> Manifest:
        """Seal the generation in ``gen_dir``: its data files synced to disk and measured,
        then this manifest, with their sums, written atomically. Returns what was written.
        A file that is still the one ``trusted`` measured under its name (one linked from
        the previous generation) keeps that sum rather than being hashed again."""
        names = layout.generation_files(gen_dir)
        for name in names:
            layout.fsync_file(gen_dir / name)
        if (gen_dir / layout.KEYWORD_DIR).is_dir():
            layout.fsync_dir(gen_dir / layout.KEYWORD_DIR)
        known = {name: s for name, s in (trusted or {}).items() if s.unchanged(gen_dir / name)}
        sealed = dataclasses.replace(self, schema_version=SCHEMA_VERSION, files={
            name: known.get(name) or FileSum.measure(gen_dir / name,
                                                     layout.sha256_file(gen_dir / name))
            for name in names})
        layout.write_atomic(gen_dir / layout.MANIFEST,
                            json.dumps(sealed.to_dict(), indent=2, sort_keys=True).encode())
        return sealed


def _check_levels(files: Field, newer: set[str], index: IndexInfo) -> None:
    """Each delta level has its database and its index, and ``index.parts`` names the
    vector index of every level."""
    deltas = {name.rsplit(".", 1)[0] for name in newer if layout.DELTA_FILE.match(name)}
    for level in sorted(deltas):
        for suffix in ("sqlite", "faiss"):
            if f"{level}.{suffix}" not in newer:
                raise files.error(f"lacks {level}.{suffix}: a level has both files")
    wanted = {layout.INDEX_FILE, *(f"{level}.faiss" for level in deltas)}
    if (index.parts is not None or deltas) and set(index.parts or ()) != wanted:
        raise files.error(f"names the index files {sorted(wanted)} but index.parts "
                          f"{sorted(index.parts or ())}")


def _sorted(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with every object's keys in order, as the JSON on disk has them."""
    return {key: _sorted(value) if isinstance(value, dict) else value
            for key, value in sorted(data.items())}
