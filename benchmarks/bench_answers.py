"""How well ``Collection.ask`` answers, cites and declines, method by method.

Builds the bundled sample articles with the bundled model, asks the questions in
``benchmarks/sample_questions.json`` (answerable ones with gold strings and articles;
unanswerable ones), plus the Cranfield queries (aerodynamics, which the articles cannot
answer) where ``../shared/eval/cranfield`` exists. Every figure comes from one run.

    PYTHONPATH=src HF_HUB_OFFLINE=1 python benchmarks/bench_answers.py [--json]

Figures per sentence-selection method (answerable questions):
- top-1: the best sentence holds a gold string;
- answer: the answer (1-3 sentences) holds a gold string;
- span: the marked span of some answer sentence holds a gold string;
- cited: the sentence that holds the gold string cites a passage of a gold article
  (and sits in that passage at its exact offsets).
Declining: for each evidence signal its ROC AUC (answerable vs unanswerable), and for
the shipped threshold precision/recall of answering and decline rates.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CRANFIELD = HERE.parents[1] / "shared" / "eval" / "cranfield"


def load_questions(cranfield: Path | None) -> tuple[list[dict], list[dict]]:
    data = json.loads((HERE / "sample_questions.json").read_text(encoding="utf-8"))
    unanswerable = [{"q": q, "set": "own"} for q in data["unanswerable"]]
    if cranfield is not None and (cranfield / "queries.jsonl").exists():
        with open(cranfield / "queries.jsonl", encoding="utf-8") as fh:
            unanswerable += [{"q": json.loads(line)["text"], "set": "cranfield"}
                             for line in fh if line.strip()]
    return data["answerable"], unanswerable


def holds(text: str | None, answers: list[str]) -> bool:
    return bool(text) and any(a.casefold() in text.casefold() for a in answers)


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that an answerable question has more evidence than an unanswerable."""
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def cached_embedder(col):
    """The collection's embedder with a memory of texts already embedded: the same
    sentences come back for many questions, and the vectors do not change."""
    import numpy as np

    memory: dict[str, np.ndarray] = {}

    def embed(texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in memory]
        if new:
            memory.update(zip(new, col._embed_texts(new), strict=True))
        return np.stack([memory[t] for t in texts])

    return embed


def gather(col, questions: list[dict], k: int, embed, mode: str = "hybrid") -> list[dict]:
    from citeseek.answer.corpus import Corpus
    from citeseek.answer.scoring import measure

    db = col._live.current.db
    corpus = Corpus(embed=embed, frequencies=db.keywords.frequencies, n_passages=len(col))
    out = []
    for item in questions:
        hits = col.search(item["q"], k=k, mode=mode)
        measured = measure(item["q"], hits, corpus)
        out.append({**item, "hits": hits, "measured": measured, "corpus": corpus})
    return out


def score_method(col, rows: list[dict], weights) -> dict[str, float]:
    from citeseek.answer.compose import AnswerOptions, compose
    from citeseek.answer.scoring import rank_candidates

    top1 = answer_ok = span_ok = cited_ok = 0
    for row in rows:
        ranked = rank_candidates(row["measured"], weights)
        top1 += bool(ranked) and holds(ranked[0].text, row["answers"])
        ans = compose(row["q"], row["hits"], row["measured"],
                      AnswerOptions.of(method=weights, min_evidence=-1), corpus=row["corpus"])
        answer_ok += holds(ans.answer, row["answers"])
        span_ok += any(holds(s.span, row["answers"]) for s in ans.sentences)
        for s in ans.sentences:
            if holds(s.text, row["answers"]):
                hit = ans.citations[s.citation - 1]
                exact = (hit.doc_id == s.doc_id and hit.start <= s.start <= s.end <= hit.end
                         and hit.text[s.start - hit.start:s.end - hit.start] == s.text
                         and col.document(s.doc_id).text[s.start:s.end] == s.text)
                cited_ok += exact and hit.doc_id in row["docs"]
                break
    n = len(rows)
    return {"top1": top1 / n, "answer": answer_ok / n, "span": span_ok / n,
            "cited": cited_ok / n}


GRID = {"similarity": (0.0, 1.0), "neighbours": (0.0, 0.5),
        "keywords": (0.0, 0.25, 0.5, 1.0, 2.0), "passage": (0.0, 0.1, 0.3),
        "answer_type": (0.0, 0.15, 0.3, 0.5)}


def weight_search(col, rows: list[dict]) -> dict:
    """Every weight setting in GRID on all questions, and 2-fold cross-validation:
    weights chosen on one half of the questions, measured on the other."""
    import itertools

    from citeseek.answer.scoring import METHODS, Weights

    names = list(GRID)
    settings = [Weights(**dict(zip(names, values, strict=True)))
                for values in itertools.product(*GRID.values()) if any(values)]

    def objective(scores: dict[str, float]) -> float:
        return scores["top1"] + scores["answer"] + scores["span"]

    folds = [rows[0::2], rows[1::2]]
    table = [[score_method(col, fold, w) for fold in folds] for w in settings]
    total = [{c: (a[c] * len(folds[0]) + b[c] * len(folds[1])) / len(rows) for c in a}
             for a, b in table]
    best = max(range(len(settings)), key=lambda i: objective(total[i]))
    held: dict[str, float] = {c: 0.0 for c in total[0]}
    for train, test in ((0, 1), (1, 0)):
        pick = max(range(len(settings)), key=lambda i: objective(table[i][train]))
        for c in held:
            held[c] += table[pick][test][c] * len(folds[test]) / len(rows)
    shipped = score_method(col, rows, METHODS["combined"])
    return {"tried": len(settings), "best": settings[best], "best scores": _round(total[best]),
            "held out": _round(held), "shipped": _round(shipped)}


def _round(scores: dict[str, float]) -> dict[str, float]:
    return {c: round(v, 2) for c, v in scores.items()}


def confidence(answerable: list[dict], unanswerable: list[dict]) -> dict:
    """With the shipped settings: how many answers are given, flagged confident, and
    right (the answer holds a gold string), for answerable and unanswerable questions."""
    from citeseek.answer.compose import compose

    out = {}
    for name, rows in (("answerable", answerable), ("unanswerable", unanswerable)):
        answers = [(compose(r["q"], r["hits"], r["measured"], corpus=r["corpus"]), r) for r in rows]
        given = [(a, r) for a, r in answers if a.answer is not None]
        sure = [(a, r) for a, r in given if a.confident]
        out[name] = {"questions": len(rows), "answered": len(given),
                     "confident": len(sure)}
        if name == "answerable":
            out[name]["answered right"] = sum(holds(a.answer, r["answers"]) for a, r in given)
            out[name]["confident right"] = sum(holds(a.answer, r["answers"]) for a, r in sure)
    return out


def declining(answerable: list[dict], unanswerable: list[dict]) -> dict:
    from citeseek.answer.compose import MIN_EVIDENCE
    from citeseek.answer.evidence import evidence
    from citeseek.answer.scoring import METHODS, rank_candidates

    weights = METHODS["combined"]

    def signals(row: dict) -> dict[str, float]:
        m = row["measured"]
        ranked = rank_candidates(m, weights)
        best = ranked[0].measures if ranked else {}
        return {"evidence (shipped)": evidence(m, ranked, row["corpus"].embed),
                "best similarity": best.get("similarity", 0.0),
                "best keywords": best.get("keywords", 0.0),
                "coverage": m.coverage,
                "best combined score": ranked[0].score if ranked else 0.0,
                "top passage dense": row["hits"][0].scores.get("dense", 0.0)
                if row["hits"] else 0.0}

    pos = [signals(r) for r in answerable]
    neg = [signals(r) for r in unanswerable]
    sets = sorted({r["set"] for r in unanswerable})
    out: dict = {"auc": {}}
    for s in ("all", *sets):
        group = [n for n, r in zip(neg, unanswerable, strict=True) if s in ("all", r["set"])]
        out["auc"][s] = {name: auc([p[name] for p in pos], [n[name] for n in group])
                         for name in pos[0]}
    key = "evidence (shipped)"
    thresholds = {}
    for t in (0.16, 0.18, 0.19, 0.2, 0.21, 0.22, 0.24, 0.26, 0.28, 0.31):
        answered_pos = sum(p[key] >= t for p in pos)
        answered_neg = sum(n[key] >= t for n in neg)
        row = {"recall": answered_pos / len(pos),
               "precision": answered_pos / max(answered_pos + answered_neg, 1)}
        for s in sets:
            group = [n for n, r in zip(neg, unanswerable, strict=True) if r["set"] == s]
            row[f"declined {s}"] = sum(n[key] < t for n in group) / len(group)
        thresholds[t] = row
    out["thresholds"] = thresholds
    out["shipped threshold"] = MIN_EVIDENCE
    out["evidence of answerable (min)"] = min(p[key] for p in pos)
    out["near misses"] = sorted(
        ((round(n[key], 3), r["q"]) for n, r in zip(neg, unanswerable, strict=True)
         if n[key] >= MIN_EVIDENCE), reverse=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, default=5, help="passages per question")
    parser.add_argument("--cranfield", type=Path, default=CRANFIELD)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import citeseek
    from citeseek.answer.scoring import METHODS
    from citeseek.demo import sample_dir

    answerable, unanswerable = load_questions(args.cranfield)
    with tempfile.TemporaryDirectory() as tmp:
        col = citeseek.build(sample_dir(), Path(tmp) / "sample", progress=False)
        embed = cached_embedder(col)
        pos = gather(col, answerable, args.k, embed)
        neg = gather(col, unanswerable, args.k, embed)
        paraphrased = [r for r in pos if r.get("paraphrase")]
        keyword_only = (gather(col, answerable, args.k, None, "keyword"),
                        gather(col, unanswerable, args.k, None, "keyword"))
        report = {
            "questions": {"answerable": len(pos),
                          **{f"unanswerable {s}": sum(r["set"] == s for r in neg)
                             for s in sorted({r["set"] for r in neg})}},
            "methods": {name: score_method(col, pos, w) for name, w in METHODS.items()},
            "methods on paraphrases": {name: score_method(col, paraphrased, w)
                                       for name, w in METHODS.items()},
            "confidence": confidence(pos, neg),
            "keyword mode, no model": confidence(*keyword_only),
            "weight search": weight_search(col, pos),
            "declining": declining(pos, neg),
        }
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(f"questions: {report['questions']}  (k={args.k}, hybrid search)")
    print(f"\n{'method':<22}{'top-1':>8}{'answer':>8}{'span':>8}{'cited':>8}")
    for name, m in report["methods"].items():
        print(f"{name:<22}" + "".join(f"{m[c]:>8.2f}" for c in ("top1", "answer", "span",
                                                               "cited")))
    d = report["declining"]
    print("\nmethods on the paraphrased questions only")
    for name, m in report["methods on paraphrases"].items():
        print(f"{name:<22}" + "".join(f"{m[c]:>8.2f}" for c in ("top1", "answer", "span",
                                                               "cited")))
    conf = report["confidence"]
    print(f"\nshipped settings, answers given / flagged confident / right: {conf}")
    print(f"the same with mode='keyword' (no model): {report['keyword mode, no model']}")
    w = report["weight search"]
    print(f"\nweight grid ({w['tried']} settings), objective top-1 + answer + span:")
    print(f"  best on all questions: {w['best']} -> {w['best scores']}")
    print(f"  2-fold cross-validation, held-out: {w['held out']} "
          f"(shipped 'combined' on the same folds: {w['shipped']})")
    sets = list(d["auc"])
    print("\nevidence signal, AUC answerable vs unanswerable: " + ", ".join(sets))
    for name in d["auc"]["all"]:
        print(f"  {name:<24}" + "".join(f"{d['auc'][s][name]:>8.3f}" for s in sets))
    print("\nthreshold  " + "  ".join(f"{c:>18}" for c in next(iter(d['thresholds'].values()))))
    for t, row in d["thresholds"].items():
        mark = " <- shipped" if abs(t - d["shipped threshold"]) < 1e-9 else ""
        print(f"{t:>9.2f}  " + "  ".join(f"{v:>18.2f}" for v in row.values()) + mark)
    print(f"\nlowest evidence of an answerable question: {d['evidence of answerable (min)']:.3f}")
    for value, q in d["near misses"]:
        print(f"  answered though unanswerable ({value}): {q}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
