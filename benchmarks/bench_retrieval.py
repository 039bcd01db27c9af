"""Retrieval quality on a BEIR-layout collection, measured side by side in one process.

Runs bm25s (with and without an English stemmer), raw sentence-transformers + FAISS exact search over whole documents, and
citeseek in keyword, dense and hybrid mode, on the same data with the same metric code,
and prints a table.

    .venv/bin/python benchmarks/bench_retrieval.py [BEIR_DIR] [--store DIR]

BEIR_DIR defaults to ../shared/eval/cranfield.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from citeseek.evaluation import EvalResult, evaluate, evaluate_rankings, load_beir  # noqa: E402


def read_corpus(path: Path) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                ids.append(str(rec["_id"]))
                title = rec.get("title") or ""
                text = rec["text"]
                texts.append(text if text.startswith(title) else f"{title}\n{text}")
    return ids, texts


def run_bm25s(ids, texts, queries, qrels, *, stem: bool) -> EvalResult:
    import bm25s

    stemmer = None
    if stem:
        import Stemmer

        stemmer = Stemmer.Stemmer("english")
    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer,
                                   show_progress=False), show_progress=False)
    qids = list(qrels)
    results, _ = retriever.retrieve(
        bm25s.tokenize([queries[q] for q in qids], stopwords="en", stemmer=stemmer,
                       show_progress=False),
        k=100, show_progress=False)
    rankings = {q: [ids[j] for j in results[i]] for i, q in enumerate(qids)}
    out = evaluate_rankings(rankings, qrels, "bm25s + stemmer" if stem else "bm25s")
    out.seconds = time.perf_counter() - started
    return out


def run_raw_dense(model, ids, texts, queries, qrels) -> tuple[EvalResult, float]:
    import faiss

    started = time.perf_counter()
    vecs = model.encode(texts, batch_size=32, normalize_embeddings=True,
                        convert_to_numpy=True).astype(np.float32)
    encode_seconds = time.perf_counter() - started
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)
    qids = list(qrels)
    qv = model.encode([queries[q] for q in qids], normalize_embeddings=True,
                      convert_to_numpy=True).astype(np.float32)
    _, found = index.search(qv, 100)
    rankings = {q: [ids[j] for j in found[i] if j >= 0] for i, q in enumerate(qids)}
    out = evaluate_rankings(rankings, qrels, "raw ST+FAISS")
    out.seconds = time.perf_counter() - started
    return out, encode_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("beir_dir", nargs="?", default=str(ROOT.parent / "shared" / "eval"
                                                           / "cranfield"))
    parser.add_argument("--store", default=str(ROOT / "benchmarks" / "results" / "cranfield"))
    args = parser.parse_args()

    import citeseek
    from citeseek.embed.sentence_transformer import SentenceTransformerEmbedder

    data = load_beir(args.beir_dir)
    qrels = {q: j for q, j in data.qrels.items() if q in data.queries}
    ids, texts = read_corpus(data.corpus)
    embedder = SentenceTransformerEmbedder()
    rows: list[EvalResult] = [run_bm25s(ids, texts, data.queries, qrels, stem=False),
                              run_bm25s(ids, texts, data.queries, qrels, stem=True)]
    raw, raw_encode = run_raw_dense(embedder.model, ids, texts, data.queries, qrels)
    rows.append(raw)
    started = time.perf_counter()
    col = citeseek.build(data.corpus, args.store, model=embedder, progress=False)
    build_seconds = time.perf_counter() - started
    for mode in ("keyword", "dense", "hybrid"):
        result = evaluate(col, data, mode=mode)
        result.mode = f"citeseek {mode}"
        rows.append(result)

    print(f"\n{data.root.name}: {len(ids)} documents, {rows[0].queries} judged queries, "
          f"{len(col)} citeseek passages")
    print(f"raw encode {raw_encode:.1f}s; citeseek build {build_seconds:.1f}s "
          f"({'cached' if col.last_build and col.last_build.unchanged else 'fresh'})\n")
    print("| system | nDCG@10 | recall@10 | recall@100 | MRR@10 |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        m = r.metrics
        print(f"| {r.mode} | {m['ndcg@10']:.4f} | {m['recall@10']:.4f} | "
              f"{m['recall@100']:.4f} | {m['mrr@10']:.4f} |")


if __name__ == "__main__":
    main()
