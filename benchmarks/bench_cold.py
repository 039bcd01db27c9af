"""Cold command-line queries: a fresh ``citeseek`` process per query, before and after.

The bundled sample articles are built twice: with ``--backend torch`` (a collection as
every earlier release built it) and with the defaults (``onnx-int8-fused``). Each round
then runs, one after the other, ``citeseek search`` (hybrid) and ``citeseek ask`` as new
processes in three ways: the torch collection through torch
(``CITESEEK_QUERY_BACKEND=torch``, the query path before), the same collection through
its fp32 ONNX export (after: the same vectors), and the default collection. Rounds
interleave the three, so the machine's load touches them alike; the figure is each
one's median, and the ratio is before over after. Also timed: ``citeseek --help``.

    .venv/bin/python benchmarks/bench_cold.py [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEARCH = ["search", "Which foundation did the US Treasury sanction?"]
ASK = ["ask", "Which foundation did the US Treasury sanction?"]


def citeseek(args: list[str], **env: str) -> float:
    """Seconds a fresh ``python -m citeseek ARGS`` takes (it must succeed)."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "citeseek", *args], capture_output=True,
                          text=True, env={**os.environ, **env})
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"citeseek {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])
    sys.path.insert(0, str(ROOT / "src"))
    from citeseek.demo import sample_dir

    work = Path(tempfile.mkdtemp(prefix="citeseek-cold-"))
    torch_store, default_store = str(work / "torch"), str(work / "default")
    # The builds also make the model's ONNX export, once (not timed).
    citeseek(["index", str(sample_dir()), "--store", torch_store, "-q", "--backend", "torch"])
    citeseek(["index", str(sample_dir()), "--store", default_store, "-q"])
    ways = {
        "before: torch collection, torch queries": (torch_store, {"CITESEEK_QUERY_BACKEND":
                                                                  "torch"}),
        "after: torch collection, its ONNX export": (torch_store, {}),
        "after: default collection (int8, ONNX)": (default_store, {}),
    }
    times: dict[tuple[str, str], list[float]] = {}
    helps = []
    for _ in range(args.rounds):
        helps.append(citeseek(["--help"]))
        for way, (store, env) in ways.items():
            for name, command in (("search", SEARCH), ("ask", ASK)):
                times.setdefault((way, name), []).append(
                    citeseek([*command, "--store", store], **env))
    median = {key: statistics.median(values) for key, values in times.items()}
    before = next(iter(ways))
    print(f"sample collection (5 articles), {args.rounds} rounds, {os.cpu_count()} CPUs, "
          f"median seconds per fresh process")
    print("| query path | `search` (hybrid) | `ask` |")
    print("| --- | ---: | ---: |")
    for way in ways:
        cells = []
        for name in ("search", "ask"):
            ratio = median[(before, name)] / median[(way, name)]
            cells.append(f"{median[(way, name)]:.2f} ({ratio:.1f}x)")
        print(f"| {way} | {' | '.join(cells)} |")
    print(f"\n`citeseek --help`: {statistics.median(helps):.2f} s")


if __name__ == "__main__":
    main()
