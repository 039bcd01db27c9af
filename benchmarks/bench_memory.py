"""Peak memory of a build against corpus size, measured with ``/usr/bin/time -v``.

Writes N synthetic articles (text files of about 250 words, drawn from a fixed
vocabulary) and builds each corpus in a child process under ``/usr/bin/time -v``. The
real model would take hours at this scale, so the child embeds with a cheap hashing
embedder (``citeseek.embed.hashing``) of the real model's shape (dimension 384, 256
tokens); everything else (reading,
chunking, SQLite, the embedding cache, FAISS, the verified save) is citeseek's own code.
The index is exact (``Flat``) to keep the run short: an HNSW or IVF index over the
same vectors takes the bytes per passage that ``bench_search.py`` reports.

    .venv/bin/python benchmarks/bench_memory.py [--articles 10000,100000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import timed_child  # in benchmarks/, beside this script

ROOT = Path(__file__).resolve().parents[1]
def write_corpus(folder: Path, n: int) -> int:
    rng = np.random.default_rng(n)
    vocab = np.array([f"w{i}" for i in range(20_000)] + ["the", "of", "and", "a", "in"] * 400)
    total = 0
    for i in range(n):
        sub = folder / f"{i // 1000:04d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True)
        words = rng.choice(vocab, 250)
        sentences = [" ".join(words[j:j + 18]).capitalize() + "." for j in range(0, 250, 18)]
        text = f"Article {i}\n\n" + " ".join(sentences) + "\n"
        (sub / f"a{i:06d}.txt").write_text(text, encoding="utf-8")
        total += len(text)
    return total


def child(corpus: Path, store: Path) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    import citeseek
    from citeseek.embed.hashing import HashingEmbedder

    col = citeseek.build(corpus, store, model=HashingEmbedder(384, 256), progress=False,
                         index="Flat")
    print("PASSAGES", len(col))


def peak(corpus: Path, store: Path) -> tuple[float, float, int]:
    """(peak RSS MiB, seconds, passages) of a build in a child under /usr/bin/time -v."""
    return timed_child.peak(__file__, str(corpus), str(store))


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", default="10000,100000")
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        raise SystemExit("needs /usr/bin/time (apt-get install time)")
    print(f"{os.cpu_count()} CPUs; hashing embedder (dimension 384), Flat index")
    print("| articles | corpus MiB | passages | store + index MiB | peak RSS MiB | seconds |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    for n in (int(a) for a in args.articles.split(",")):
        work = Path(tempfile.mkdtemp(prefix="citeseek-memory-"))
        try:
            size = write_corpus(work / "corpus", n)
            rss, seconds, passages = peak(work / "corpus", work / "store")
            on_disk = sum(f.stat().st_size for f in (work / "store").rglob("*") if f.is_file())
            rows.append((n, size, rss))
            print(f"| {n:,} | {size / 2**20:.0f} | {passages:,} | {on_disk / 2**20:.0f} | "
                  f"{rss:.0f} | {seconds:.0f} |", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if len(rows) > 1:
        (_, s0, r0), (_, s1, r1) = rows[0], rows[-1]
        print(f"\ncorpus grew {s1 / s0:.1f}x, peak memory {r1 / r0:.2f}x")


if __name__ == "__main__":
    main()
