"""A generation's ``manifest.json`` as typed records, read and checked in one place.

```
generation, created, schema_version
model      id, dimension, max_seq_length
settings   the build's Settings (stores from before ``backend`` existed read as torch)
counts     files, documents, chunks (passages)
index      factory, ntotal; how it was chosen and tuned: chosen, search, recall_at_10,
           recall_queries, exact (all five, or none in a store built before tuning)
readers    the reader version of each format (absent in stores built before them)
versions   citeseek's and its libraries' versions
files      sha256 and bytes of store.sqlite, index.faiss and (schema 2) keywords/*
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
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import READ_SCHEMAS, SCHEMA_VERSION, Settings
from ..errors import CorruptCollection, UsageError
from . import layout

SEARCH_KNOBS = ("efSearch", "nprobe")  # the search settings ``tuning`` sets
SEARCH_LIMIT = 1 << 20  # FAISS takes a search setting as a C int, boosted up to 4x
C_INT = 2**31 - 1
INT64 = 2**63 - 1  # SQLite's and FAISS's largest count
CHOSEN = ("auto", "setting")  # the index type chosen by size, or named in the settings
TUNING = ("chosen", "search", "recall_at_10", "recall_queries", "exact")
OPTIONAL_SETTINGS = ("backend",)  # settings added after the first stores were built
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = _SHOWN.maxlong = 40


@dataclass(frozen=True)
class _Field:
    """A value of manifest.json and where it sits: every check names the file and the
    dotted field."""

    path: Path
    name: str  # "" for the whole document
    value: Any

    def error(self, problem: str) -> CorruptCollection:
        where = f"has a bad {self.name}" if self.name else "is not a manifest"
        return CorruptCollection(f"{self.path} {where}: {problem}")

    def _wrong(self, kind: str) -> CorruptCollection:
        return self.error(f"must be {kind}, not {_SHOWN.repr(self.value)}")

    def _child(self, key: str, value: Any) -> _Field:
        key = key if len(key) <= 40 else f"{key[:40]}…"
        return _Field(self.path, f"{self.name}.{key}" if self.name else key, value)

    def object(self) -> dict[str, Any]:
        if not isinstance(self.value, dict):
            raise self._wrong("a JSON object")
        return self.value

    def get(self, key: str) -> _Field:
        """The field ``key`` of this object, which must be there."""
        found = self.find(key)
        if found is None:
            raise CorruptCollection(f"{self.path} lacks {self._child(key, None).name}")
        return found

    def find(self, key: str) -> _Field | None:
        """The field ``key`` of this object, or None when it is absent."""
        data = self.object()
        return self._child(key, data[key]) if key in data else None

    def entries(self) -> list[tuple[str, _Field]]:
        """Each key of this object, and its field."""
        return [(key, self._child(key, value)) for key, value in self.object().items()]

    def text(self, choices: tuple[str, ...] = ()) -> str:
        if not isinstance(self.value, str):
            raise self._wrong("text")
        if not self.value or (choices and self.value not in choices):
            raise self._wrong(f"one of {', '.join(choices)}" if choices else "non-empty text")
        return self.value

    def whole(self, low: int, high: int) -> int:
        if type(self.value) is not int:  # not a bool, not 14.0
            raise self._wrong("a whole number")
        if not low <= self.value <= high:
            raise self._wrong(f"a whole number from {low} to {high}")
        return self.value

    def fraction(self) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise self._wrong("a number")
        if not 0 <= self.value <= 1:  # NaN is not either
            raise self._wrong("a number from 0 to 1")
        return self.value

    def flag(self) -> bool:
        if not isinstance(self.value, bool):
            raise self._wrong("true or false")
        return self.value


@dataclass(frozen=True)
class ModelInfo:
    """The model the passages were embedded with (``id`` names it with its backend)."""

    id: str
    dimension: int
    max_seq_length: int

    @classmethod
    def parse(cls, node: _Field) -> ModelInfo:
        return cls(id=node.get("id").text(), dimension=node.get("dimension").whole(1, C_INT),
                   max_seq_length=node.get("max_seq_length").whole(1, C_INT))


@dataclass(frozen=True)
class Counts:
    """How many files, documents and passages (``chunks``) the generation holds."""

    files: int
    documents: int
    chunks: int

    @classmethod
    def parse(cls, node: _Field) -> Counts:
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

    @classmethod
    def parse(cls, node: _Field) -> IndexInfo:
        factory, ntotal = node.get("factory").text(), node.get("ntotal").whole(0, INT64)
        if all(node.find(name) is None for name in TUNING):
            return cls(factory, ntotal)
        search = {}
        for knob, item in node.get("search").entries():
            if knob not in SEARCH_KNOBS:
                raise item.error(f"is not a search setting ({', '.join(SEARCH_KNOBS)})")
            search[knob] = item.whole(1, SEARCH_LIMIT)
        recall = node.get("recall_at_10")
        return cls(factory, ntotal, chosen=node.get("chosen").text(CHOSEN), search=search,
                   recall_at_10=None if recall.value is None else recall.fraction(),
                   recall_queries=node.get("recall_queries").whole(0, INT64),
                   exact=node.get("exact").flag())

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        return data if self.chosen is not None else {k: data[k] for k in ("factory", "ntotal")}


@dataclass(frozen=True)
class FileSum:
    """A data file's SHA-256 and size, as the build that wrote it measured them."""

    sha256: str
    bytes: int

    @classmethod
    def parse(cls, node: _Field) -> FileSum:
        sha = node.get("sha256")
        if not _SHA256.fullmatch(sha.text()):
            raise sha._wrong("64 hexadecimal digits")
        return cls(sha.value, node.get("bytes").whole(0, INT64))


def _settings(node: _Field) -> Settings:
    """The build's settings, each checked by ``Settings``' own rules, one at a time so
    that the error names the field."""
    values = {}
    for name in (f.name for f in dataclasses.fields(Settings)):
        item = node.find(name) if name in OPTIONAL_SETTINGS else node.get(name)
        if item is None:
            continue
        try:
            Settings(**{name: item.value})
        except UsageError as exc:
            raise item.error(str(exc)) from None
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
    def read(cls, gen_dir: Path, *, verify: bool) -> Manifest:
        """The manifest of the generation in ``gen_dir``, with its data files checked:
        their sizes always, their SHA-256s when ``verify``."""
        manifest = cls.load(gen_dir)
        manifest.check_files(gen_dir, hashes=verify)
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
        top = _Field(path, "", data)
        top.object()
        version = top.find("schema_version")
        if version is None or type(version.value) is not int or \
                version.value not in READ_SCHEMAS:
            found = "lacks schema_version" if version is None else \
                f"has schema_version {_SHOWN.repr(version.value)}"
            raise CorruptCollection(f"{path} {found}; this citeseek reads versions "
                                    f"{' and '.join(map(str, READ_SCHEMAS))}")
        generation = top.get("generation")
        if not layout.GENERATION.fullmatch(generation.text()):
            raise generation._wrong("a generation's name (gen-000001)")
        created = top.get("created")
        try:
            datetime.fromisoformat(created.text())
        except ValueError:
            raise created._wrong("an ISO date and time") from None
        counts, index = Counts.parse(top.get("counts")), IndexInfo.parse(top.get("index"))
        if counts.chunks != index.ntotal:
            raise CorruptCollection(
                f"{path} has counts.chunks {counts.chunks} but index.ntotal {index.ntotal}: "
                "one of them was altered")
        files = top.get("files")
        keyword_files = {name for name in files.object() if layout.KEYWORD_FILE.match(name)}
        unknown = set(files.object()) - set(layout.DATA_FILES) - keyword_files
        if unknown or (version.value == 1 and keyword_files):
            raise files.get(min(unknown | keyword_files)).error(
                "is not a file of a generation" + (" of schema 1" if not unknown else ""))
        if version.value >= 2 and f"{layout.KEYWORD_DIR}/meta.json" not in keyword_files:
            raise files.error(f"lacks {layout.KEYWORD_DIR}/meta.json, the keyword index")
        readers = top.find("readers")
        return cls(
            generation=generation.value, created=created.value,
            model=ModelInfo.parse(top.get("model")), settings=_settings(top.get("settings")),
            counts=counts, index=index,
            readers=None if readers is None else {
                key: item.whole(1, C_INT) for key, item in readers.entries()},
            versions={key: item.text() for key, item in top.get("versions").entries()},
            files={name: FileSum.parse(files.get(name))
                   for name in [*layout.DATA_FILES, *sorted(keyword_files)]},
            schema_version=version.value)

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON data, as written (keys sorted, as on disk)."""
        data: dict[str, Any] = {
            "generation": self.generation, "created": self.created,
            "model": dataclasses.asdict(self.model), "settings": self.settings.to_dict(),
            "counts": dataclasses.asdict(self.counts), "index": self.index.to_dict(),
            "versions": dict(self.versions), "schema_version": self.schema_version,
            "files": {name: dataclasses.asdict(s) for name, s in self.files.items()},
        }
        if self.readers is not None:
            data["readers"] = dict(self.readers)
        return _sorted(data)

    @property
    def keyword_dir(self) -> str | None:
        """The folder of the keyword index, from schema 2 on (schema 1: None, FTS5)."""
        return layout.KEYWORD_DIR if self.schema_version >= 2 else None

    def check_files(self, gen_dir: Path, *, hashes: bool) -> None:
        """Each data file is there with the size recorded (and, with ``hashes``, the
        SHA-256); a ``CorruptCollection`` naming the file otherwise. A file in
        ``keywords/`` that the manifest does not name is an error too: the index would
        read it."""
        if self.keyword_dir is not None:
            found = set(layout.generation_files(gen_dir)) - set(layout.DATA_FILES)
            extra = found - set(self.files)
            if extra:
                raise CorruptCollection(f"{gen_dir / min(extra)} is not named in the manifest "
                                        "(planted or left by another build)")
        for name, expected in self.files.items():
            layout.check_file(gen_dir / name, expected.bytes,
                              expected.sha256 if hashes else None)

    def write(self, gen_dir: Path) -> Manifest:
        """Seal the generation in ``gen_dir``: its data files synced to disk and measured,
        then this manifest, with their sums, written atomically. Returns what was written."""
        names = layout.generation_files(gen_dir)
        for name in names:
            layout.fsync_file(gen_dir / name)
        if (gen_dir / layout.KEYWORD_DIR).is_dir():
            layout.fsync_dir(gen_dir / layout.KEYWORD_DIR)
        sealed = dataclasses.replace(self, schema_version=SCHEMA_VERSION, files={
            name: FileSum(layout.sha256_file(gen_dir / name), (gen_dir / name).stat().st_size)
            for name in names})
        layout.write_atomic(gen_dir / layout.MANIFEST,
                            json.dumps(sealed.to_dict(), indent=2, sort_keys=True).encode())
        return sealed


def _sorted(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with every object's keys in order, as the JSON on disk has them."""
    return {key: _sorted(value) if isinstance(value, dict) else value
            for key, value in sorted(data.items())}
