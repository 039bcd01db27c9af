"""Declining, cross-validated: how the parts of the evidence are weighed, chosen on some
question sets and measured on the one left out.

Every question of the dev sets (``bench_qa``'s pdf, sample and squad2 sets, and
covid-qa, which has no unanswerable questions, for the answered share) is asked once
with no threshold; the answer's ``evidence_parts`` (the best sentence's similarity and
that of its best stretch of words, the passages' coverage of the question's rare words,
the sentence's support of them, a missing date/count/sum, names the collection never
holds, how well the sentence says the thing a "which/what X" question asks for) are
kept. A setting is whether support counts, the discounts for a missing figure, an
absent name and the thing asked for not said, and the threshold. For each set with
unanswerable questions, the setting that declines the most unanswerable questions of
the other two while answering at least ``--min-answered`` of their answerable ones is
measured on the set left out. The shipped setting's figures, the same evidence of whole
sentences only (before they were read in stretches of words) and the coverage-only
formula (the evidence before support and the discounts) are printed beside them;
``--offset 5`` measures them on other squad2 and covid-qa questions than the setting
was chosen on. ``--latency`` measures instead the time support and the stretches of
words take inside ``ask`` on the sample articles, beside the whole ask's.

    PYTHONPATH=src HF_HUB_OFFLINE=1 python benchmarks/bench_declines.py --every 10
    PYTHONPATH=src HF_HUB_OFFLINE=1 python benchmarks/bench_declines.py --every 10 \
        --offset 5 --sets squad2,covid
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_qa import holds, load_sets  # noqa: E402

from citeseek.answer.compose import MIN_EVIDENCE  # noqa: E402
from citeseek.answer.evidence import (  # noqa: E402
    ABSENT_NAME,
    ASKED_MISSING,
    KIND_MISSING,
    WITH_SUPPORT,
    strength_of,
)

WITH_UNANSWERABLE = ("pdf", "sample", "squad2")
THRESHOLDS = [round(0.10 + 0.005 * i, 3) for i in range(101)]
# The shipped threshold before long sentences were read in stretches of words: the
# evidence of the whole sentence alone, at this threshold, is printed beside today's.
BEFORE_STRETCHES = 0.20
# Support off/on, the discounts for a missing figure, an absent name and the thing asked
# for not said (below ASKED_MIN).
GRID = list(itertools.product((False, True), (1.0, 0.7, 0.5, 0.3), (1.0, 0.7, 0.5),
                              (1.0, 0.7, 0.5)))


def collect(sets: list[str], every: int, root: Path, offset: int = 0) -> list[dict]:
    import citeseek
    from citeseek.embed.sentence_transformer import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    rows = []
    for data, _ in load_sets(sets, every, offset):
        col = citeseek.build(data.sources, root / data.name, model=embedder, progress=False)
        for q in data.questions:
            ans = col.ask(q.question, min_evidence=0.0)
            text = " ".join([ans.answer or "", ans.short_answer or "",
                             *(s.text for s in ans.sentences)])
            rows.append({"set": data.name, "question": q.question,
                         "answerable": q.answerable, "parts": ans.evidence_parts,
                         "right": q.answerable and holds(text, q.answers)})
    return rows


def strength(row: dict, setting: tuple[bool, float, float, float]) -> float:
    with_support, kind_missing, absent_name, asked_missing = setting
    return strength_of(row["parts"], with_support=with_support, kind_missing=kind_missing,
                       absent_name=absent_name, asked_missing=asked_missing)


def figures(rows: list[dict], setting, threshold: float) -> dict[str, dict[str, float | None]]:
    out = {}
    for name in dict.fromkeys(r["set"] for r in rows):
        pos = [r for r in rows if r["set"] == name and r["answerable"]]
        neg = [r for r in rows if r["set"] == name and not r["answerable"]]
        answered = [r for r in pos if strength(r, setting) >= threshold]
        out[name] = {
            "answered": len(answered) / len(pos) if pos else None,
            "right": sum(r["right"] for r in answered) / len(pos) if pos else None,
            "declined": (sum(strength(r, setting) < threshold for r in neg) / len(neg)
                         if neg else None)}
    return out


def fit(rows: list[dict], train: list[str], min_answered: float):
    best = None
    for setting in GRID:
        for t in THRESHOLDS:
            fig = figures([r for r in rows if r["set"] in train], setting, t)
            if any(fig[s]["answered"] < min_answered for s in train):
                continue
            score = sum(fig[s]["declined"] for s in train) / len(train)
            if best is None or score > best[0] + 1e-9:
                best = (score, setting, t)
    return best


def describe(setting, t: float) -> str:
    support, kind, name, asked = setting
    return (f"support {'on' if support else 'off'}, figure x{kind}, name x{name}, "
            f"asked x{asked}, t={t:.3f}")


def line(fig: dict[str, float | None]) -> str:
    def f(x):
        return "-" if x is None else f"{x:.3f}"
    return f"{f(fig['answered'])} / {f(fig['right'])} / {f(fig['declined'])}"


def latency(rounds: int) -> None:
    import statistics
    import time

    import citeseek
    from citeseek.answer import evidence
    from citeseek.demo import sample_dir

    questions = [q["q"] for q in json.loads(
        (HERE / "sample_questions.json").read_text(encoding="utf-8"))["answerable"]]
    names = ("word_support", "window_similarity")  # support's model calls are word_support's
    measured = {name: getattr(evidence, name) for name in names}
    spent: dict[str, list[float]] = {name: [] for name in names}

    def timer(name: str):
        def timed(*args):
            started = time.perf_counter()
            try:
                return measured[name](*args)
            finally:
                spent[name][-1] += time.perf_counter() - started
        return timed

    for name in names:
        setattr(evidence, name, timer(name))
    asks: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            col = citeseek.build(sample_dir(), Path(tmp) / "sample", progress=False)
            col.search("warm up the model")
            for _ in range(rounds):
                for q in questions:
                    for name in names:
                        spent[name].append(0.0)
                    started = time.perf_counter()
                    col.ask(q)
                    asks.append(time.perf_counter() - started)
    finally:
        for name in names:
            setattr(evidence, name, measured[name])
    n = len(questions)

    def ms(values: list[float]) -> str:
        return f"{1000 * statistics.median(values):.2f} ms"

    for name in names:
        print(f"{name} per ask, median: first round {ms(spent[name][:n])} (words new), "
              f"later rounds {ms(spent[name][n:])}")
    print(f"the whole ask: first round {ms(asks[:n])}, later {ms(asks[n:])} "
          f"({n} questions x {rounds} rounds)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="pdf,sample,squad2,covid")
    parser.add_argument("--every", type=int, default=10,
                        help="every Nth question of squad2 and covid-qa")
    parser.add_argument("--offset", type=int, default=0,
                        help="start those at this question (another subset than the one "
                        "the shipped setting was chosen on, --offset 5)")
    parser.add_argument("--min-answered", type=float, default=0.94)
    parser.add_argument("--rows", type=Path, help="read (if there) or write the rows here")
    parser.add_argument("--latency", type=int, metavar="ROUNDS",
                        help="measure what support and the stretches of words cost a warm ask, "
                        "over ROUNDS rounds")
    args = parser.parse_args(argv)
    if args.latency:
        latency(args.latency)
        return 0
    if args.rows and args.rows.exists():
        rows = json.loads(args.rows.read_text(encoding="utf-8"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            rows = collect(args.sets.split(","), args.every, Path(tmp), args.offset)
        if args.rows:
            args.rows.write_text(json.dumps(rows), encoding="utf-8")
    sets = [s for s in WITH_UNANSWERABLE if any(r["set"] == s for r in rows)]
    if len(sets) > 1:  # one set has nothing to fit it on
        print("answered / right / unanswerable declined, on the set left out:\n")
        for held in sets:
            train = [s for s in sets if s != held]
            _, setting, t = fit(rows, train, args.min_answered)
            print(f"{held:>7}: fitted on {'+'.join(train)} ({describe(setting, t)}): "
                  f"{line(figures(rows, setting, t)[held])}")
    shipped = (WITH_SUPPORT, KIND_MISSING, ABSENT_NAME, ASKED_MISSING)
    print(f"\nshipped ({describe(shipped, MIN_EVIDENCE)}), whole sentences only and coverage "
          "only, per set:")
    coverage_only = (False, 1.0, 1.0, 1.0)
    whole_sentences = [dict(r, parts={k: v for k, v in r["parts"].items()
                                      if k != "window_similarity"}) for r in rows]
    old = fit(rows, sets, args.min_answered)
    for name, fig in figures(rows, shipped, MIN_EVIDENCE).items():
        before = figures(rows, coverage_only, 0.28)[name]
        whole = figures(whole_sentences, shipped, BEFORE_STRETCHES)[name]
        print(f"{name:>7}: shipped {line(fig)}   whole sentences only at "
              f"{BEFORE_STRETCHES:.2f} {line(whole)}   coverage only at 0.28 {line(before)}")
    print(f"\nfitted on all of {'+'.join(sets)}: {describe(old[1], old[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
