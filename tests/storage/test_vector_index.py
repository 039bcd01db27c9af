from __future__ import annotations

import faiss
import numpy as np

from citeseek.storage.vector_index import VectorIndex


def unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_hnsw_searches_with_its_own_search_setting(monkeypatch) -> None:
    vecs = unit_vectors(500, 16, 0)
    index = VectorIndex.build([(np.arange(500), vecs)], 16, 500, "HNSW32,Flat")
    made: list[int] = []
    real = faiss.SearchParametersHNSW

    def spy(**kwargs):
        made.append(kwargs["efSearch"])
        return real(**kwargs)

    monkeypatch.setattr(faiss, "SearchParametersHNSW", spy)
    hits = index.search(vecs[7], 10)
    assert made and made[0] >= 64  # the graph is searched wider than FAISS's default 16
    assert hits[0][0] == 7
    filtered = index.search(vecs[7], 5, allowed=[3, 7, 9])
    assert {cid for cid, _ in filtered} == {3, 7, 9} and len(made) == 2


def test_exact_index_matches_brute_force() -> None:
    vecs = unit_vectors(300, 8, 1)
    index = VectorIndex.build([(np.arange(100, 400), vecs)], 8, 300, "Flat")
    query = unit_vectors(1, 8, 2)[0]
    expected = (np.argsort(-(vecs @ query))[:5] + 100).tolist()
    assert [cid for cid, _ in index.search(query, 5)] == expected
