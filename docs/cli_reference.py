"""Write ``docs/cli-reference.md``: the ``--help`` of ``citeseek`` and of every command.

    python docs/cli_reference.py            # rewrite the page (make cli-reference)
    python docs/cli_reference.py --check    # exit 1 when the page is out of date

argparse wraps help to the terminal's width (``COLUMNS``); the page is rendered at a
fixed width, so it is the same on every machine. ``tests/project/test_docs.py`` holds that the
page equals ``render()``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PAGE = Path(__file__).resolve().parent / "cli-reference.md"
COLUMNS = 90

HEAD = """\
# CLI reference

<!-- Written by docs/cli_reference.py (make cli-reference); tests/project/test_docs.py checks it. -->

The `--help` of `citeseek` and of every command, as this version prints it. The
[command line guide](cli.md) explains them with examples; `--json` output and exit codes
are described there too.
"""


@contextmanager
def _columns(width: int) -> Iterator[None]:
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def render() -> str:
    """The page's text, from the live parser."""
    from citeseek.cli import make_parser

    with _columns(COLUMNS):
        parser = make_parser()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parts = [HEAD, f"## `citeseek`\n\n```text\n{parser.format_help()}```\n"]
        for name, command in sub.choices.items():
            parts.append(f"## `citeseek {name}`\n\n```text\n{command.format_help()}```\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE} is out of date: run make cli-reference", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
