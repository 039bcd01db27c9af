"""How passages are built for embedding: title prefix, passage size and overlap.

Cranfield's texts begin with their titles, which hides the effect of prefixing titles;
this benchmark first writes a copy of the corpus with each title split from its body
(the shape of news articles: a headline, then the text), then builds it with each
setting and reports nDCG@10 per mode, all in one run.

    .venv/bin/python benchmarks/bench_passages.py [BEIR_DIR]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import citeseek  # noqa: E402
from citeseek.embed.sentence_transformer import SentenceTransformerEmbedder  # noqa: E402
from citeseek.evaluation import evaluate, load_beir  # noqa: E402

VARIANTS = [
    {"embed_title": True, "chunk_tokens": 0, "overlap_tokens": 48},  # the defaults
    {"embed_title": False, "chunk_tokens": 0, "overlap_tokens": 48},
    {"embed_title": True, "chunk_tokens": 128, "overlap_tokens": 32},
    {"embed_title": True, "chunk_tokens": 0, "overlap_tokens": 0},
]


def split_titles(src: Path, dest: Path) -> None:
    """Copy a BEIR folder, removing each title from the start of its text."""
    dest.mkdir(parents=True)
    shutil.copy(src / "queries.jsonl", dest / "queries.jsonl")
    shutil.copytree(src / "qrels", dest / "qrels")
    with open(src / "corpus.jsonl", encoding="utf-8") as fin, \
            open(dest / "corpus.jsonl", "w", encoding="utf-8") as fout:
        for line in fin:
            rec = json.loads(line)
            title, text = rec.get("title") or "", rec["text"]
            if title and text.startswith(title):
                rec["text"] = text[len(title):].lstrip(" .") or text
            fout.write(json.dumps(rec) + "\n")


def main() -> None:
    beir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "eval" / \
        "cranfield"
    embedder = SentenceTransformerEmbedder()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "split-titles"
        split_titles(beir, data_dir)
        data = load_beir(data_dir)
        print("| embed_title | chunk_tokens | overlap | passages | keyword | dense | hybrid |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for i, variant in enumerate(VARIANTS):
            col = citeseek.build(data.corpus, Path(tmp) / f"v{i}", model=embedder,
                                 progress=False, **variant)
            scores = {m: evaluate(col, data, mode=m).metrics["ndcg@10"]
                      for m in ("keyword", "dense", "hybrid")}
            print(f"| {variant['embed_title']} | {variant['chunk_tokens'] or 'model max'} | "
                  f"{variant['overlap_tokens']} | {len(col)} | {scores['keyword']:.4f} | "
                  f"{scores['dense']:.4f} | {scores['hybrid']:.4f} |", flush=True)


if __name__ == "__main__":
    main()
