"""A real ``citeseek serve`` against hostile clients and a store changed under it: huge
and slow bodies, half-sent requests from more clients than it has descriptors, other
``Host`` names (DNS rebinding), keys no header can carry, a store rebuilt with another
model or deleted, fields that are not text, and rebuilds that must not leave deleted
generations open."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import CiteseekError, ModelMismatch
from tests.helpers import running_threads, wait_until
from tests.service.server_process import server_process

from .conftest import run_worker, worker_env, write_articles


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _raw(url: str, data: bytes, *, read: bool = True, timeout: float = 10) -> bytes:
    """Send ``data`` on a fresh connection and return what the server answers (until it
    closes or ``timeout`` passes)."""
    with socket.create_connection(("127.0.0.1", _port(url)), timeout=timeout) as sock:
        sock.sendall(data)
        if not read:
            return b""
        out = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := sock.recv(65536):
                out += chunk
        return out


@pytest.fixture
def store(built: Path) -> Path:
    return built


def test_the_key_is_checked_before_the_body_and_bodies_are_bounded(store: Path) -> None:
    with server_process(store, "--max-body", "4096",
                        env={"CITESEEK_API_KEY": "s3cret"}) as (url, _):
        # 200 MB announced, none of it sent: refused at once, nothing read or parsed.
        head = (b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/"
                b"json\r\nContent-Length: 200000000\r\n\r\n")
        started = time.monotonic()
        answer = _raw(url, head + b'{"query": ', timeout=20)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        assert b'"type": "HTTPError"' in answer and b"API key" in answer
        assert time.monotonic() - started < 15  # answered, not waiting for 200 MB
        keyed = head.replace(b"Host:", b"Authorization: Bearer s3cret\r\nHost:")
        answer = _raw(url, keyed + b'{"query": ', timeout=20)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"4,096 bytes" in answer
        # A streamed (chunked) body is counted as it comes.
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer s3cret"},
                          timeout=30) as client:
            def chunks() -> Iterator[bytes]:
                yield b'{"query": "harbour", "source": ["'
                for _ in range(100):
                    yield b"x" * 1000
                yield b'"]}'

            got = client.post("/search", content=chunks(),
                              headers={"Content-Type": "application/json"})
            assert got.status_code == 413 and got.json()["type"] == "HTTPError"
            small = client.post("/search", json={"query": "harbour crane", "k": 2})
            assert small.status_code == 200 and len(small.json()) == 2
            assert client.get("/health").status_code == 200


def test_a_body_sent_too_slowly_is_a_408(store: Path) -> None:
    with server_process(store, "--body-timeout", "1") as (url, _):
        head = (b"POST /search HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/"
                b"json\r\nContent-Length: 100\r\n\r\n" % _port(url))
        answer = _raw(url, head + b'{"query": "har', timeout=20)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert httpx.get(f"{url}/health").status_code == 200


def _reachable(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_half_sent_requests_cannot_make_the_server_unreachable(store: Path) -> None:
    """130 clients send half a request and wait, against a server that may hold 128
    descriptors; one more sends a byte at a time. Each is closed within the header
    timeout, and the server answers again."""
    timeout = 2.0
    with server_process(store, "--header-timeout", str(timeout),
                        open_files=128) as (url, proc):
        fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
        assert fds < 100, fds  # the limit is within reach of the clients below
        clients = []
        for _ in range(130):
            sock = socket.socket()
            sock.settimeout(30)
            sock.connect(("127.0.0.1", _port(url)))
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            clients.append(sock)
        trickle = socket.create_connection(("127.0.0.1", _port(url)), timeout=30)
        stop = threading.Event()

        def drip() -> None:
            with contextlib.suppress(OSError):
                for byte in b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" * 100:
                    if stop.is_set():
                        return
                    trickle.send(bytes([byte]))
                    time.sleep(0.2)

        dripping = threading.Thread(target=drip)
        dripping.start()
        try:
            # Reachable again within a few header timeouts (generous: a loaded machine).
            wait_until(lambda: _reachable(url), proc=proc, limit=20 * timeout,
                       what="the server to answer again")
            # Each was closed, told why (408) unless the close reset the connection.
            for sock in (clients[0], clients[-1], trickle):
                sock.settimeout(20 * timeout)
                said = b""
                with contextlib.suppress(ConnectionResetError):
                    while chunk := sock.recv(4096):
                        said += chunk
                assert said in (b"",) or said.startswith(b"HTTP/1.1 408"), said[:200]
        finally:
            stop.set()
            dripping.join()
            for sock in [*clients, trickle]:
                sock.close()
        assert httpx.get(f"{url}/health").status_code == 200


def test_a_loopback_server_without_a_key_answers_only_its_own_host(store: Path) -> None:
    with server_process(store) as (url, _):
        port = _port(url)
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
            assert httpx.get(f"{url}/info", headers={"Host": host}).status_code == 200
        for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}",
                     f"127.0.0.1.evil.example:{port}", "localhost", ""):
            got = httpx.get(f"{url}/search", params={"query": "harbour"},
                            headers={"Host": host})
            assert got.status_code == 421, (host, got.text)
            assert got.json()["type"] == "HTTPError" and "localhost" in got.json()["error"]
    # With a key the key guards it: a proxy in front may name any host.
    with server_process(store, env={"CITESEEK_API_KEY": "k"}) as (url, _):
        got = httpx.get(f"{url}/info", headers={"Host": "citeseek.example",
                                                "Authorization": "Bearer k"})
        assert got.status_code == 200


@pytest.mark.parametrize("key", ["clé", "two words", "tab\tkey", "\u2603"])
def test_an_api_key_no_header_can_carry_is_refused_at_start(store: Path, key: str) -> None:
    proc = run_worker("cli", "serve", "--store", str(store), "--json",
                      CITESEEK_API_KEY=key, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "CITESEEK_API_KEY" in proc.stderr and "ASCII" in proc.stderr
    assert key not in proc.stderr + proc.stdout  # the secret is not echoed


def _rebuild_with(store: Path, articles: Path, embedder: HashingEmbedder) -> None:
    shutil.rmtree(store)
    citeseek.build(articles, store, model=embedder, progress=False)


def test_a_store_built_anew_with_another_model_is_a_503_everywhere(
        store: Path, articles: Path, fake: HashingEmbedder) -> None:
    reader = citeseek.open(store, model=None)
    assert reader.search("harbour crane", k=2, mode="dense")
    with server_process(store) as (url, _):
        assert httpx.get(f"{url}/search", params={"query": "harbour crane"}).status_code \
            == 200
        _rebuild_with(store, articles, HashingEmbedder(dimension=32))
        for path, params in [("/health", {}), ("/search", {"query": "harbour crane"}),
                             ("/search", {"query": "harbour", "mode": "keyword"}),
                             ("/ask", {"question": "What moved cargo?"}),
                             ("/documents", {}), ("/info", {})]:
            got = httpx.get(f"{url}{path}", params=params)
            assert got.status_code == 503, (path, got.text)
            body = got.json()
            assert body["error"] and "hashing-32-64" in body["error"], body
            assert body.get("type", "ModelMismatch") == "ModelMismatch"
        # Built again with the model it serves: answered again, without a restart.
        _rebuild_with(store, articles, fake)
        wait_until(lambda: httpx.get(f"{url}/health").status_code == 200, limit=30,
                   what="the server to answer again")
    _rebuild_with(store, articles, HashingEmbedder(dimension=32))
    with pytest.raises(ModelMismatch, match="hashing-32-64"):
        reader.search("harbour crane", k=2, mode="dense")


def test_a_deleted_store_is_a_503_from_every_thread(store: Path) -> None:
    with server_process(store) as (url, _):
        ok: list[int] = []

        def warm(n: int) -> None:  # every worker thread holds the store open
            with httpx.Client(base_url=url, timeout=30) as client:
                for _ in range(5):
                    ok.append(client.get("/search", params={"query": "harbour"})
                              .status_code)

        with running_threads(warm, [(n,) for n in range(8)]):
            pass
        assert set(ok) == {200}
        shutil.rmtree(store)
        seen: list[int] = []

        def after(n: int) -> None:
            with httpx.Client(base_url=url, timeout=30) as client:
                for path in ("/health", "/search?query=harbour", "/documents"):
                    got = client.get(path)
                    seen.append(got.status_code)
                    assert "deleted" in got.json()["error"], got.text

        with running_threads(after, [(n,) for n in range(8)]):
            pass
        assert set(seen) == {503}


def _deleted_files(pid: int) -> list[str]:
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.endswith("(deleted)"):
                out.append(target)
    return out


def test_generations_rebuilt_away_are_closed_once_their_requests_end(tmp_path: Path) -> None:
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    fake = HashingEmbedder()
    write_articles(corpus, 4, tag="v0")
    citeseek.build(corpus, store, model=fake, progress=False)
    done = threading.Event()
    with server_process(store) as (url, proc):
        def traffic(n: int) -> None:
            with httpx.Client(base_url=url, timeout=60) as client:
                while not done.is_set():
                    assert client.get("/search", params={
                        "query": "harbour crane", "mode": ("dense", "keyword")[n % 2]
                    }).status_code == 200

        open_meanwhile = []
        with running_threads(traffic, [(n,) for n in range(6)]):
            try:
                for version in range(1, 13):
                    write_articles(corpus, 4, tag=f"v{version}")
                    citeseek.build(corpus, store, model=fake, progress=False)
                    open_meanwhile.append(len(_deleted_files(proc.pid)))
            finally:
                done.set()
        assert httpx.get(f"{url}/health").status_code == 200  # the live one, loaded
        assert _deleted_files(proc.pid) == []
        assert max(open_meanwhile) <= 12  # at most the ones requests still held


def test_fields_that_are_not_text_and_bad_fields_are_4xx_naming_the_field(
        store: Path) -> None:
    with server_process(store) as (url, _):
        cases = [('{"query": "x", "doc_id": ["\\ud800"]}', 400, "doc_id"),
                 ('{"query": "x", "source": ["a\\udcffb"]}', 400, "source"),
                 ('{"question": "x", "source": ["\\udfff"]}', 400, "source"),
                 ('{"query": "x",, }', 422, "body"),
                 ('{"query": "x", "date_from": "2021/03/01"}', 400, "date_from"),
                 ('{"query": "x", "date_to": "tomorrow"}', 400, "date_to")]
        for body, status, field in cases:
            path = "/ask" if "question" in body else "/search"
            got = httpx.post(f"{url}{path}", content=body,
                             headers={"Content-Type": "application/json"})
            assert got.status_code == status, (body, got.text)
            error = got.json()
            assert error["field"] == field and field in error["error"], (body, error)
            assert error["type"] == "UsageError"
    # The command line: bytes that are not UTF-8 in an argument are lone surrogates.
    for args in (["search", "harbour", "--doc-id", b"caf\xe9"],
                 ["search", "harbour", "--source", b"*\xff*"],
                 ["show", b"caf\xe9.txt"]):
        proc = subprocess.run(
            [sys.executable, "-m", "citeseek", *args, "--store", str(store), "--json"],
            env=worker_env(), capture_output=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert b"lone surrogate" in proc.stdout and b"internal error" not in proc.stderr


def test_a_python_reader_of_a_deleted_store_gets_a_citeseek_error(
        tmp_path: Path, fake: HashingEmbedder) -> None:
    folder = write_articles(tmp_path / "a", 2)
    col = citeseek.build(folder, tmp_path / "s", model=fake, progress=False)
    assert col.search("harbour", k=1)
    shutil.rmtree(tmp_path / "s")
    with pytest.raises(CiteseekError, match="deleted"):
        col.search("harbour", k=1)
