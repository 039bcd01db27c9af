"""citeseek at a million passages on one machine: build, store size, memory, warm and
cold search, and the cost of one-file updates, measured in one run.

The articles are real sentences recombined (``scale_corpus.py``), about one passage per
``--passages`` asked. The model is ``hashing-384-256`` unless told: the bundled model's
shape (384 dimensions, 256-token passages) without its cost, so what is timed is
citeseek's own work; the model's share of the build is reported apart all the same.

Stages (each result is kept in WORK/results.json, so a run that stops resumes with the
next stage; ``--again`` runs the named stages anew):

- ``corpus``   the articles (JSONL files of 500 articles each)
- ``build``    a full build in a child process: wall time, model and other time, peak
               RSS, store bytes per passage
- ``queries``  warm, in one process: keyword / dense / hybrid p50 and p95 over the
               questions (the hashing model's query encoding left out), and the
               keyword index alone
- ``server``   ``citeseek serve`` answering the questions over HTTP: its RSS after, peak
- ``cold``     ``citeseek search`` from a fresh process, keyword and hybrid
- ``update``   three builds, each in a child: one new file added, one file changed (20
               of its 500 articles), one file removed: wall time against the full
               build's, bytes written against the store's, and the store's levels
               after it (each update stacks a delta on the full build's base)

    .venv/bin/python benchmarks/bench_scale.py [--passages 1000000]
        [--work benchmarks/.cache/scale] [--model hashing-384-256]
        [--stages corpus,build,queries,server,cold,update] [--again]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import scale_corpus  # noqa: E402

STAGES = ("corpus", "build", "queries", "server", "cold", "update")
PASSAGES_PER_ARTICLE = 3.3  # hashing-384-256 on these articles (a 10,000-passage build: 3.34)
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def tree_bytes(folder: Path) -> int:
    """Bytes on disk under ``folder``, each hard-linked file once."""
    seen: set[int] = set()
    total = 0
    for path in folder.rglob("*"):
        st = path.lstat()
        if path.is_file() and st.st_ino not in seen:
            seen.add(st.st_ino)
            total += st.st_size
    return total


# -- child processes ----------------------------------------------------------------

def child_build(store: str, corpus: str, model: str) -> None:
    """Build (or update) ``store``; print what it cost as JSON."""
    import resource

    import citeseek
    from citeseek.embed.hashing import HashingEmbedder

    spent = [0.0]
    original = HashingEmbedder.encode

    def encode(self: Any, texts: list[str], **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, texts, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    HashingEmbedder.encode = encode  # type: ignore[method-assign]
    started = time.perf_counter()
    col = citeseek.build(corpus, store, model=model, progress=False)
    seconds = time.perf_counter() - started
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    report = col.last_build
    print(json.dumps({
        "seconds": seconds, "model_seconds": spent[0], "passages": len(col),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "written_bytes": int(io["wchar"]), "generation": col.generation,
        "factory": col.manifest["index"]["factory"],
        "levels": len(col.manifest["index"].get("parts") or {"index.faiss": 0}),
        "hidden": col.manifest["index"].get("hidden", 0),
        "report": {k: getattr(report, k) for k in ("files_changed", "files_removed",
                                                     "embedded", "documents", "chunks")}}))


def child_queries(store: str, questions: str) -> None:
    """Warm latency per mode, one process; query encoding timed apart and left out."""
    import resource

    import citeseek

    asked = json.loads(Path(questions).read_text())
    col = citeseek.open(store)
    embedder = col.embedder
    spent = [0.0]
    original = embedder.encode

    def encode(texts: list[str], **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(texts, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    embedder.encode = encode  # type: ignore[method-assign]
    keywords = col._live.current.db.keywords
    for q in asked[:20]:  # warm: the index's pages in memory, code paths taken once
        for mode in ("keyword", "dense", "hybrid"):
            col.search(q, k=10, mode=mode)
    out: dict[str, Any] = {"questions": len(asked)}
    for mode in ("keyword", "dense", "hybrid", "keyword index alone"):
        times = []
        for q in asked:
            spent[0] = 0.0
            started = time.perf_counter()
            if mode == "keyword index alone":
                keywords.search(q, 50)
            else:
                col.search(q, k=10, mode=mode)
            times.append((time.perf_counter() - started - spent[0]) * 1000)
        out[mode] = {"p50_ms": statistics.median(times), "p95_ms": percentile(times, 0.95),
                     "max_ms": max(times)}
    out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


# -- stages -------------------------------------------------------------------------

def run_child(*args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                          text=True, env=ENV)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-4000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def stage_corpus(work: Path, passages: int, _: dict[str, Any], model: str) -> dict[str, Any]:
    articles = int(passages / PASSAGES_PER_ARTICLE) + 1
    files = scale_corpus.write_corpus(work / "corpus", articles)
    (work / "questions.json").write_text(json.dumps(scale_corpus.questions()))
    return {"articles": articles, "files": files,
            "corpus_bytes": sum(p.stat().st_size for p in (work / "corpus").iterdir())}


def stage_build(work: Path, passages: int, results: dict[str, Any],
                model: str) -> dict[str, Any]:
    store = work / "store"
    if store.exists():
        shutil.rmtree(store)
    out = run_child("build", str(store), str(work / "corpus"), model)
    out["non_model_seconds"] = out["seconds"] - out["model_seconds"]
    out["store_bytes"] = tree_bytes(store)
    out["bytes_per_passage"] = out["store_bytes"] / out["passages"]
    gen = store / out["generation"]
    out["files"] = {name: (gen / name).stat().st_size for name in ("store.sqlite",
                                                                     "index.faiss")}
    out["files"]["keywords/"] = tree_bytes(gen / "keywords")
    return out


def stage_queries(work: Path, passages: int, results: dict[str, Any],
                  model: str) -> dict[str, Any]:
    return run_child("queries", str(work / "store"), str(work / "questions.json"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) // 1024
    return fields


def stage_server(work: Path, passages: int, results: dict[str, Any],
                 model: str) -> dict[str, Any]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "citeseek", "serve", "--store",
                             str(work / "store"), "--port", str(port)], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 300
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=5).read()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.5)
        asked = json.loads((work / "questions.json").read_text())
        times: dict[str, list[float]] = {}
        for mode in ("keyword", "dense", "hybrid"):
            for q in asked:
                started = time.perf_counter()
                urllib.request.urlopen(f"{base}/search?" + urllib.parse.urlencode(
                    {"query": q, "k": 10, "mode": mode}), timeout=60).read()
                times.setdefault(mode, []).append((time.perf_counter() - started) * 1000)
        memory = _status(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return {"rss_mib": memory["VmRSS"], "peak_rss_mib": memory["VmHWM"],
            "anonymous_mib": memory["RssAnon"], "file_backed_mib": memory["RssFile"],
            **{f"{mode} p50_ms (HTTP, encoding included)": statistics.median(t)
               for mode, t in times.items()}}


def stage_cold(work: Path, passages: int, results: dict[str, Any],
               model: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in ("keyword", "hybrid"):
        runs = []
        for q in ("boundary layer transition", "what is the effect of pressure on flow"):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "citeseek", "search", q, "--store",
                            str(work / "store"), "--mode", mode, "--json"], env=ENV,
                           check=True, capture_output=True)
            runs.append(time.perf_counter() - started)
        out[f"{mode}_seconds"] = statistics.median(runs)
    return out


def stage_update(work: Path, passages: int, results: dict[str, Any],
                 model: str) -> dict[str, Any]:
    corpus, store = work / "corpus", work / "store"
    pool = scale_corpus.sentences()
    files = sorted(corpus.glob("part-*.jsonl"))
    out: dict[str, Any] = {}
    full = results["build"]
    steps = {
        "add one file": lambda: scale_corpus.write_file(
            corpus / "added.jsonl", random.Random(1), pool, 9_000_000, 200),
        "change one file": lambda: _change(files[len(files) // 2], pool),
        "remove one file": lambda: files[len(files) // 3].unlink(),
    }
    for name, step in steps.items():
        step()
        before = tree_bytes(store)
        cost = run_child("build", str(store), str(corpus), model)
        cost["time_share_of_full_build"] = cost["seconds"] / full["seconds"]
        cost["written_share_of_store"] = cost["written_bytes"] / before
        out[name] = cost
    return out


def _change(path: Path, pool: list[str]) -> None:
    """Rewrite 20 of the file's articles (the rest stays byte for byte)."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    rng = random.Random(5)
    for i in rng.sample(range(len(rows)), 20):
        rows[i] = {**scale_corpus.article(rng, pool, 8_000_000 + i), "id": rows[i]["id"]}
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--work", default=str(ROOT / "benchmarks" / ".cache" / "scale"))
    parser.add_argument("--model", default="hashing-384-256")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--again", action="store_true", help="run the named stages anew")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        {"build": child_build, "queries": child_queries}[args.child[0]](*args.child[1:])
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    saved = work / "results.json"
    results = json.loads(saved.read_text()) if saved.exists() else {}
    if results.get("passages_asked") not in (None, args.passages):
        raise SystemExit(f"{work} holds a run for {results['passages_asked']} passages: "
                         "give another --work")
    results["passages_asked"] = args.passages
    for name in args.stages.split(","):
        if name not in STAGES:
            raise SystemExit(f"unknown stage {name!r}: one of {', '.join(STAGES)}")
        if name in results and not args.again:
            print(f"{name}: done before (--again to rerun)")
            continue
        started = time.perf_counter()
        results[name] = globals()[f"stage_{name}"](work, args.passages, results, args.model)
        results[name]["stage_seconds"] = time.perf_counter() - started
        saved.write_text(json.dumps(results, indent=2))
        print(f"{name}: {json.dumps(results[name], indent=2)}", flush=True)


if __name__ == "__main__":
    main()
