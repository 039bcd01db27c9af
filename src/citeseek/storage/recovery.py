"""The way back from a damaged collection: every generation on disk checked
(``check``), a good one made live again (``rollback``), and what a build may start
from when the live one is damaged (``last_good``, ``trusted_store``).

A generation is good when its manifest reads and each data file has the size and the
SHA-256 the manifest records (``Manifest.read(verify=True)``): the very bytes that the
build which wrote them verified before publishing. One without a manifest that is not
live is a build that did not finish. Nothing here repairs or deletes: a rollback only
points ``CURRENT`` at another generation, under the build lock, in one atomic step.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import CollectionNotFound, CorruptCollection, NoGoodGeneration, UsageError
from . import layout
from .manifest import Manifest


@dataclass(frozen=True)
class GenerationState:
    """One generation folder as ``check`` found it (``problem`` says why it is not good;
    ``created``, ``documents`` and ``chunks`` come from its manifest where that reads)."""

    name: str
    live: bool
    good: bool
    problem: str | None = None
    created: str | None = None
    documents: int | None = None
    chunks: int | None = None


@dataclass(frozen=True)
class CollectionCheck:
    """Every generation of a collection checked: ``live`` is what ``CURRENT`` names
    (None, with ``pointer_problem``, when it names none); ``rollback_to`` the good
    generation a ``rollback`` would make live."""

    store: str
    live: str | None
    pointer_problem: str | None
    generations: list[GenerationState]
    rollback_to: str | None

    @property
    def ok(self) -> bool:
        """True when the live generation is good."""
        return any(g.live and g.good for g in self.generations)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data

    def __str__(self) -> str:
        head = f"{self.store}: " + (f"{self.live} is live and good" if self.ok else
                                    "the live generation is damaged" if self.live else
                                    f"no live generation ({self.pointer_problem})")
        lines = [head]
        for g in self.generations:
            what = (f"good, {g.documents} documents, {g.chunks} passages, built {g.created}"
                    if g.good else f"damaged: {g.problem}")
            lines.append(f"  {g.name}{' (live)' if g.live else ''}: {what}")
        if not self.ok:
            lines.append(f"  citeseek rollback makes {self.rollback_to} live, and citeseek "
                         "index builds on it" if self.rollback_to else
                         "  no good generation to roll back to: citeseek index builds the "
                         "collection anew from its sources")
        return "\n".join(lines)


@dataclass(frozen=True)
class Rollback:
    """What a rollback did: ``live`` is live now in place of ``previous``."""

    store: str
    previous: str | None
    live: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.store}: {self.live} is live (it was {self.previous or 'none'})"


def _folder(path: str | os.PathLike[str]) -> Path:
    """The collection folder at ``path`` (it holds a ``CURRENT`` or a generation)."""
    if not isinstance(path, str | os.PathLike) or not os.fspath(path):
        raise UsageError(f"a store must be a non-empty path, not {path!r}")
    root = Path(path).expanduser()
    if not root.is_dir() or not ((root / layout.CURRENT).exists() or layout.generations(root)):
        raise CollectionNotFound(f"no collection at {root} (build one with citeseek index)")
    return root


def live_name(root: Path) -> tuple[str | None, str | None]:
    """The generation ``CURRENT`` names, or None and why it names none."""
    try:
        name = layout.current_generation(root)
    except CorruptCollection as exc:
        return None, str(exc)
    return name, None if name else f"{root / layout.CURRENT} is missing"


def state(root: Path, name: str, live: bool) -> tuple[GenerationState, Manifest | None]:
    """Generation ``name`` checked: every file against its manifest."""
    try:
        manifest = Manifest.read(root / name, verify=True)
    except CorruptCollection as exc:
        problem = str(exc)
        if not live and not (root / name / layout.MANIFEST).exists():
            problem = f"unfinished: no {layout.MANIFEST} (a build that did not finish)"
        return GenerationState(name, live, False, problem), None
    return GenerationState(name, live, True, None, manifest.created,
                           manifest.counts.documents, manifest.counts.chunks), manifest


def _older(name: str, than: str | None) -> bool:
    return than is None or int(name[4:]) < int(than[4:])


def last_good(root: Path, before: str | None) -> tuple[str, Manifest] | None:
    """The newest good generation older than ``before`` (any, when ``before`` is None),
    and its verified manifest."""
    for name in reversed(layout.generations(root)):
        if name != before and _older(name, before):
            found, manifest = state(root, name, False)
            if manifest is not None:
                return name, manifest
    return None


def check(path: str | os.PathLike[str]) -> CollectionCheck:
    """Verify every generation of the collection at ``path`` (see the module docstring)."""
    root = _folder(path)
    live, problem = live_name(root)
    names = layout.generations(root)
    states = [state(root, name, name == live)[0] for name in names]
    if live is not None and live not in names:  # its folder is gone
        states.append(state(root, live, True)[0])
    target = next((g.name for g in reversed(states)
                   if g.good and not g.live and _older(g.name, live)), None)
    return CollectionCheck(str(root), live, problem, states, target)


def rollback(path: str | os.PathLike[str], to: str | None = None) -> Rollback:
    """Make the newest good generation older than the live one (or ``to``, any good
    generation on disk) live, atomically and under the build lock. A reader (``serve``
    among them) moves to it with its next request. ``NoGoodGeneration`` when there is
    none to make live; ``CollectionLocked`` while a build runs."""
    root = _folder(path)
    with layout.build_lock(root):
        live, _ = live_name(root)
        if to is not None:
            if not layout.GENERATION.fullmatch(to) or not (root / to).is_dir():
                raise UsageError(f"no generation {to!r} in {root} (citeseek check lists them)")
            if to == live:
                raise UsageError(f"{to} is live already")
            found, manifest = state(root, to, False)
            if manifest is None:
                raise NoGoodGeneration(f"{to} is not good: {found.problem}")
        else:
            good = last_good(root, live)
            if good is None:
                newer = [g for g in layout.generations(root) if not _older(g, live)
                         and g != live and state(root, g, False)[1] is not None]
                raise NoGoodGeneration(
                    f"no good generation {'before ' + live if live else 'in ' + str(root)} "
                    "to roll back to" + (f" ({', '.join(newer)}: newer, and good; --to "
                                         "makes one live)" if newer else
                                         "; citeseek index builds the collection anew "
                                         "from its sources"))
            to = good[0]
        layout.publish(root, to)
    return Rollback(str(root), live, to)


def trusted_store(gen_dir: Path) -> bool:
    """True when the database a generation wrote itself (its top delta, or its store
    when it has no delta) has the size and SHA-256 its manifest records: its cached
    vectors may be taken by a build."""
    try:
        files = Manifest.load(gen_dir).files
        own = layout.delta_name(gen_dir.name, "sqlite")
        name = own if own in files else layout.STORE_FILE
        expected, store = files[name], gen_dir / name
        return store.stat().st_size == expected.bytes and \
            layout.sha256_file(store) == expected.sha256
    except (CorruptCollection, OSError):
        return False


def vector_sources(root: Path, names: list[str]) -> list[str]:
    """Those of generations ``names`` whose cached vectors a build may take: builds that
    did not finish (no manifest; SQLite's journal keeps their store whole) and stores
    that verify. A store that does not (a damaged generation rolled back from) could
    hand over altered vectors, so it gives none."""
    return [name for name in names if not (root / name / layout.MANIFEST).exists()
            or trusted_store(root / name)]
