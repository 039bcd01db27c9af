"""How hybrid search fuses: rank fusion vs score fusion, with and without query feedback.

Every variant ranks the same candidates (dense and BM25 passage runs, computed once per
query) through citeseek's own functions, so the table isolates the fusion step.

    .venv/bin/python benchmarks/bench_fusion.py [BEIR_DIR] [--store DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import citeseek  # noqa: E402
from citeseek.evaluation import documents_by_best_passage, evaluate_rankings, load_beir  # noqa: E402
from citeseek.search import fusion, retrieval  # noqa: E402

DEPTH = 300  # candidates per retriever, as a search for k=60 would use


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("beir_dir", nargs="?",
                        default=str(ROOT.parent / "shared" / "eval" / "cranfield"))
    parser.add_argument("--store", default=str(ROOT / "benchmarks" / "results" / "cranfield"))
    args = parser.parse_args()
    data = load_beir(args.beir_dir)
    col = citeseek.build(data.corpus, args.store, progress=False)
    gen = col._live.current  # one generation for the whole run
    model, dim = gen.model_id, gen.index.dimension
    doc_of = {p["chunk_id"]: p["doc_id"] for p in gen.db.passages()}
    qids = [q for q in data.qrels if q in data.queries]
    qvecs = col.embedder.encode([data.queries[q] for q in qids])
    runs = {q: (gen.index.search(qvecs[i], DEPTH), gen.db.keywords.search(data.queries[q], DEPTH))
            for i, q in enumerate(qids)}

    def feedback(i: int, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
        refined = retrieval._feedback_vector(gen.db, model, dim, qvecs[i],
                                             [c for c, _ in ranked[:retrieval.FEEDBACK_PASSAGES]])
        return gen.index.search(refined, DEPTH)

    rrf = lambda d, k: fusion.reciprocal_rank_fusion([d, k])  # noqa: E731
    convex = fusion.convex_fusion
    variants = {
        "dense only": lambda i, d, k: d,
        "keyword only": lambda i, d, k: k,
        "rank fusion (RRF k=60)": lambda i, d, k: rrf(d, k),
        "score fusion (min-max, 0.5)": lambda i, d, k: convex(d, k),
        "RRF + feedback": lambda i, d, k: rrf(feedback(i, rrf(d, k)), k),
        "score fusion + feedback (shipped)": lambda i, d, k: convex(feedback(i, convex(d, k)), k),
    }
    print(f"{data.root.name}: {len(qids)} queries, {len(col)} passages\n")
    print("| fusion | nDCG@10 | recall@10 | recall@100 | MRR@10 |")
    print("| --- | --- | --- | --- | --- |")
    for name, fuse in variants.items():
        rankings = {q: documents_by_best_passage([doc_of[c] for c, _ in fuse(i, *runs[q])])
                    for i, q in enumerate(qids)}
        m = evaluate_rankings(rankings, {q: data.qrels[q] for q in qids}).metrics
        print(f"| {name} | {m['ndcg@10']:.4f} | {m['recall@10']:.4f} | {m['recall@100']:.4f} "
              f"| {m['mrr@10']:.4f} |", flush=True)


if __name__ == "__main__":
    main()
