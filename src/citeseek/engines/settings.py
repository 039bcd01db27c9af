"""What a build starts from: the live generation (``PreviousBuild``, its name and its
manifest, read and verified once, under the build's lock) and the settings the build
runs with (the previous build's, or the defaults, with what was asked for applied)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..config import AUTO_BACKEND, Settings
from ..embed import choose_backend, prepare_queries, resolve_embedder
from ..embed.base import Embedder, base_model_name, check_model
from ..errors import UsageError
from ..storage import layout
from ..storage.manifest import Manifest


@dataclass(frozen=True)
class PreviousBuild:
    """The generation live when a build starts: its folder name and its manifest."""

    name: str
    manifest: Manifest

    @classmethod
    def read(cls, root: Path) -> PreviousBuild | None:
        """The live generation of the collection at ``root``, its files verified; None
        when there is none yet."""
        name = layout.current_generation(root) if root.is_dir() else None
        return cls(name, Manifest.read(root / name, verify=True)) if name else None


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


def build_settings(previous: PreviousBuild | None, model: str | Embedder | None,
                   overrides: Mapping[str, Any]) -> tuple[Settings, Embedder]:
    """The settings of a build on top of ``previous``: its settings (or the defaults),
    with ``overrides`` and ``model`` applied, and the ``auto`` backend resolved; and the
    embedder they name (a model run by torch gets its ONNX export made for queries)."""
    base = previous.manifest.settings if previous else Settings()
    chosen = merge_settings(base, model, overrides)
    if model is None and previous:  # the previous build's model, by the id it recorded
        model = base_model_name(previous.manifest.model.id, base.backend)
    name = model if model is not None else chosen.model
    if chosen.backend == AUTO_BACKEND:  # the manifest records what it stood for
        chosen = replace(chosen, backend=choose_backend(name))
    embedder = resolve_embedder(name, chosen.backend)
    prepare_queries(embedder)
    return chosen, embedder
