"""What a build starts from: the live generation (``PreviousBuild``, its name and its
manifest, read and verified once, under the build's lock) and the settings the build
runs with (the previous build's, or the defaults, with what was asked for applied)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..embed import resolve_embedder
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
        """The live generation of the collection at ``root``, its files verified (those
        unchanged since their build sealed them by their seal: see
        ``Manifest.check_files``); None when there is none yet."""
        name = layout.current_generation(root) if root.is_dir() else None
        return cls(name, Manifest.read(root / name, verify=True, trust_seals=True)) \
            if name else None


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
    with ``overrides`` and ``model`` applied; and the embedder they name."""
    base = previous.manifest.settings if previous else Settings()
    chosen = merge_settings(base, model, overrides)
    if model is None and previous:  # the previous build's model, by the id it recorded
        model = base_model_name(previous.manifest.model.id, base.backend)
    return chosen, resolve_embedder(model if model is not None else chosen.model,
                                    chosen.backend)
