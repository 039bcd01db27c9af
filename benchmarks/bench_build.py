"""Build cost against the model's own cost, measured side by side in one process.

Alternates raw ``SentenceTransformer.encode`` over exactly the passage texts citeseek
embeds with full citeseek builds of the same corpus into a fresh store (reading,
chunking, SQLite, embedding, FAISS, verified save): raw, build, raw, build, raw. Each
build is compared with the mean of the raw runs on either side (the machine's load
drifts). The time a build spends outside the model's ``encode`` is reported too: it is
what citeseek adds, and it does not depend on how fast the model ran. Then an unchanged
rebuild and a rebuild with one article changed. The model is loaded once, before any
timing, and shared by both sides.

    .venv/bin/python benchmarks/bench_build.py [CORPUS_JSONL] [--limit N] [--rounds R]

CORPUS_JSONL defaults to ../shared/eval/cranfield/corpus.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import citeseek  # noqa: E402
from citeseek.config import Settings  # noqa: E402
from citeseek.embed import resolve_embedder  # noqa: E402
from citeseek.ingest.chunking import chunk_document  # noqa: E402
from citeseek.ingest.discovery import discover, read_source  # noqa: E402
from citeseek.ingest.formats import read_file  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "eval" / "cranfield" / "corpus.jsonl"


def passage_texts(path: Path, embedder: object, settings: Settings) -> list[str]:
    """The distinct texts a build of ``path`` gives the model (not timed)."""
    (source,), _ = discover([path])
    docs, _ = read_file(source, read_source(source.path))
    texts = [c.embed_text for d in docs for c in chunk_document(d, embedder, settings)]
    return list(dict.fromkeys(texts))


class TimedEmbedder:
    """Delegates to an embedder and adds up the seconds spent in ``encode``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.max_seq_length = inner.max_seq_length
        self.dimension = inner.dimension
        self.token_spans = inner.token_spans
        self.count_tokens = inner.count_tokens
        self.seconds = 0.0

    def encode(self, texts: list[str], **kw: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.encode(texts, **kw)
        finally:
            self.seconds += time.perf_counter() - started


def timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument("--rounds", type=int, default=2, help="builds (default 2)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="citeseek-bench-"))
    try:
        corpus = work / "corpus.jsonl"
        lines = args.corpus.read_text(encoding="utf-8").splitlines(keepends=True)
        corpus.write_text("".join(lines[: args.limit] if args.limit else lines),
                          encoding="utf-8")
        settings = Settings()
        embedder = resolve_embedder(settings.model)
        texts = passage_texts(corpus, embedder, settings)
        raw_model = embedder.model  # type: ignore[attr-defined]
        raw_model.encode(texts[:64])  # warm up both sides

        def raw() -> None:
            raw_model.encode(texts, batch_size=settings.batch_size, normalize_embeddings=True,
                             convert_to_numpy=True, show_progress_bar=False)

        raws = [timed(raw)]
        builds, outside = [], []
        for n in range(args.rounds):
            store = work / f"store{n}"
            timer = TimedEmbedder(embedder)
            builds.append(timed(lambda store=store, timer=timer: citeseek.build(
                corpus, store, model=timer, progress=False)))
            outside.append(builds[-1] - timer.seconds)
            raws.append(timed(raw))
        ratios = [b / ((raws[i] + raws[i + 1]) / 2) for i, b in enumerate(builds)]
        build_s = sum(builds) / len(builds)
        unchanged_s = timed(lambda: citeseek.build(corpus, store, model=embedder,
                                                   progress=False))
        records = corpus.read_text(encoding="utf-8").splitlines()
        first = json.loads(records[0])
        first["text"] += " a closing sentence added to one article for the benchmark ."
        records[0] = json.dumps(first)
        corpus.write_text("\n".join(records) + "\n", encoding="utf-8")
        col = None

        def changed() -> None:
            nonlocal col
            col = citeseek.build(corpus, store, model=embedder, progress=False)

        changed_s = timed(changed)
        assert col is not None and col.last_build is not None
        raw_s = sum(raws) / len(raws)
        print(f"corpus {args.corpus} ({len(records)} articles, {len(texts)} passages), "
              f"{os.cpu_count()} CPUs")
        print("| step | seconds | ratio |")
        print("| --- | ---: | ---: |")
        print(f"| raw `SentenceTransformer.encode` ({', '.join(f'{r:.1f}' for r in raws)}) | "
              f"{raw_s:.1f} | 1.00x raw |")
        for n, (b, r) in enumerate(zip(builds, ratios, strict=True), start=1):
            print(f"| citeseek build {n} (vs the raw runs either side) | {b:.1f} | "
                  f"{r:.2f}x raw |")
        print(f"| of which outside the model (reading, chunking, SQLite, FAISS, saving) | "
              f"{sum(outside) / len(outside):.1f} | "
              f"{sum(outside) / len(outside) / raw_s:.2f}x raw |")
        print(f"| rebuild, nothing changed | {unchanged_s:.2f} | "
              f"{unchanged_s / build_s:.1%} of build |")
        print(f"| rebuild, one article changed ({col.last_build.embedded} passages "
              f"embedded) | {changed_s:.2f} | {changed_s / build_s:.1%} of build |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
