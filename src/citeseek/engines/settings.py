"""What a build starts from: the live generation (``PreviousBuild``, its name and its
manifest, read and verified once, under the build's lock) and the settings the build
runs with (the previous build's, or the defaults, with what was asked for applied).

When the live generation is damaged, the build starts from the last good one instead,
or from nothing but the sources, keeping the damaged one's settings where its manifest
still reads, and taking the vectors of every store that verifies (``StartingPoint``):
the new generation then replaces the damaged one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..config import AUTO_BACKEND, Settings
from ..embed import choose_backend, prepare_queries, resolve_embedder
from ..embed.base import Embedder, base_model_name, check_model
from ..errors import CorruptCollection, UsageError
from ..storage import layout, recovery
from ..storage.manifest import Manifest


@dataclass(frozen=True)
class PreviousBuild:
    """The generation live when a build starts: its folder name and its manifest."""

    name: str
    manifest: Manifest

    @classmethod
    def read(cls, root: Path) -> PreviousBuild | None:
        """The live generation of the collection at ``root``, its files verified (those
        unchanged since their build sealed them by their seal: see
        ``Manifest.check_files``); None when there is none yet."""
        name = layout.current_generation(root) if root.is_dir() else None
        return cls(name, Manifest.read(root / name, verify=True, trust_seals=True)) \
            if name else None


@dataclass(frozen=True)
class StartingPoint:
    """What a build starts from: ``previous``, the generation it builds on (the live one,
    or the last good one when the live one is ``damaged``, for ``problem``); ``base``, the
    manifest whose settings and model it keeps; ``leftovers``, generations whose vectors
    it takes (interrupted builds', and any other store that verifies)."""

    previous: PreviousBuild | None
    base: Manifest | None
    leftovers: list[str]
    damaged: str | None = None  # the damaged live generation, or "CURRENT"
    problem: str | None = None

    @classmethod
    def read(cls, root: Path) -> StartingPoint:
        """The starting point of a build of the collection at ``root``, under its lock."""
        try:
            live = PreviousBuild.read(root)
        except CorruptCollection as exc:
            return cls._damaged(root, str(exc))
        return cls(live, live.manifest if live else None,
                   recovery.vector_sources(root, layout.unpublished(root)))

    @classmethod
    def _damaged(cls, root: Path, problem: str) -> StartingPoint:
        name, _ = recovery.live_name(root)
        good = recovery.last_good(root, name)
        previous = PreviousBuild(*good) if good else None
        base = previous.manifest if previous else None
        if base is None and name is not None:
            try:
                base = Manifest.load(root / name)
            except CorruptCollection:
                base = None
        kept = {name, previous.name if previous else None}
        leftovers = recovery.vector_sources(
            root, [g for g in layout.generations(root) if g not in kept])
        if name is not None and recovery.trusted_store(root / name):  # only the index is bad
            leftovers.append(name)
        return cls(previous, base, leftovers, name or layout.CURRENT, problem)


def merge_settings(base: Settings, model: str | Embedder | None,
                   overrides: Mapping[str, Any]) -> Settings:
    """``base`` with ``overrides`` and ``model`` applied; a ``UsageError`` for a setting
    that does not exist or a value it cannot take."""
    merged = base.to_dict()
    unknown = set(overrides) - set(merged)
    if unknown:
        raise UsageError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    merged.update(overrides)
    if model is not None:
        check_model(model)
    if isinstance(model, str):
        merged["model"] = model
    elif model is not None:
        merged["model"] = model.model_id
    return Settings.from_dict(merged)


def build_settings(previous: Manifest | None, model: str | Embedder | None,
                   overrides: Mapping[str, Any]) -> tuple[Settings, Embedder]:
    """The settings of a build on top of the generation of manifest ``previous``: its
    settings (or the defaults), with ``overrides`` and ``model`` applied, and the ``auto``
    backend resolved; and the embedder they name (a model run by torch gets its ONNX
    export made for queries)."""
    base = previous.settings if previous else Settings()
    chosen = merge_settings(base, model, overrides)
    if model is None and previous:  # the previous build's model, by the id it recorded
        model = base_model_name(previous.model.id, base.backend)
    name = model if model is not None else chosen.model
    if chosen.backend == AUTO_BACKEND:  # the manifest records what it stood for
        chosen = replace(chosen, backend=choose_backend(name))
    embedder = resolve_embedder(name, chosen.backend)
    prepare_queries(embedder)
    return chosen, embedder
