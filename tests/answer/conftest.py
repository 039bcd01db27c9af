"""Fixtures of the answer tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def col(sample_dir: Path, tmp_path: Path, build):
    """A writable collection of the sample articles, built with the hashing embedder."""
    return build(sample_dir, tmp_path / "col")
