"""A real ``citeseek serve`` in a child process on a free loopback port, for the server
tests: started, waited for (``/health`` answers), and stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.helpers import REPO, free_port

ROOT = REPO


def wait_until_up(url: str, proc: subprocess.Popen[bytes] | None = None,
                  log: Path | None = None, limit: float = 120) -> None:
    """Poll ``url``/health until it answers (200 or 503); a dead child is an error."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            said = log.read_text(errors="replace") if log else ""
            raise AssertionError(f"the server ended ({proc.returncode}): {said[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=5).status_code in (200, 503):
                return
        time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@contextlib.contextmanager
def running_server(store: Path, *args: str, env: dict[str, str] | None = None,
                   host: str = "127.0.0.1") -> Iterator[str]:
    """``citeseek serve --store STORE`` on a free port; yields its base URL."""
    with server_process(store, *args, env=env, host=host) as (url, _):
        yield url


@contextlib.contextmanager
def server_process(store: Path, *args: str, env: dict[str, str] | None = None,
                   host: str = "127.0.0.1", open_files: int | None = None
                   ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``running_server`` that yields the process too; ``open_files`` caps the file
    descriptors it may hold (``RLIMIT_NOFILE``)."""
    import resource

    def limit() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    port = free_port()
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1",
                "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]), **(env or {})}
    # The access log goes to a file: a pipe nobody reads would fill and stall the server.
    with tempfile.NamedTemporaryFile(prefix="citeseek-serve-", suffix=".log") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "citeseek", "serve", "--store", str(store), "--host",
             host, "--port", str(port), *args], env=full_env, stdout=log,
            stderr=subprocess.STDOUT, preexec_fn=limit)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, proc, Path(log.name))
            yield url, proc
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
