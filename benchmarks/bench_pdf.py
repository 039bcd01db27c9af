"""PDF articles: do search and ask cite the right file and page, and how much memory
does a long PDF take to index?

Questions: ``shared/eval/pdf-dev`` (five real PDFs, questions with the page of their
answer). The PDFs are indexed with the bundled model (or ``--model hashing``); for each
question, ``search`` (k=5) and ``ask`` run in each mode asked for. *search*: the best
ranked passage that holds a gold string is in the question's file and spans the
question's page; *ask*: an answer sentence holds a gold string, with that file and page.

Memory: PDFs of 50 and 500 pages (about 45 lines of text a page, made with reportlab)
are read (``read_pdf``) and indexed (hashing embedder, so that the model's own memory
does not hide the reader's) each in a fresh process; the peak resident memory of each
is reported beside the size of the text, so that growth with the page count can be seen.

Crowded pages: one page of 5,000 and of 50,000 separate three-letter labels (a map, a
scatter chart) is read in a fresh process; its peak memory and time show the reader's
cost growing with the labels, not with their square.

    PYTHONPATH=src python benchmarks/bench_pdf.py [--model hashing] [--modes hybrid keyword]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PDF_DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "pdf-dev"

CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {src!r})
t = time.time()
if {build!r}:
    import citeseek
    col = citeseek.build({pdf!r}, {store!r}, model="hashing", progress=False)
    chars = sum(d["chars"] for d in col.documents())
else:
    from citeseek.ingest.pdf import read_pdf
    chars = len(read_pdf(Path({pdf!r}).read_bytes()).text)
# VmHWM, not ru_maxrss: ru_maxrss would carry the forking parent's peak across exec
peak = next(int(line.split()[1]) for line in open("/proc/self/status")
            if line.startswith("VmHWM:"))
print(chars, peak // 1024, time.time() - t)
"""


def make_long_pdf(path: Path, pages: int) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    words = ["harbour", "stone", "wall", "storm", "council", "engineer", "winter", "boats", "tide", "crew", "survey", "repair", "granite", "mortar", "anchor", "pier"]
    c = canvas.Canvas(str(path), pagesize=A4)
    for page in range(pages):
        c.setFont("Helvetica", 9)
        c.drawString(72, 810, f"Harbour works report · page {page + 1}")
        c.setFont("Helvetica", 10)
        for line in range(45):
            text = " ".join(words[(page * 31 + line * 7 + k) % len(words)] for k in range(12))
            c.drawString(72, 780 - line * 16, f"{page}.{line} {text}.")
        c.showPage()
    c.save()
    return path


def memory(pages_list: list[int]) -> list[dict[str, object]]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for pages in pages_list:
            pdf = make_long_pdf(Path(tmp) / f"long{pages}.pdf", pages)
            for build in (False, True):
                code = CHILD.format(src=src, build=build, pdf=str(pdf),
                                    store=str(Path(tmp) / f"store{pages}"))
                out = subprocess.run([sys.executable, "-c", code], check=True,
                                     capture_output=True, text=True).stdout.split()
                rows.append({"pages": pages, "step": "index" if build else "read",
                             "file_mib": round(pdf.stat().st_size / 2**20, 1),
                             "text_mib": round(int(out[0]) / 2**20, 2),
                             "peak_rss_mib": int(out[1]), "seconds": round(float(out[2]), 1)})
    return rows


def make_map_page(path: Path, count: int) -> Path:
    """One A4 page of ``count`` tiny labels spread over it, as a map's are."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    c = canvas.Canvas(str(path), pagesize=A4, pageCompression=1)
    c.setFont("Helvetica", 3)
    width, height = A4
    for i in range(count):
        a, rest = divmod(i, 62 * 62)
        c.drawString(10 + (i * 7919 % 9973) / 9973 * (width - 30),
                     10 + (i * 104729 % 9967) / 9967 * (height - 20),
                     letters[a] + letters[rest // 62] + letters[rest % 62])
    c.showPage()
    c.save()
    return path


def crowded(counts: list[int]) -> list[dict[str, object]]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in counts:
            pdf = make_map_page(Path(tmp) / f"map{count}.pdf", count)
            code = CHILD.format(src=src, build=False, pdf=str(pdf), store="")
            out = subprocess.run([sys.executable, "-c", code], check=True,
                                 capture_output=True, text=True).stdout.split()
            rows.append({"labels": count, "file_kib": pdf.stat().st_size // 1024,
                         "text_kib": int(out[0]) // 1024, "peak_rss_mib": int(out[1]),
                         "seconds": round(float(out[2]), 1)})
    return rows


def questions(model: str, modes: list[str]) -> dict[str, dict[str, float]]:
    import citeseek

    asked = [json.loads(line) for line in
             (PDF_DEV / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.time()
        col = citeseek.build(sorted(PDF_DEV.glob("*.pdf")), Path(tmp) / "store",
                             model=model, progress=False)
        print(f"indexed {len(col.documents())} PDFs, {len(col.passages())} passages in "
              f"{time.time() - start:.1f} s", file=sys.stderr)
        for mode in modes:
            found = answered = 0
            for q in asked:
                hits = col.search(q["question"], k=5, mode=mode)
                best = next((h for h in hits if any(a in h.text for a in q["answers"])), None)
                if best and best.doc_id == q["file"] and best.page_start is not None and \
                        best.page_start <= q["page"] <= (best.page_end or 0):
                    found += 1
                ans = col.ask(q["question"], k=5, mode=mode)
                if any(any(a in s.text for a in q["answers"]) and s.doc_id == q["file"]
                       and s.page_start is not None and s.page_end is not None
                       and s.page_start <= q["page"] <= s.page_end for s in ans.sentences):
                    answered += 1
            results[mode] = {"questions": len(asked), "search_right_file_and_page": found,
                             "ask_right_file_and_page": answered}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="default: the bundled model")
    parser.add_argument("--modes", nargs="+", default=["hybrid", "dense", "keyword"])
    parser.add_argument("--pages", nargs="+", type=int, default=[50, 500])
    parser.add_argument("--labels", nargs="+", type=int, default=[5000, 50000],
                        help="labels on the crowded page(s) read")
    parser.add_argument("--skip-questions", action="store_true")
    args = parser.parse_args()
    report: dict[str, object] = {}
    if PDF_DEV.exists() and not args.skip_questions:
        from citeseek.config import DEFAULT_MODEL

        report["pdf-dev"] = questions(args.model or DEFAULT_MODEL, args.modes)
        for mode, row in report["pdf-dev"].items():  # type: ignore[union-attr]
            print(f"{mode:8} search: {row['search_right_file_and_page']}/{row['questions']} "
                  f"right file and page   ask: {row['ask_right_file_and_page']}/"
                  f"{row['questions']}")
    report["memory"] = memory(args.pages)
    print(f"{'pages':>6} {'step':>6} {'file MiB':>9} {'text MiB':>9} {'peak RSS MiB':>13} "
          f"{'seconds':>8}")
    for row in report["memory"]:  # type: ignore[union-attr]
        print(f"{row['pages']:>6} {row['step']:>6} {row['file_mib']:>9} {row['text_mib']:>9} "
              f"{row['peak_rss_mib']:>13} {row['seconds']:>8}")
    report["crowded"] = crowded(args.labels)
    print(f"{'labels':>7} {'file KiB':>9} {'text KiB':>9} {'peak RSS MiB':>13} {'seconds':>8}")
    for row in report["crowded"]:  # type: ignore[union-attr]
        print(f"{row['labels']:>7} {row['file_kib']:>9} {row['text_kib']:>9} "
              f"{row['peak_rss_mib']:>13} {row['seconds']:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
