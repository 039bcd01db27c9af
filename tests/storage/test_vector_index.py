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


def test_levels_leave_out_hidden_ids_however_many_of_the_top_they_are() -> None:
    """Hidden ids dropped from a wider search, or, when they fill it, searched past
    with FAISS's selector: the visible top k of brute force either way."""
    from citeseek.storage.vector_levels import VectorLevels

    vecs = unit_vectors(400, 8, 3)
    query = unit_vectors(1, 8, 4)[0]
    order = np.argsort(-(vecs @ query)).tolist()
    delta = unit_vectors(2, 8, 5)
    score = {**{i: float(v @ query) for i, v in enumerate(vecs)},
             1000: float(delta[0] @ query), 1001: float(delta[1] @ query)}
    for factory in ("Flat", "IVF4,Flat"):
        base = VectorIndex.build([(np.arange(400), vecs)], 8, 400, factory)
        if base.knob == "nprobe":
            base.search_params["nprobe"] = 4  # every list: exact, to compare
        for hidden in ([], order[3:6], order[:25], order[:40], order[::2]):
            levels = VectorLevels([(base, hidden), (VectorIndex.build(
                [(np.arange(1000, 1002), delta)], 8, 2, "Flat"), [])])
            got = [cid for cid, _ in levels.search(query, 10)]
            want = sorted([i for i in order if i not in hidden][:10] + [1000, 1001],
                          key=lambda i: -score[i])[:10]
            assert got == want, (factory, len(hidden))
