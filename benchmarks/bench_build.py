"""A default build against the raw model, side by side in one run, and what it costs in
nDCG@10.

Alternates raw ``SentenceTransformer.encode`` (torch, fp32) over exactly the passage
texts citeseek embeds with full builds of the same corpus into a fresh store, each a new
``citeseek index`` process with the default settings, as a user runs it (reading,
chunking, SQLite, embedding, FAISS, verified save, and the process's own start):
raw, build, raw, build, raw. Each build is compared with the mean of the raw runs on
either side (the machine's load drifts). A build reports where its time went (start and
imports, embedding, index and save, the rest). The model's one-time ONNX export is made
before any timing and reported on its own. Then an unchanged rebuild and a rebuild with
one article changed.

Quality (when CORPUS_JSONL is in a BEIR folder): dense and hybrid nDCG@10 of the last
build against a collection of the raw run's own fp32 vectors (queries by torch).

    .venv/bin/python benchmarks/bench_build.py [CORPUS_JSONL] [--limit N] [--rounds R]

CORPUS_JSONL defaults to ../shared/eval/cranfield/corpus.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
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
from citeseek.embed import choose_backend, resolve_embedder  # noqa: E402
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


class KnownVectors(TimedEmbedder):
    """The raw run's vectors for the texts it encoded; anything else (queries) by the
    model itself."""

    def __init__(self, inner: Any, texts: list[str], vectors: Any) -> None:
        super().__init__(inner)
        self.known = dict(zip(texts, vectors, strict=True))

    def encode(self, texts: list[str], **kw: Any) -> Any:
        import numpy as np

        if all(t in self.known for t in texts):
            return np.stack([self.known[t] for t in texts]) if texts else \
                self.inner.encode(texts, **kw)
        return self.inner.encode(texts, **kw)


def child(corpus: str, store: str) -> None:
    """One build as ``citeseek index`` runs it, timing its phases from inside."""
    started = time.perf_counter()
    from citeseek.cli import main as cli
    from citeseek.engines.builder import Builder

    phases = {"imports": time.perf_counter() - started, "embedding": 0.0, "index": 0.0}

    def timing(name: str, method: Any) -> Any:
        def timed_method(self: Any, *args: Any) -> Any:
            begun = time.perf_counter()
            try:
                return method(self, *args)
            finally:
                phases[name] += time.perf_counter() - begun
        return timed_method

    Builder._embed = timing("embedding", Builder._embed)  # type: ignore[method-assign]
    Builder._finish = timing("index", Builder._finish)  # type: ignore[method-assign]
    code = cli(["index", corpus, "--store", store, "-q"])
    phases["total"] = time.perf_counter() - started
    print("PHASES " + json.dumps(phases))
    sys.exit(code)


def cli_build(corpus: Path, store: Path) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", str(corpus), str(store)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return wall, json.loads(proc.stdout.rsplit("PHASES ", 1)[1])


def timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        return child(sys.argv[2], sys.argv[3])
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
        embedder = resolve_embedder(settings.model, "torch")
        texts = passage_texts(corpus, embedder, settings)
        raw_model = embedder.model  # type: ignore[attr-defined]
        raw_model.encode(texts[:64])  # warm up
        export_s = timed(lambda: choose_backend(settings.model))  # once; cached after
        vectors: list[Any] = []

        def raw() -> None:
            vectors[:] = [raw_model.encode(texts, batch_size=settings.batch_size,
                                           normalize_embeddings=True, convert_to_numpy=True,
                                           show_progress_bar=False)]

        raws = [timed(raw)]
        builds, phases = [], []
        for n in range(args.rounds):
            wall, inside = cli_build(corpus, work / f"store{n}")
            builds.append(wall)
            phases.append(inside)
            raws.append(timed(raw))
        store = work / f"store{args.rounds - 1}"
        ratios = [((raws[i] + raws[i + 1]) / 2) / b for i, b in enumerate(builds)]
        build_s = sum(builds) / len(builds)
        unchanged_s, _ = cli_build(corpus, store)
        records = corpus.read_text(encoding="utf-8").splitlines()
        first = json.loads(records[0])
        first["text"] += " a closing sentence added to one article for the benchmark ."
        records[0] = json.dumps(first)
        changed = work / "changed" / "corpus.jsonl"
        changed.parent.mkdir()
        changed.write_text("\n".join(records) + "\n", encoding="utf-8")
        shutil.copytree(store, work / "store-changed")
        changed_s, _ = cli_build(changed, work / "store-changed")
        raw_s = sum(raws) / len(raws)
        col = citeseek.open(store)
        print(f"corpus {args.corpus} ({len(records)} articles, {len(texts)} passages), "
              f"{os.cpu_count()} CPUs; builds: `citeseek index` with the defaults (model "
              f"{col.manifest['model']['id']})")
        print("| step | seconds | speed against raw |")
        print("| --- | ---: | ---: |")
        print(f"| raw `SentenceTransformer.encode`, torch fp32 "
              f"({', '.join(f'{r:.1f}' for r in raws)}) | {raw_s:.1f} | 1.00x |")
        for n, (b, r) in enumerate(zip(builds, ratios, strict=True), start=1):
            print(f"| `citeseek index` {n}, a new process (against the raw runs either "
                  f"side) | {b:.1f} | {r:.2f}x |")
        mean = {k: sum(p[k] for p in phases) / len(phases) for k in phases[0]}
        rest = mean["total"] - mean["imports"] - mean["embedding"] - mean["index"]
        print(f"| of which: imports {mean['imports']:.1f}, encoding "
              f"{mean['embedding']:.1f}, index, tuning and verified save "
              f"{mean['index']:.1f}, the rest (reading, chunking, loading the model, SQLite) "
              f"{rest:.1f}; the interpreter's own start "
              f"{sum(builds) / len(builds) - mean['total']:.1f} | | |")
        print(f"| rebuild, nothing changed | {unchanged_s:.2f} | "
              f"{unchanged_s / build_s:.1%} of a build |")
        print(f"| rebuild, one article changed | {changed_s:.2f} | "
              f"{changed_s / build_s:.1%} of a build |")
        print(f"| the model's ONNX export, once per machine (before the runs) | "
              f"{export_s:.1f} | |")
        beir = args.corpus.parent
        if (beir / "queries.jsonl").is_file() and not args.limit:
            quality(beir, col, embedder, texts, vectors[0], work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def quality(beir: Path, col: Any, embedder: Any, texts: list[str], vectors: Any,
            work: Path) -> None:
    from citeseek.evaluation import evaluate, load_beir

    data = load_beir(beir)
    reference = citeseek.build(data.corpus, work / "fp32",
                               model=KnownVectors(embedder, texts, vectors),
                               backend="torch", progress=False)
    print(f"\nquality: {beir.name}, {len(data.qrels)} judged queries, nDCG@10")
    print("| collection | dense | hybrid |")
    print("| --- | ---: | ---: |")
    scores = {}
    for name, c in (("raw torch fp32 vectors", reference), (col.manifest["model"]["id"], col)):
        scores[name] = [evaluate(c, data, mode=m).metrics["ndcg@10"]
                        for m in ("dense", "hybrid")]
        print(f"| {name} | {scores[name][0]:.4f} | {scores[name][1]:.4f} |")
    (ref_d, ref_h), (d, h) = scores.values()
    print(f"| cost of the default build | {d - ref_d:+.4f} | {h - ref_h:+.4f} |")


if __name__ == "__main__":
    main()
