"""Article text from real web pages: citeseek's HTML reader against plain trafilatura.

On ``shared/eval/html-dev`` (60 pages with their true article text), each page is read
by both in one run: citeseek (``citeseek.ingest.html.extract_article``, what a build
stores) and trafilatura's default ``trafilatura.extract(html)``. The measure is the
benchmark's own: word-level precision, recall and F1 of the extracted text against the
true ``articleBody``, words lower-cased and counted as bags. Printed per page and on
average, for all pages and for two halves (pages in name order, alternately), so that
what was developed looking at all 60 can be seen to hold on each half alone; with
``--ablate``, the same with each of citeseek's steps beyond trafilatura's choice left
out in turn.

    PYTHONPATH=src python benchmarks/bench_html.py [--ablate] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

import trafilatura

from citeseek.ingest.html import RULES, extract_article

HTML_DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "html-dev"
WORD = re.compile(r"\w+")


def prf(predicted: str, gold: str) -> tuple[float, float, float]:
    """Word-bag precision, recall and F1."""
    p = Counter(w.lower() for w in WORD.findall(predicted or ""))
    g = Counter(w.lower() for w in WORD.findall(gold))
    tp = sum((p & g).values())
    precision = tp / max(1, sum(p.values()))
    recall = tp / max(1, sum(g.values()))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def mean(rows: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    return (statistics.mean(r[0] for r in rows), statistics.mean(r[1] for r in rows),
            statistics.mean(r[2] for r in rows))


def ours(raw: str, rules: frozenset[str] = RULES) -> str:
    article = extract_article(raw, rules)
    return article.text if article else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=HTML_DEV)
    parser.add_argument("--ablate", action="store_true", help="leave out each step in turn")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    truth = json.loads((args.dir / "ground-truth.json").read_text(encoding="utf-8"))
    pages = sorted(truth)
    raws = {k: gzip.decompress((args.dir / "html" / f"{k}.html.gz").read_bytes())
            .decode("utf-8") for k in pages}
    gold = {k: truth[k]["articleBody"] for k in pages}
    plain = {k: prf(trafilatura.extract(raws[k]) or "", gold[k]) for k in pages}
    mine = {k: prf(ours(raws[k]), gold[k]) for k in pages}
    halves = {"all": pages, "half A": pages[0::2], "half B": pages[1::2]}
    report: dict[str, object] = {
        "pages": {k: {"url": truth[k]["url"], "trafilatura": plain[k], "citeseek": mine[k]}
                  for k in pages},
        "means": {name: {"trafilatura": mean([plain[k] for k in ks]),
                         "citeseek": mean([mine[k] for k in ks])}
                  for name, ks in halves.items()},
        "pages_more_than_0.02_below": [k for k in pages if mine[k][2] < plain[k][2] - 0.02],
    }
    if args.ablate:
        report["without"] = {
            rule: {name: mean([prf(ours(raws[k], RULES - {rule}), gold[k]) for k in ks])
                   for name, ks in halves.items()} for rule in sorted(RULES)}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'page':10} {'trafilatura P/R/F1':>20} {'citeseek P/R/F1':>20}  url")
    for k in pages:
        t, c = plain[k], mine[k]
        flag = "  <-- below" if c[2] < t[2] - 0.02 else ""
        print(f"{k[:10]} {t[0]:6.3f} {t[1]:6.3f} {t[2]:6.3f} {c[0]:6.3f} {c[1]:6.3f} "
              f"{c[2]:6.3f}  {truth[k]['url'][:60]}{flag}")
    print()
    for name, ks in halves.items():
        t, c = mean([plain[k] for k in ks]), mean([mine[k] for k in ks])
        print(f"mean {name:7} ({len(ks)} pages)  trafilatura P {t[0]:.4f} R {t[1]:.4f} "
              f"F1 {t[2]:.4f}   citeseek P {c[0]:.4f} R {c[1]:.4f} F1 {c[2]:.4f}")
    below = report["pages_more_than_0.02_below"]
    print(f"pages where citeseek's F1 is more than 0.02 below trafilatura's: {len(below)}")
    if args.ablate:
        print("\nF1 with one step left out (all / half A / half B):")
        for rule, by_half in report["without"].items():  # type: ignore[union-attr]
            print(f"  without {rule:11} " + " / ".join(f"{by_half[n][2]:.4f}" for n in halves))
    return 0


if __name__ == "__main__":
    sys.exit(main())
