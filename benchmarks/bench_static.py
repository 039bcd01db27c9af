"""The static tier against the bundled model: speed, quality and a large build, in one
run.

Speed: the same sample of Cranfield passages encoded in turn by the bundled model
(torch fp32, and the default ``onnx-int8-fused``) and by the static model, round after
round; passages/s each (the static model encodes the sample many times a round, so its
clock reads more than noise). Quality: Cranfield built with the static model, with the
bundled model's fp32 vectors (``--backend onnx``: torch's vectors) and with the default
backend; dense and hybrid nDCG@10 and the static tier's share of each. Build: a
collection of real English sentences (Cranfield's abstracts and the qa-dev articles,
shuffled into new articles, so every passage is new) built end to end by
``citeseek index --model static`` in a new process; passages/s and the process's CPU
seconds, and what a million passages would take at that rate (on a shared machine the
CPU time is the closer guide to a quiet one's wall time).

    .venv/bin/python benchmarks/bench_static.py [BEIR_DIR] [--sample N] [--rounds R]
        [--build-passages N] [--store-dir DIR] [--parts speed,quality,build]

BEIR_DIR defaults to ../shared/eval/cranfield. ``--store-dir`` keeps the Cranfield
collections, so a second run only evaluates.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_build import passage_texts  # noqa: E402

import citeseek  # noqa: E402
from citeseek.config import Settings  # noqa: E402
from citeseek.embed import resolve_embedder  # noqa: E402
from citeseek.evaluation import evaluate, load_beir  # noqa: E402

QA_DEV = ROOT.parent / "shared" / "eval" / "qa-dev"


def speed(texts: list[str], rounds: int, sample_size: int) -> None:
    sample = [texts[i] for i in np.random.default_rng(0).choice(
        len(texts), min(sample_size, len(texts)), replace=False)]
    embedders = {"bundled model, torch fp32": resolve_embedder("default", "torch"),
                 "bundled model, onnx-int8-fused (default)":
                     resolve_embedder("default", "onnx-int8-fused"),
                 "static": resolve_embedder("static")}
    repeats = {name: 40 if name == "static" else 1 for name in embedders}
    for emb in embedders.values():
        emb.encode(sample[:8])  # load (and the first time, export or distil) untimed
    seconds = dict.fromkeys(embedders, 0.0)
    for _ in range(rounds):
        for name, emb in embedders.items():
            started = time.perf_counter()
            for _ in range(repeats[name]):
                emb.encode(sample, batch_size=32)
            seconds[name] += time.perf_counter() - started
    rate = {n: len(sample) * rounds * repeats[n] / s for n, s in seconds.items()}
    torch_rate = rate["bundled model, torch fp32"]
    print(f"speed: {len(sample)} Cranfield passages, {rounds} rounds, {os.cpu_count()} CPUs")
    print("| model | passages/s | against torch fp32 |")
    print("| --- | ---: | ---: |")
    for name in embedders:
        print(f"| {name} | {rate[name]:,.1f} | {rate[name] / torch_rate:,.1f}x |")


def quality(beir: Path, base: Path) -> None:
    data = load_beir(beir)
    rows = {"bundled model, fp32 vectors": {"backend": "onnx"},
            "bundled model, onnx-int8-fused (default)": {"backend": "onnx-int8-fused"},
            "static": {"model": "static"}}
    scores = {}
    for n, (name, how) in enumerate(rows.items()):
        col = citeseek.build(data.corpus, base / f"cran{n}", progress=False, **how)
        scores[name] = {m: evaluate(col, data, mode=m).metrics["ndcg@10"]
                        for m in ("dense", "hybrid", "keyword")}
    ref = scores["bundled model, fp32 vectors"]
    print(f"\nquality: {beir.name}, {len(data.qrels)} judged queries, nDCG@10 "
          f"(share of the bundled model's fp32 figure)")
    print("| model | dense | hybrid | keyword |")
    print("| --- | ---: | ---: | ---: |")
    for name, s in scores.items():
        print(f"| {name} | " + " | ".join(f"{s[m]:.4f} ({s[m] / ref[m]:.3f})"
                                          for m in ("dense", "hybrid", "keyword")) + " |")


def sentences() -> list[str]:
    """Real English sentences: Cranfield's abstracts and the qa-dev articles."""
    found: list[str] = []
    for line in (ROOT.parent / "shared" / "eval" / "cranfield" / "corpus.jsonl").open():
        found += [s.strip() + " ." for s in json.loads(line)["text"].split(" . ") if s.strip()]
    for article in sorted(QA_DEV.glob("*/articles/*.txt")):
        text = article.read_text(encoding="utf-8")
        found += [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 3]
    return found


def large_build(passages: int, work: Path) -> None:
    pool = sentences()
    rng = random.Random(0)
    corpus = work / "sentences.jsonl"
    articles = passages * 2 // 5  # ~2.5 passages an article of 24 sentences
    with corpus.open("w", encoding="utf-8") as out:
        for i in range(articles):
            body = " ".join(rng.sample(pool, 24))
            out.write(json.dumps({"_id": f"a{i}", "title": f"article {i}", "text": body}) + "\n")
    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-m", "citeseek", "index", str(corpus), "--store",
                           str(work / "large"), "--model", "static", "-q", "--json"],
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    made = json.loads(proc.stdout)["chunks"]
    rate = made / seconds
    print(f"\nbuild: {articles:,} articles of real sentences "
          f"({corpus.stat().st_size / 2**20:.0f} MiB), `citeseek index --model static`, "
          f"a new process")
    print("| passages | seconds | CPU seconds | passages/s | a million passages at that rate "
          "| at that CPU time |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {made:,} | {seconds:.0f} | {cpu:.0f} | {rate:,.0f} | {1e6 / rate / 60:.0f} minutes "
          f"| {1e6 / made * cpu / 60:.0f} CPU minutes |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("beir", nargs="?", type=Path,
                        default=ROOT.parent / "shared" / "eval" / "cranfield")
    parser.add_argument("--sample", type=int, default=200, help="passages timed per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--build-passages", type=int, default=50_000,
                        help="passages in the large build (0: none)")
    parser.add_argument("--store-dir", type=Path)
    parser.add_argument("--parts", default="speed,quality,build",
                        help="which parts to run, comma-separated (default all three)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    work = Path(tempfile.mkdtemp(prefix="citeseek-static-"))
    if "speed" in parts:
        data = load_beir(args.beir)
        texts = passage_texts(data.corpus, resolve_embedder("default", "torch"), Settings())
        speed(texts, args.rounds, args.sample)
    if "quality" in parts:
        quality(args.beir, args.store_dir or work)
    if args.build_passages and "build" in parts:
        large_build(args.build_passages, work)


if __name__ == "__main__":
    main()
