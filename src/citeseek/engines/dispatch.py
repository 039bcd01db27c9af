"""Which engine builds: the engine named and the options only Ray takes, checked in one
place (for the Python API and the command line alike), and the build run by it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config import ENGINES, Settings
from ..embed.base import Embedder
from ..errors import UsageError
from .publish import Built, build_collection
from .settings import merge_settings

PYTHON_NAMES = ("address and workers", "engine='ray'")
CLI_NAMES = ("--address and --workers", "--engine ray")


def check_engine(engine: str, *, address: str | None = None, workers: int | None = None,
                 names: tuple[str, str] = PYTHON_NAMES) -> None:
    """A ``UsageError`` for an unknown engine, or for Ray's options given to another
    engine; ``names`` spells the options and the engine as the caller's users write
    them (``CLI_NAMES`` on the command line)."""
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    if engine != "ray" and (address is not None or workers is not None):
        options, ray = names
        raise UsageError(f"{options} apply to {ray} only")


def run_build(sources: Sequence[str | os.PathLike[str]], root: Path, *, engine: str = "local",
              model: str | Embedder | None = None, overrides: Mapping[str, Any] | None = None,
              progress: bool = True, strict: bool = False, follow_links: bool = False,
              address: str | None = None, workers: int | None = None) -> Built:
    """Build the collection at ``root`` from ``sources`` with ``engine``: "local" (this
    process) or "ray" (reading, chunking and embedding on a Ray cluster at ``address``,
    with ``workers`` model actors)."""
    check_engine(engine, address=address, workers=workers)
    merge_settings(Settings(), model, overrides or {})  # a bad setting fails before any lock
    if engine == "ray":
        from .ray_driver import RayOptions, build_collection_on_ray

        return build_collection_on_ray(
            sources, root, options=RayOptions(address=address, workers=workers), model=model,
            overrides=overrides, progress=progress, strict=strict, follow_links=follow_links)
    return build_collection(sources, root, model=model, overrides=overrides,
                            progress=progress, strict=strict, follow_links=follow_links)
