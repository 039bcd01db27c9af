"""Retrieval evaluation on a BEIR-layout folder: nDCG@10, recall@10, recall@100 and MRR@10.

Definitions follow trec_eval (as used by BEIR through pytrec_eval): graded gains are
linear (``rel / log2(rank + 1)``), the ideal ranking sorts the judged documents by
grade, only queries with at least one relevant judgment count, and passage hits
aggregate to documents by their best passage.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError

METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")
Qrels = dict[str, dict[str, int]]


def ndcg_at(ranking: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """Normalized discounted cumulative gain at ``k`` with linear graded gains."""
    dcg = sum(judged.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranking[:k]))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranking: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    relevant = {d for d, g in judged.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def mrr_at(ranking: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    for i, doc in enumerate(ranking[:k]):
        if judged.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def score_query(ranking: Sequence[str], judged: Mapping[str, int]) -> dict[str, float]:
    return {
        "ndcg@10": ndcg_at(ranking, judged, 10),
        "recall@10": recall_at(ranking, judged, 10),
        "recall@100": recall_at(ranking, judged, 100),
        "mrr@10": mrr_at(ranking, judged, 10),
    }


def documents_by_best_passage(doc_ids: Sequence[str], limit: int = 100) -> list[str]:
    """Passage hits in rank order -> documents in the order of their best passage."""
    return list(dict.fromkeys(doc_ids))[:limit]


@dataclass
class BeirData:
    """A BEIR folder's queries and judgments (the corpus is indexed separately)."""

    root: Path
    queries: dict[str, str]
    qrels: Qrels

    @property
    def corpus(self) -> Path:
        return self.root / "corpus.jsonl"


def load_beir(root: str | os.PathLike[str], split: str = "test") -> BeirData:
    """Read ``queries.jsonl`` and ``qrels/<split>.tsv`` from a BEIR-layout folder. A
    malformed line is a ``UsageError`` naming the file and line."""
    base = Path(root)
    needed = [base / "corpus.jsonl", base / "queries.jsonl", base / "qrels" / f"{split}.tsv"]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise UsageError(f"not a BEIR folder, missing: {', '.join(missing)}")
    queries: dict[str, str] = {}
    for where, line in _lines(needed[1]):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except ValueError as exc:
            raise UsageError(f"{where}: invalid JSON ({exc})") from None
        if not isinstance(q, dict) or not isinstance(q.get("_id"), str | int) or \
                isinstance(q.get("_id"), bool) or not isinstance(q.get("text"), str):
            raise UsageError(f"{where}: a query needs an '_id' and a 'text' string")
        queries[str(q["_id"])] = q["text"]
    qrels: Qrels = {}
    for where, line in _lines(needed[2]):
        row = next(csv.reader([line], delimiter="\t"), [])
        if not any(cell.strip() for cell in row) or row[0] == "query-id":
            continue
        if len(row) < 3:
            raise UsageError(f"{where}: a judgment needs query-id, corpus-id and score, "
                             "separated by tabs")
        try:
            grade = float(row[2])
            if not math.isfinite(grade):
                raise ValueError(row[2])
        except ValueError:
            raise UsageError(f"{where}: the score {row[2]!r:.40} is not a number") from None
        qrels.setdefault(row[0], {})[row[1]] = int(grade)
    return BeirData(base, queries, qrels)


def _lines(path: Path) -> Iterator[tuple[str, str]]:
    """``(path:line, text)`` for each line of a UTF-8 file; bytes that are not UTF-8 are
    a ``UsageError`` naming the line."""
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            where = f"{path}:{n}"
            try:
                yield where, raw.decode("utf-8-sig" if n == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise UsageError(f"{where}: not UTF-8 text") from None


def refuse_foreign_store(store: Path, sources: Sequence[str | os.PathLike[str]]) -> None:
    """A ``UsageError`` when ``store`` holds a collection with documents from files
    outside ``sources``: an evaluation builds its data set into its store, which would
    replace a collection built from other articles. A store that cannot be read is left
    to the build to report."""
    from ..collection import Collection
    from ..errors import CiteseekError
    from ..storage import layout

    try:
        if not store.is_dir() or layout.current_generation(store) is None:
            return
        held = Collection(store, verify=False)
        stored = {d["source"] for d in held.documents()}
        held.close()
    except CiteseekError:
        return
    mine = [Path(os.path.abspath(s)) for s in sources]
    foreign = sorted(s for s in stored
                     if not any(Path(os.path.abspath(s)).is_relative_to(m) for m in mine))
    if foreign:
        raise UsageError(f"{store} holds a collection built from other sources "
                         f"({', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}); "
                         "the evaluation would replace its documents: give --store a "
                         "folder of its own", field="store")


@dataclass
class EvalResult:
    """Mean metrics over the judged queries, and each query's own figures."""

    mode: str
    metrics: dict[str, float]
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)
    queries: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "queries": self.queries, "seconds": round(self.seconds, 2),
                **{k: round(v, 4) for k, v in self.metrics.items()}}

    def __str__(self) -> str:
        figures = "  ".join(f"{k} {v:.4f}" for k, v in self.metrics.items())
        return f"{self.mode:<8} {figures}  ({self.queries} queries, {self.seconds:.1f}s)"


def evaluate_rankings(rankings: Mapping[str, Sequence[str]], qrels: Qrels,
                      mode: str = "") -> EvalResult:
    """Score document rankings (query id -> doc ids) against graded judgments."""
    per_query = {}
    for qid, judged in qrels.items():
        if not any(g > 0 for g in judged.values()):
            continue
        per_query[qid] = score_query(rankings.get(qid, []), judged)
    n = len(per_query)
    means = {m: (sum(q[m] for q in per_query.values()) / n if n else 0.0) for m in METRICS}
    return EvalResult(mode=mode, metrics=means, per_query=per_query, queries=n)


def per_query(results: Sequence[EvalResult], data: BeirData, metric: str = "ndcg@10") -> Any:
    """A DataFrame: one row per judged query (its id and text), one column per result's
    mode holding that query's ``metric``."""
    import pandas as pd

    if metric not in METRICS:
        raise UsageError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    qids = sorted({q for r in results for q in r.per_query})
    frame = pd.DataFrame({"query": [data.queries.get(q, "") for q in qids]},
                         index=pd.Index(qids, name="query_id"))
    for r in results:
        frame[r.mode] = [r.per_query.get(q, {}).get(metric, 0.0) for q in qids]
    return frame


def wins_and_losses(results: Sequence[EvalResult], data: BeirData, *, mode: str = "hybrid",
                    metric: str = "ndcg@10") -> Any:
    """Each query's ``metric`` in ``mode`` against the best of the other modes:
    ``delta`` > 0 where ``mode`` wins, < 0 where it loses; sorted by ``delta``."""
    frame = per_query(results, data, metric)
    others = [r.mode for r in results if r.mode != mode]
    if mode not in frame.columns or not others:
        raise UsageError(f"need results for {mode!r} and at least one other mode")
    frame["best_other"] = frame[others].max(axis=1)
    frame["best_other_mode"] = frame[others].idxmax(axis=1)
    frame["delta"] = frame[mode] - frame["best_other"]
    return frame.sort_values("delta", ascending=False)


def evaluate(collection: Any, data: BeirData, *, mode: str = "hybrid", depth: int = 100,
             progress: Callable[[int, int], None] | None = None) -> EvalResult:
    """Search every judged query in ``collection`` and score the document rankings."""
    started = time.perf_counter()
    rankings: dict[str, list[str]] = {}
    judged = [q for q in data.qrels if q in data.queries]
    passages = max(depth * 3, 100)
    for i, qid in enumerate(judged):
        hits = collection.search(data.queries[qid], k=passages, mode=mode, dedupe=False)
        rankings[qid] = documents_by_best_passage([h.doc_id for h in hits], depth)
        if progress:
            progress(i + 1, len(judged))
    result = evaluate_rankings(rankings, {q: data.qrels[q] for q in judged}, mode)
    result.seconds = time.perf_counter() - started
    return result


def evaluate_beir(beir_dir: str | os.PathLike[str], *, store: str | os.PathLike[str] | None = None,
                  modes: Sequence[str] = ("keyword", "dense", "hybrid"), split: str = "test",
                  model: Any = None, progress: bool = False) -> list[EvalResult]:
    """Index a BEIR folder's corpus (incrementally, into ``store``) and evaluate each mode.

    ``store`` defaults to ``embeddings/beir-<folder name>``; a second run reuses it and
    embeds nothing. A store holding a collection of other articles is refused.
    """
    from ..collection import build

    data = load_beir(beir_dir, split)
    target = Path(store) if store is not None else Path("embeddings") / f"beir-{data.root.name}"
    refuse_foreign_store(target, [data.corpus])
    col = build(data.corpus, target, model=model, progress=progress)
    return [evaluate(col, data, mode=mode) for mode in modes]
