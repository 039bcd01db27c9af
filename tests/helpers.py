"""What many tests share: the repository's paths, the evaluation data beside it, a free
loopback port, polling until something holds, and threads whose errors fail the test."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CRANFIELD = SHARED / "eval" / "cranfield"


def require_shared(path: Path) -> Path:
    """``path`` (under ../shared): a skip where it is absent, a failure under CI, which
    always has it, so a missing data set never passes for a passing test there."""
    if not path.exists():
        message = f"{path} is not beside the repository"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], Any], *, proc: subprocess.Popen[Any] | None = None,
               limit: float = 120, every: float = 0.02, what: str = "the condition") -> Any:
    """Poll until ``condition()`` is true and return its value; a child process that
    ended meanwhile, or ``limit`` seconds passing, fails the test."""
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            said = proc.communicate() if proc.stdout or proc.stderr else ""
            raise AssertionError(f"the child process ended early ({proc.returncode}) "
                                 f"while waiting for {what}: {said}")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {limit} s")
        time.sleep(every)


@contextlib.contextmanager
def running_threads(target: Callable[..., Any],
                    arguments: Iterable[tuple[Any, ...]]) -> Iterator[None]:
    """``target(*args)`` in one thread per item of ``arguments``, started on entry and
    joined on exit; an error raised in any thread fails the test there."""
    errors: list[BaseException] = []

    def run(*args: Any) -> None:
        try:
            target(*args)
        except BaseException as exc:  # re-raised in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for thread in threads:
            thread.join()
    if errors:
        raise AssertionError(f"{len(errors)} thread(s) failed; the first: "
                             f"{errors[0]!r}") from errors[0]


def run_threads(target: Callable[..., Any], arguments: Iterable[tuple[Any, ...]]) -> None:
    """``running_threads`` with nothing to do meanwhile."""
    with running_threads(target, arguments):
        pass


# Chromium from Debian's package, which ``make test`` installs, started headless.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def need(what: str, present: bool) -> None:
    """Skip where a tool or a package ``make test`` installs is missing (the test, or
    the module where called at import), except under CI (``CI`` set): a failure there."""
    if present:
        return
    message = f"{what} is not installed (make test installs it)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)


def need_modules(*names: str) -> None:
    """``need`` each Python package (the extras: ``mcp``, ``langchain``, ``playwright``...)."""
    for name in names:
        need(f"the Python package {name}", importlib.util.find_spec(name) is not None)
