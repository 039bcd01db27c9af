"""Keyword engines side by side on the same passages and questions: SQLite FTS5 (the
keyword index of schema-1 stores), Tantivy (shipped: block-max WAND over an OR of
terms) and bm25s (precomputed BM25 scores in a sparse matrix).

Two measures, each engine given the very passages citeseek stores (title and body):

- nDCG@10 on Cranfield (passages ranked, documents by their best passage, with the
  metric code of ``citeseek eval``);
- latency at scale: each engine indexes the passages of a scale-benchmark collection
  (``bench_scale.py``'s store) and answers its questions for the 50 best passages (what
  hybrid search asks the keyword side for), warm, one query at a time: p50 and p95.

FTS5 and bm25s are as citeseek used them (FTS5: ``porter unicode61 remove_diacritics 2``,
bm25 with the title weighted 2; bm25s: PyStemmer's English stemmer, English stopwords,
the title written twice as in citeseek's Tantivy text).

    .venv/bin/python benchmarks/bench_keywords.py [--scale-store benchmarks/.cache/scale/store]
        [--questions benchmarks/.cache/scale/questions.json] [--cranfield DIR]
        [--model all-MiniLM-L6-v2]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from citeseek.evaluation.beir import (  # noqa: E402
    documents_by_best_passage,
    evaluate_rankings,
    load_beir,
)
from citeseek.storage.keyword_index import fts_query  # noqa: E402
from citeseek.storage.tantivy_index import (  # noqa: E402
    TantivyIndex,
    TantivyWriter,
    indexed_text,
)

Passage = tuple[int, str | None, str]  # chunk id, title, body
Search = Callable[[str, int], list[int]]
DEPTH = 50


def fts5(passages: list[Passage], folder: Path) -> Search:
    conn = sqlite3.connect(folder / "fts.sqlite")
    conn.execute("CREATE VIRTUAL TABLE chunks_fts USING fts5(title, body, content='', "
                 "tokenize='porter unicode61 remove_diacritics 2')")
    conn.executemany("INSERT INTO chunks_fts(rowid, title, body) VALUES (?,?,?)",
                     ((cid, title or "", body) for cid, title, body in passages))
    conn.commit()

    def search(query: str, k: int) -> list[int]:
        match = fts_query(query)
        return [] if match is None else [r[0] for r in conn.execute(
            "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY "
            "bm25(chunks_fts, 2.0, 1.0) LIMIT ?", (match, k))]
    return search


def tantivy(passages: list[Passage], folder: Path) -> Search:
    writer = TantivyWriter(folder / "tantivy", threads=2)
    writer.add(passages)
    writer.commit(lambda: passages)
    index = TantivyIndex(folder / "tantivy")
    return lambda query, k: [cid for cid, _ in index.search(query, k)]


def bm25s_engine(passages: list[Passage], folder: Path) -> Search:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    ids = [cid for cid, _, _ in passages]
    tokens = bm25s.tokenize([indexed_text(t, b) for _, t, b in passages], stopwords="en",
                            stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)

    def search(query: str, k: int) -> list[int]:
        q = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, show_progress=False)
        if not q.vocab:
            return []
        found, _ = retriever.retrieve(q, k=min(k, len(ids)), show_progress=False,
                                      n_threads=1)
        return [ids[i] for i in found[0]]
    return search


ENGINES = {"FTS5 (schema 1)": fts5, "Tantivy (shipped)": tantivy, "bm25s": bm25s_engine}


def store_passages(store: Path) -> list[Passage]:
    import citeseek

    db = citeseek.open(store, verify=False)._live.current.db
    return list(db.keyword_rows())


def cranfield(beir_dir: Path, work: Path, model: str) -> dict[str, float]:
    import citeseek

    data = load_beir(beir_dir)  # the model only decides where passages end
    col = citeseek.build(data.corpus, work / f"cranfield-{model}", model=model,
                         progress=False)
    db = col._live.current.db
    passages = list(db.keyword_rows())
    owner = {row["chunk_id"]: row["doc_id"] for row in db.passages()}
    qrels = {q: j for q, j in data.qrels.items() if q in data.queries}
    out = {}
    for name, make in ENGINES.items():
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            search = make(passages, Path(tmp))
            rankings = {q: documents_by_best_passage([owner[c] for c in search(text, 100)])
                        for q, text in data.queries.items() if q in qrels}
        out[name] = evaluate_rankings(rankings, qrels, name).metrics["ndcg@10"]
    return out


def latency(passages: list[Passage], questions: list[str], work: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for name, make in ENGINES.items():
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            started = time.perf_counter()
            search = make(passages, Path(tmp))
            built = time.perf_counter() - started
            for q in questions[:20]:
                search(q, DEPTH)
            times = []
            for q in questions:
                started = time.perf_counter()
                search(q, DEPTH)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            out[name] = {"index_seconds": built, "p50_ms": statistics.median(times),
                         "p95_ms": times[int(0.95 * (len(times) - 1))]}
        print(name, json.dumps(out[name]), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cache = ROOT / "benchmarks" / ".cache"
    parser.add_argument("--scale-store", default=str(cache / "scale" / "store"))
    parser.add_argument("--questions", default=str(cache / "scale" / "questions.json"))
    parser.add_argument("--cranfield", default=str(ROOT.parent / "shared" / "eval" /
                                                   "cranfield"))
    parser.add_argument("--work", default=str(cache / "keywords"))
    parser.add_argument("--model", default="all-MiniLM-L6-v2",
                        help="the model whose passages Cranfield is cut into (the bundled "
                             "one, as for the figures on the Retrieval quality page)")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    quality = cranfield(Path(args.cranfield), work, args.model)
    print("nDCG@10 on Cranfield:", json.dumps(quality), flush=True)
    passages = store_passages(Path(args.scale_store))
    questions = json.loads(Path(args.questions).read_text())
    speed = latency(passages, questions, work)
    print(f"\n{len(passages):,} passages, {len(questions)} questions, top {DEPTH}\n")
    print("| engine | nDCG@10 (Cranfield) | index build | p50 | p95 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in ENGINES:
        s = speed[name]
        print(f"| {name} | {quality[name]:.4f} | {s['index_seconds']:.0f} s | "
              f"{s['p50_ms']:.1f} ms | {s['p95_ms']:.1f} ms |")


if __name__ == "__main__":
    main()
