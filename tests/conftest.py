"""Shared fixtures: the model-free hashing embedder (``citeseek.embed.hashing``) and a
``build`` that uses it, for fast tests; the real bundled model loaded once per session
for tests marked ``model``. Helpers that are not fixtures live in ``tests/helpers.py``."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from citeseek.embed.hashing import HashingEmbedder
from tests.chat_server import Reply, Server

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def fake() -> HashingEmbedder:
    """The hashing embedder, recording every text it encodes."""
    return HashingEmbedder(record=True)


@pytest.fixture
def build(fake: HashingEmbedder) -> Callable[..., Any]:
    """``citeseek.build`` with the ``fake`` embedder and no progress bars."""
    import citeseek

    return functools.partial(citeseek.build, model=fake, progress=False)


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled sample articles."""
    from citeseek.demo import sample_dir as bundled

    target = tmp_path / "articles"
    shutil.copytree(bundled(), target)
    return target


@pytest.fixture(scope="session")
def real_model():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    from citeseek.embed.sentence_transformer import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder()
    emb.model  # noqa: B018 - load now, once
    return emb


@pytest.fixture(scope="session")
def real_sample_collection(tmp_path_factory, real_model):
    """The sample articles built with the real model, shared by model-marked tests."""
    import citeseek
    from citeseek.demo import sample_dir as bundled

    store = tmp_path_factory.mktemp("real") / "sample"
    return citeseek.build(bundled(), store, model=real_model, progress=False)


@pytest.fixture(scope="session")
def hashed_sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample articles built once with the hashing embedder, for tests
    that only read a collection (served, searched, reranked); none may write to it."""
    import citeseek
    from citeseek.demo import sample_dir as bundled

    store = tmp_path_factory.mktemp("hashed") / "sample"
    citeseek.build(bundled(), store, model=HashingEmbedder(), progress=False)
    return store


@pytest.fixture
def serve() -> Iterator[Callable[[Reply], Server]]:
    """Start local chat-completions servers (``tests/chat_server.py``) with the replies
    a test chooses; each is shut down when the test ends."""
    servers: list[Server] = []

    def start(reply: Reply) -> Server:
        server = Server(reply).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()
