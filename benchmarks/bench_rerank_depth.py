"""How deep a reranker must look: the share of answerable questions whose answer is in
a passage among the top N fused candidates (N = 1, 5, 10, 20, 30, 50, 100), on the
question sets of ``bench_qa.py``. A reranker can only lift what the fused ranking
already holds, so where this stops growing, more candidates cost time and bring little.

    PYTHONPATH=src HF_HUB_OFFLINE=1 python benchmarks/bench_rerank_depth.py [--every 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_qa import load_sets  # noqa: E402

from citeseek.evaluation.qa import holds  # noqa: E402

DEPTHS = (1, 5, 10, 20, 30, 50, 100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="pdf,squad2,covid,sample")
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args(argv)

    import citeseek
    from citeseek.embed.sentence_transformer import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    print(f"{'set':<8}{'questions':>10}" + "".join(f"{f'@{d}':>8}" for d in DEPTHS))
    with tempfile.TemporaryDirectory() as tmp:
        for data, docs in load_sets(args.sets.split(","), args.every):
            col = citeseek.build(data.sources, Path(tmp) / data.name, model=embedder,
                                 progress=False)
            ranks = []
            for q in (q for q in data.questions if q.answerable):
                wanted = docs.get(q.id, [q.doc_id])
                hits = col.search(q.question, k=max(DEPTHS))
                ranks.append(next((h.rank for h in hits if h.doc_id in wanted
                                   and holds(h.text, q.answers)), None))
            shares = [sum(r is not None and r <= d for r in ranks) / len(ranks)
                      for d in DEPTHS]
            print(f"{data.name:<8}{len(ranks):>10}" + "".join(f"{s:>8.3f}" for s in shares))
    return 0


if __name__ == "__main__":
    sys.exit(main())
