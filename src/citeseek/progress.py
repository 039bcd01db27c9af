"""Progress bars that suit where the code runs: a widget in Jupyter when ipywidgets is
installed, a text bar in a terminal or a notebook without it (and no warning either way)."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from .display import in_kernel


def widgets_available() -> bool:
    """True when ipywidgets can be imported (a module set to None counts as absent)."""
    if "ipywidgets" in sys.modules:
        return sys.modules["ipywidgets"] is not None
    try:
        return importlib.util.find_spec("ipywidgets") is not None
    except (ImportError, ValueError):
        return False


def bar_class(*, kernel: bool, widgets: bool) -> Any:
    """The tqdm class for a place: tqdm.notebook in a kernel with widgets, else tqdm.std."""
    if kernel and widgets:
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm
    from tqdm.std import tqdm as text_tqdm

    return text_tqdm


def progress_bar(*, total: int, desc: str, unit: str, disable: bool = False) -> Any:
    """A tqdm bar for ``total`` items; use it as a context manager and ``update(n)``."""
    if disable:
        from tqdm.std import tqdm as text_tqdm

        return text_tqdm(total=total, disable=True)
    kind = bar_class(kernel=in_kernel(), widgets=widgets_available())
    return kind(total=total, desc=desc, unit=unit)
