"""The Ray engine's overhead against the local engine on this machine, side by side in one
run: the same input built into two fresh collections with the bundled model, each with a
model loaded from scratch (as ``citeseek index`` does), and the ratio of the times.

Inputs: the five sample articles, and the first N Cranfield abstracts written as JSONL
files of 20 records each into a temporary folder (so the pool has files to share out).
The local Ray cluster is started once before timing; its start-up is reported apart.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_ray.py [N_ABSTRACTS] [WORKERS]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
# Workers started by the local cluster import citeseek from the same folder.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)

import citeseek  # noqa: E402
from citeseek.demo import sample_dir  # noqa: E402
from citeseek.embed.sentence_transformer import SentenceTransformerEmbedder  # noqa: E402

CRANFIELD = ROOT.parent / "shared" / "eval" / "cranfield" / "corpus.jsonl"
PER_FILE = 20


def write_abstracts(dest: Path, n: int) -> Path:
    """The first ``n`` Cranfield abstracts as JSONL files of ``PER_FILE`` records."""
    dest.mkdir(parents=True)
    with open(CRANFIELD, encoding="utf-8") as fh:
        records = [json.loads(line) for _, line in zip(range(n), fh, strict=False)]
    for i in range(0, len(records), PER_FILE):
        part = records[i:i + PER_FILE]
        (dest / f"part{i // PER_FILE:04d}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")
    return dest


def timed_build(source: Path, store: Path, **engine: object) -> tuple[float, citeseek.Collection]:
    started = time.perf_counter()
    col = citeseek.build(source, store, model=SentenceTransformerEmbedder(), progress=False,
                         **engine)
    return time.perf_counter() - started, col


def main() -> None:
    n_abstracts = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    import ray

    started = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    startup = time.perf_counter() - started
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"local Ray cluster with {workers} CPUs started in {startup:.1f}s (not counted)")
    print(f"| input | passages | local s | ray s ({workers} workers) | ray / local |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        inputs = [("sample articles (5)", sample_dir())]
        if CRANFIELD.exists():
            inputs.append((f"Cranfield abstracts ({n_abstracts})",
                           write_abstracts(Path(tmp) / "cranfield", n_abstracts)))
        for i, (name, source) in enumerate(inputs):
            local_s, local = timed_build(source, Path(tmp) / f"local{i}")
            ray_s, remote = timed_build(source, Path(tmp) / f"ray{i}", engine="ray",
                                        workers=workers)
            assert len(local) == len(remote), "the engines built different collections"
            print(f"| {name} | {len(local)} | {local_s:.1f} | {ray_s:.1f} | "
                  f"{ray_s / local_s:.2f}x |")
    ray.shutdown()


if __name__ == "__main__":
    main()
