"""A warm server against the command line, side by side in one run: requests/s and p50 /
p99 latency of ``citeseek serve`` at concurrency 1, 8 and 32 for keyword, dense and
hybrid search and for ask, and the per-call time of ``citeseek search`` / ``ask`` (a new
process that opens the collection and, except for keyword search, loads the model) for
the same queries.

The collection is Cranfield (1,400 abstracts) built with the bundled model into
``embeddings/bench-serve`` (``--chunk-tokens 128``: about 3,000 passages; the build is
reused by later runs). Queries are Cranfield's own, the same list for every mode. The
server is a real ``citeseek serve`` child process spoken to over loopback HTTP by an
httpx client in this process (which shares the machine's two cores with it).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_serve.py [--requests 96] [--cli-calls 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

import citeseek  # noqa: E402
from tests.service.server_process import running_server  # noqa: E402

CRANFIELD = ROOT.parent / "shared" / "eval" / "cranfield"
STORE = ROOT / "embeddings" / "bench-serve"
KINDS = {  # name -> (endpoint, request fields besides the text)
    "search keyword": ("/search", {"mode": "keyword"}),
    "search dense": ("/search", {"mode": "dense"}),
    "search hybrid": ("/search", {"mode": "hybrid"}),
    "ask (hybrid)": ("/ask", {}),
}
CONCURRENCY = (1, 8, 32)


def queries(n: int) -> list[str]:
    with open(CRANFIELD / "queries.jsonl", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    return [texts[i % len(texts)] for i in range(n)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load(url: str, path: str, extra: dict[str, object], texts: list[str],
               concurrency: int) -> dict[str, float]:
    """Send every text once, ``concurrency`` requests in flight; latency per request."""
    field = "query" if path == "/search" else "question"
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:
        async def one(text: str) -> None:
            async with gate:
                started = time.perf_counter()
                got = await client.post(path, json={field: text, "k": 5, **extra})
                latencies.append(time.perf_counter() - started)
                got.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(t) for t in texts))
        wall = time.perf_counter() - started
    return {"rps": len(texts) / wall, "p50_ms": 1000 * percentile(latencies, 0.5),
            "p99_ms": 1000 * percentile(latencies, 0.99)}


def cli_call(path: str, extra: dict[str, object], text: str) -> float:
    """Wall seconds of one ``citeseek search/ask`` process, as a script would run it."""
    argv = [sys.executable, "-m", "citeseek", "search" if path == "/search" else "ask",
            text, "--store", str(STORE), "--json"]
    if "mode" in extra:
        argv += ["--mode", str(extra["mode"])]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=96,
                        help="requests per mode and concurrency")
    parser.add_argument("--cli-calls", type=int, default=3, help="CLI calls per mode")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (STORE / "CURRENT").exists():
        print("building the Cranfield collection (once)...", file=sys.stderr)
    col = citeseek.build(CRANFIELD / "corpus.jsonl", STORE, chunk_tokens=128, progress=True)
    texts = queries(args.requests)
    load_before = os.getloadavg()
    rows = []
    with running_server(STORE) as url:
        for name, (path, extra) in KINDS.items():
            # Side by side: the CLI calls and the server's runs for one kind, in turn.
            cli = [cli_call(path, extra, t) for t in texts[:args.cli_calls]]
            asyncio.run(load(url, path, extra, texts[:8], 4))  # warm-up, not counted
            runs = {c: asyncio.run(load(url, path, extra, texts, c)) for c in CONCURRENCY}
            rows.append({"kind": name, "cli_s": statistics.median(cli), **{
                f"c{c}_{k}": v for c, r in runs.items() for k, v in r.items()}})
            print(f"{name}: done", file=sys.stderr)
    load_after = os.getloadavg()
    meta = {"passages": len(col), "documents": col.manifest["counts"]["documents"],
            "requests": args.requests, "cli_calls": args.cli_calls,
            "load_average_before": load_before[0], "load_average_after": load_after[0]}
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=2))
        return
    print(f"Cranfield: {meta['documents']} documents, {meta['passages']} passages; "
          f"{args.requests} requests per cell; load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after")
    head = ["kind", "CLI s/call"] + [f"c={c} {k}" for c in CONCURRENCY
                                     for k in ("req/s", "p50 ms", "p99 ms")] + \
        ["CLI / server p50 (c=1)"]
    print("| " + " | ".join(head) + " |")
    print("| --- " + "| ---: " * (len(head) - 1) + "|")
    for r in rows:
        cells = [r["kind"], f"{r['cli_s']:.2f}"]
        for c in CONCURRENCY:
            cells += [f"{r[f'c{c}_rps']:.1f}", f"{r[f'c{c}_p50_ms']:.0f}",
                      f"{r[f'c{c}_p99_ms']:.0f}"]
        cells.append(f"{1000 * r['cli_s'] / r['c1_p50_ms']:.0f}x")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
