"""The command line: a thin shell over the Python API (``commands.py`` does each
command, ``parser.py`` reads the options).

Exit codes: 0 ok, 1 runtime or data error, 2 usage error. With ``--json`` every command
prints one JSON document on stdout, errors included (``{"error": ...}``). ``--store``
defaults to ``CITESEEK_STORE``, else to where ``citeseek.build`` puts collections.
Nothing read from articles or file names reaches the terminal raw: control characters
and escape sequences are printed as escapes. Output cut short by its reader (``citeseek
docs | head -1``) ends the command quietly with exit 141, as a program killed by SIGPIPE.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Sequence

from ..errors import CiteseekError, CorruptCollection, UsageError
from ..terminal import printable, printable_json
from .parser import ArgumentError, make_parser

__all__ = ["main", "make_parser"]
_WAY_BACK = ("\n(citeseek check says which generations are good; citeseek rollback makes "
             "the previous good one live; citeseek index builds anew from it)")


def _fail(message: str, kind: str, code: int, as_json: bool) -> int:
    if as_json:
        print(printable_json(json.dumps({"error": message, "type": kind}, ensure_ascii=False)))
    print(f"citeseek: error: {printable(message)}", file=sys.stderr)
    return code


CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a reader that went away


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # the reader of stdout went away: nothing left to say
        _quiet_stdout()
        return CLOSED_PIPE


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of what the closed pipe
    did not take raises nothing at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is no file (a test's capture)
        pass


def _main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except ArgumentError as exc:
        exc.parser.print_usage(sys.stderr)
        return _fail(str(exc), "UsageError", 2, "--json" in argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        raise  # main's to end quietly
    except CiteseekError as exc:
        code = 2 if isinstance(exc, UsageError) else 1
        return _fail(str(exc) + (_WAY_BACK if isinstance(exc, CorruptCollection) else ""),
                     type(exc).__name__, code, getattr(args, "json", False))
    except OSError as exc:  # the system refused (permissions, a full disk): not a bug
        return _fail(str(exc), type(exc).__name__, 1, getattr(args, "json", False))
    except KeyboardInterrupt:
        print("citeseek: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one JSON error object for scripts
        print(printable(traceback.format_exc()), file=sys.stderr)
        return _fail(f"internal error: {type(exc).__name__}: {exc}", "InternalError", 1,
                     getattr(args, "json", False))
