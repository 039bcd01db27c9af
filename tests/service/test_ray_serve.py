"""``citeseek serve --engine ray``: the same app as Ray Serve replicas on a local Ray
cluster (the one ``test_ray_engine`` starts, two CPUs), answering exactly as the
single-process server does and following a rebuild without a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from tests.engines.test_ray_engine import cluster  # noqa: F401 - the fixture
from tests.helpers import free_port

from .server_process import running_server, wait_until_up

pytestmark = pytest.mark.ray
REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("/search", {"query": "Mostazafan Foundation sanctions"}),
    ("/search", {"query": "How many protesters were killed?", "mode": "dense", "k": 3}),
    ("/search", {"query": "1988 massacre", "mode": "keyword", "source": "*002*"}),
    ("/search", {"query": "human rights", "k": 8, "per_doc": 1, "doc_id": ["004"]}),
    ("/ask", {"question": "How many protesters were killed in November 2019?"}),
    ("/ask", {"question": "Who won the 2018 FIFA World Cup?"}),
    ("/documents", {}), ("/documents/003", {}), ("/info", {}), ("/health", {}),
]


def test_ray_serve_replicas_answer_as_the_single_server(cluster, sample_dir: Path,  # noqa: F811
                                                        tmp_path: Path) -> None:
    from ray import serve

    from citeseek.server.ray_serve import APP_NAME, deploy

    store = tmp_path / "col"
    fake = HashingEmbedder()
    citeseek.build(sample_dir, store, model=fake, progress=False)
    port = free_port()
    deploy(store, replicas=2, host="127.0.0.1", port=port, api_key=None)
    ray_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(ray_url)
        status = serve.status().applications[APP_NAME]
        (deployment,) = status.deployments.values()
        assert deployment.replica_states.get("RUNNING") == 2
        with running_server(store) as single:
            for path, params in REQUESTS:
                here = httpx.get(f"{single}{path}", params=params, timeout=60)
                there = httpx.get(f"{ray_url}{path}", params=params, timeout=60)
                assert here.status_code == there.status_code == 200, (path, there.text)
                assert there.json() == here.json(), path
            bad = httpx.get(f"{ray_url}/search", params={"query": "x", "k": 0})
            assert bad.status_code == 422 and bad.json()["field"] == "k"

        # A rebuild is picked up by every replica without a restart.
        (sample_dir / "005_new.txt").write_text(
            "Zeppelin harbour\n\nThe zeppelin harbour opened after the first build.\n",
            encoding="utf-8")
        rebuilt = citeseek.build(sample_dir, store, model=fake, progress=False)
        for _ in range(20):  # spread over both replicas by Serve's router
            got = httpx.get(f"{ray_url}/search", params={"query": "zeppelin harbour",
                                                         "mode": "keyword", "k": 1})
            assert got.status_code == 200
            assert got.headers["x-citeseek-generation"] == rebuilt.generation
            assert got.json()[0]["doc_id"] == "005_new.txt"
    finally:
        serve.shutdown()
