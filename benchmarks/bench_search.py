"""Search latency, recall and memory per passage by index type, at 100k and 1M passages.

No model is involved in the timed part: synthetic unit vectors of dimension 384 go
straight through citeseek's ``VectorIndex`` (the same build, tuning and search code a
collection uses; query embedding excluded). Two distributions bracket real text:

- ``clustered``: each vector a random topic direction plus noise of the same size (one
  topic per 1,000 vectors), so related passages have cosine about 0.5 and unrelated ones
  about 0. Easy for IVF: its lists line up with the topics.
- ``fitted``: a Gaussian with the mean and covariance of real all-MiniLM-L6-v2 vectors
  of the Cranfield abstracts (embedded once, then cached under benchmarks/.cache), with
  no cluster structure at all: every vector has many near-equidistant neighbours, the
  hard case for approximate search.

The queries are held-out vectors drawn the same way. Recall@10 is against exact search
over the same vectors. Exact search at 1M is timed on fewer queries (each one scans
1.5 GB).

    .venv/bin/python benchmarks/bench_search.py [--sizes 100000,1000000] [--queries 500]
        [--data clustered,fitted] [--also 'HNSW32,Flat']
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from citeseek.storage.tuning import exact_neighbors, tune  # noqa: E402
from citeseek.storage.vector_index import VectorIndex, choose_factory  # noqa: E402

DIM = 384
BLOCK = 50_000


def synthetic(n: int, topics: int, seed: int) -> np.ndarray:
    """``n`` clustered unit vectors (generated in blocks to keep memory flat)."""
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(12345).normal(size=(topics, DIM)).astype(np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    out = np.empty((n, DIM), dtype=np.float32)
    for i in range(0, n, BLOCK):
        m = min(BLOCK, n - i)
        x = centers[rng.integers(0, topics, m)] + rng.normal(
            scale=1 / np.sqrt(DIM), size=(m, DIM)).astype(np.float32)
        out[i:i + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


CRANFIELD = ROOT.parent / "shared" / "eval" / "cranfield" / "corpus.jsonl"
CACHE = ROOT / "benchmarks" / ".cache" / "cranfield-minilm.npy"


def real_vectors() -> np.ndarray:
    """all-MiniLM-L6-v2 vectors of the Cranfield abstracts (title and text), cached."""
    if CACHE.is_file():
        return np.load(CACHE)
    import json

    from citeseek.embed import resolve_embedder

    with CRANFIELD.open(encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    texts = [f"{r.get('title', '')}. {r['text']}".strip(". ") for r in records]
    vecs = resolve_embedder("default").encode(texts, batch_size=32)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.save(CACHE, vecs)
    return vecs


def fitted(n: int, seed: int, real: np.ndarray) -> np.ndarray:
    """``n`` unit vectors from a Gaussian with ``real``'s mean and covariance."""
    rng = np.random.default_rng(seed)
    mean = real.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(real, rowvar=False))
    scale = (vectors * np.sqrt(np.clip(values, 0, None))).astype(np.float32)
    out = np.empty((n, DIM), dtype=np.float32)
    for i in range(0, n, BLOCK):
        m = min(BLOCK, n - i)
        x = mean + rng.standard_normal((m, DIM)).astype(np.float32) @ scale.T
        out[i:i + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def blocks_of(data: np.ndarray):  # noqa: ANN201
    ids = np.arange(1, len(data) + 1, dtype=np.int64)
    return ((ids[i:i + BLOCK], data[i:i + BLOCK]) for i in range(0, len(data), BLOCK))


def measure(factory: str, data: np.ndarray, queries: np.ndarray, truth: np.ndarray,
            timed_queries: int) -> dict[str, float | str]:
    n = len(data)

    def blocks():  # noqa: ANN202
        return blocks_of(data)

    started = time.perf_counter()
    index = VectorIndex.build(blocks, DIM, n, factory)
    tuned = tune(index, blocks)
    build_s = time.perf_counter() - started
    latencies, found = [], []
    for q in queries[:timed_queries]:
        t = time.perf_counter()
        hits = index.search(q, 10)
        latencies.append(time.perf_counter() - t)
        found.append([i for i, _ in hits])
    hit = [len(set(f) & set(t[:10])) / 10 for f, t in zip(found, truth, strict=False)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.faiss"
        index.save(path)
        size = path.stat().st_size
    return {"factory": factory, "search": ",".join(f"{k}={v}" for k, v in
                                                  index.search_params.items()) or "-",
            "build_s": build_s, "p50_ms": 1000 * float(np.percentile(latencies, 50)),
            "p95_ms": 1000 * float(np.percentile(latencies, 95)),
            "recall": float(np.mean(hit)), "tuned_recall": tuned["recall_at_10"] or 1.0,
            "bytes": size / n, "timed": len(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--exact-queries-1m", type=int, default=30)
    parser.add_argument("--data", default="clustered,fitted",
                        help="comma-separated: clustered, fitted")
    parser.add_argument("--also", default="", help="more FAISS factories to measure at "
                        "every size, separated by ';' (e.g. 'HNSW32,Flat')")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, dimension {DIM}, {args.queries} held-out queries, "
          "one at a time, k=10")
    print("| data | passages | index | search setting | build+tune s | p50 ms | p95 ms | "
          "recall@10 | bytes/passage |")
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    kinds = args.data.split(",")
    real = real_vectors() if "fitted" in kinds else None
    for kind in kinds:
        for n in (int(s) for s in args.sizes.split(",")):
            if kind == "fitted":
                assert real is not None
                data, queries = fitted(n, n, real), fitted(args.queries, n + 1, real)
            else:
                topics = max(100, n // 1000)
                data = synthetic(n, topics=topics, seed=n)
                queries = synthetic(args.queries, topics=topics, seed=n + 1)
            truth = exact_neighbors(lambda d=data: blocks_of(d), queries, 10)
            auto = choose_factory(n, DIM)
            storage = auto.split(",")[0]
            factories = ["Flat", auto, f"{storage},SQ8" if auto.endswith("Flat") else auto,
                         *filter(None, args.also.split(";"))]
            for factory in dict.fromkeys(factories):
                timed = args.exact_queries_1m if factory == "Flat" and n >= 500_000 \
                    else args.queries
                r = measure(factory, data, queries, truth, timed)
                label = f"{factory} (auto)" if factory == auto else factory
                print(f"| {kind} | {n:,} | {label} | {r['search']} | {r['build_s']:.0f} | "
                      f"{r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['recall']:.3f} | "
                      f"{r['bytes']:.0f} |", flush=True)
            del data


if __name__ == "__main__":
    main()
