"""Encoding backends side by side: speed against torch fp32, and Cranfield nDCG@10.

Speed: the same sample of Cranfield passages is encoded by every backend in turn, for
several rounds (torch, onnx, onnx-int8-fused, onnx-int8, openvino, openvino-int8,
torch, ...), so a
change in the machine's load touches all of them alike; each backend's passages/s is
its total over the rounds. Quality: the whole corpus is built with torch and with each
int8 backend (fp32 ONNX and OpenVINO give torch's vectors to within float rounding,
which the speed runs check) and evaluated with ``citeseek.evaluation.evaluate``.

    .venv/bin/python benchmarks/bench_encoders.py [BEIR_DIR] [--sample N] [--rounds R]
        [--quality-backends onnx-int8-fused,onnx-int8] [--store-dir DIR]

BEIR_DIR defaults to ../shared/eval/cranfield. Needs the onnx extra (ONNX Runtime) and,
for OpenVINO, the bench extra (``make install`` installs both). ``--store-dir`` keeps the built collections, so a second run only
evaluates.
"""

from __future__ import annotations

import argparse
import os
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
from citeseek.config import BACKENDS as ADOPTED  # noqa: E402
from citeseek.config import Settings  # noqa: E402
from citeseek.embed.onnx_export import ensure_export  # noqa: E402
from citeseek.embed.onnx_runtime import OnnxEmbedder  # noqa: E402
from citeseek.embed.sentence_transformer import SentenceTransformerEmbedder  # noqa: E402
from citeseek.evaluation import evaluate, load_beir  # noqa: E402

BACKENDS = ("torch", "onnx", "onnx-int8-fused", "onnx-int8", "openvino", "openvino-int8")


def embedder_for(backend: str) -> object:
    return SentenceTransformerEmbedder() if backend == "torch" else \
        OnnxEmbedder("all-MiniLM-L6-v2", backend, exporter=ensure_export)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("beir", nargs="?", type=Path,
                        default=ROOT.parent / "shared" / "eval" / "cranfield")
    parser.add_argument("--sample", type=int, default=300, help="passages timed per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quality-backends", default="onnx-int8-fused,onnx-int8",
                        help="int8 backends to build and evaluate, comma-separated "
                        "(empty: speed only)")
    parser.add_argument("--store-dir", type=Path)
    args = parser.parse_args()
    data = load_beir(args.beir)
    embedders = {b: embedder_for(b) for b in BACKENDS}
    texts = passage_texts(data.corpus, embedders["torch"], Settings())
    sample = [texts[i] for i in np.random.default_rng(0).choice(
        len(texts), min(args.sample, len(texts)), replace=False)]
    for emb in embedders.values():  # load (and export, the first time) before timing
        emb.encode(sample[:8])  # type: ignore[attr-defined]
    seconds = dict.fromkeys(BACKENDS, 0.0)
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for backend, emb in embedders.items():
            started = time.perf_counter()
            vectors[backend] = emb.encode(sample, batch_size=32)  # type: ignore[attr-defined]
            seconds[backend] += time.perf_counter() - started
    print(f"speed: {len(sample)} Cranfield passages x {args.rounds} rounds, "
          f"{os.cpu_count()} CPUs")
    print("| backend | passages/s | vs torch | cosine to torch (mean / min) |")
    print("| --- | ---: | ---: | ---: |")
    rate = {b: len(sample) * args.rounds / s for b, s in seconds.items()}
    for backend in BACKENDS:
        cos = (vectors[backend] * vectors["torch"]).sum(axis=1)
        print(f"| {backend} | {rate[backend]:.1f} | {rate[backend] / rate['torch']:.2f}x | "
              f"{cos.mean():.4f} / {cos.min():.4f} |")

    quality = [b for b in args.quality_backends.split(",") if b]
    if not quality:
        return
    base = args.store_dir or Path(tempfile.mkdtemp(prefix="citeseek-encoders-"))
    print(f"\nquality: Cranfield ({len(texts)} passages), {len(data.qrels)} judged queries")
    print("| backend | build seconds | dense nDCG@10 | hybrid nDCG@10 | dense vs torch |")
    print("| --- | ---: | ---: | ---: | ---: |")
    reference = None
    for backend in ["torch", *quality]:
        started = time.perf_counter()
        recorded = {"backend": backend} if backend in ADOPTED else {}
        col = citeseek.build(data.corpus, base / backend, model=embedders[backend],
                             progress=False, **recorded)
        built = time.perf_counter() - started
        dense = evaluate(col, data, mode="dense").metrics["ndcg@10"]
        hybrid = evaluate(col, data, mode="hybrid").metrics["ndcg@10"]
        reference = dense if reference is None else reference
        print(f"| {backend} | {built:.0f}{' (cached)' if col.last_build.unchanged else ''} | "
              f"{dense:.4f} | {hybrid:.4f} | {dense - reference:+.4f} |")


if __name__ == "__main__":
    main()
