"""The integrations' tests need their extras (``mcp``, ``langchain``, ``llama-index``,
``watch``), which ``make test`` installs: where one is missing its tests skip, except
under CI (the ``CI`` environment variable set), where they fail."""

from __future__ import annotations

import importlib.util
import os

import pytest


def need_modules(*names: str) -> None:
    """Skip the module where a package is missing (fail under CI)."""
    for name in names:
        if importlib.util.find_spec(name) is not None:
            continue
        message = f"the Python package {name} is not installed (make test installs it)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)
