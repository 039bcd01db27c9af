"""What reranking costs and what it gives: added latency per query, and nDCG@10.

Latency: the fused top N passages of Cranfield queries (N = 10, 30, 100) are scored by
cross-encoders made here with seeded weights, nothing downloaded: the *test model*
(the tiny one the tests make, ``tests/rerank/models.py``) and a model of
ms-marco-MiniLM-L-6-v2's shape (6 layers, 384 wide, 12 heads: the compute of the
cross-encoder most users bring, with random weights), each by torch, ONNX fp32 and ONNX
int8. The figure is the median time reranking adds to one query (the scoring of N
(query, passage) pairs; the search itself is timed alone beside it).

Quality: nDCG@10 on Cranfield, hybrid search against hybrid + the cross-encoder at
``--model`` over the top N; with no ``--model`` the test model stands in, so the run
shows the pipeline works, not what a trained model gives (its weights are random).
A trained cross-encoder kept locally (``--model ~/models/ms-marco-MiniLM-L-6-v2``)
gives the real figure.

    PYTHONPATH=src HF_HUB_OFFLINE=1 python benchmarks/bench_rerank.py
    PYTHONPATH=src HF_HUB_OFFLINE=1 python benchmarks/bench_rerank.py --model PATH --top 20 30
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent))
CRANFIELD = HERE.parents[1] / "shared" / "eval" / "cranfield"


def minilm_shaped(folder: Path) -> Path:
    """A cross-encoder of ms-marco-MiniLM-L-6-v2's shape with seeded random weights."""
    import torch
    from sentence_transformers import CrossEncoder
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from citeseek.embed.base import default_model_path

    tokenizer = AutoTokenizer.from_pretrained(str(default_model_path()))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=384,
                        num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536,
                        max_position_embeddings=512, num_labels=1)
    raw = folder.with_name(folder.name + "-raw")
    BertForSequenceClassification(config).eval().save_pretrained(str(raw))
    tokenizer.save_pretrained(str(raw))
    CrossEncoder(str(raw), local_files_only=True).save(str(folder))
    return folder


def latency(col, queries: list[str], models: dict[str, Path], tops: list[int],
            backends: list[str]) -> list[dict]:
    from citeseek.rerank.cross_encoder import CrossEncoderReranker

    candidates = {q: [h.text for h in col.search(q, k=max(tops))] for q in queries}
    search_ms = []
    for q in queries:
        started = time.perf_counter()
        col.search(q, k=5)
        search_ms.append(1000 * (time.perf_counter() - started))
    rows = [{"model": "-", "backend": "-", "top": "-", "ms_per_query":
             round(statistics.median(search_ms), 1), "what": "hybrid search alone (k=5)"}]
    for name, path in models.items():
        for backend in backends:
            reranker = CrossEncoderReranker(str(path), backend=backend)
            reranker.score(queries[0], candidates[queries[0]][:4])  # load and export once
            for top in tops:
                took = []
                for q in queries:
                    started = time.perf_counter()
                    reranker.score(q, candidates[q][:top])
                    took.append(1000 * (time.perf_counter() - started))
                rows.append({"model": name, "backend": backend, "top": top,
                             "ms_per_query": round(statistics.median(took), 1),
                             "what": "added by reranking"})
    return rows


def quality(col, data, model: Path, tops: list[int], backend: str) -> list[dict]:
    from citeseek.evaluation.beir import documents_by_best_passage, evaluate_rankings
    from citeseek.rerank.cross_encoder import CrossEncoderReranker

    judged = [q for q in data.qrels if q in data.queries]
    qrels = {q: data.qrels[q] for q in judged}
    reranker = CrossEncoderReranker(str(model), backend=backend)
    rows = []
    for top in [0, *tops]:
        rankings = {}
        started = time.perf_counter()
        for qid in judged:
            options = {"rerank": reranker, "rerank_top": top} if top else {}
            hits = col.search(data.queries[qid], k=300, dedupe=False, **options)
            rankings[qid] = documents_by_best_passage([h.doc_id for h in hits], 100)
        result = evaluate_rankings(rankings, qrels, "hybrid")
        rows.append({"rerank_top": top or "off", "ndcg@10": round(result.metrics["ndcg@10"], 4),
                     "recall@10": round(result.metrics["recall@10"], 4),
                     "mrr@10": round(result.metrics["mrr@10"], 4),
                     "seconds": round(time.perf_counter() - started, 1)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="a cross-encoder's folder for nDCG@10 "
                        "(default: the test model, random weights)")
    parser.add_argument("--top", type=int, nargs="+", default=[10, 30, 100],
                        help="candidates reranked (default 10 30 100)")
    parser.add_argument("--queries", type=int, default=30,
                        help="Cranfield queries timed (default 30)")
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx", "onnx-int8"])
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import citeseek
    from citeseek.evaluation.beir import load_beir
    from tests.rerank.models import make_cross_encoder

    if not CRANFIELD.exists():
        print(f"{CRANFIELD} is missing", file=sys.stderr)
        return 1
    data = load_beir(CRANFIELD)
    report: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ.setdefault("CITESEEK_CACHE", str(root / "cache"))
        col = citeseek.build(data.corpus, root / "cranfield", progress=False)
        models = {"test model": make_cross_encoder(root / "test-model"),
                  "MiniLM-L6 shape": minilm_shaped(root / "minilm-shape")}
        queries = list(data.queries.values())[:args.queries]
        report["latency"] = latency(col, queries, models, args.top, args.backends)
        if not args.skip_quality:
            model = args.model or models["test model"]
            report["quality_model"] = str(args.model) if args.model else \
                "the test model (random weights: shows the pipeline, not a trained model)"
            report["quality"] = quality(col, data, model, args.top,
                                        "onnx-int8" if "onnx-int8" in args.backends
                                        else args.backends[0])
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'model':<18}{'backend':<11}{'top N':>6}{'ms/query':>10}  what")
    for row in report["latency"]:
        print(f"{row['model']:<18}{row['backend']:<11}{row['top']!s:>6}"
              f"{row['ms_per_query']:>10}  {row['what']}")
    if "quality" in report:
        print(f"\nnDCG@10 on Cranfield, hybrid, reranked by {report['quality_model']}:")
        print(f"{'rerank top':>11}{'nDCG@10':>9}{'recall@10':>11}{'MRR@10':>8}{'seconds':>9}")
        for row in report["quality"]:
            print(f"{row['rerank_top']!s:>11}{row['ndcg@10']:>9}{row['recall@10']:>11}"
                  f"{row['mrr@10']:>8}{row['seconds']:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
