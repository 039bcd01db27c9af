"""citeseek's ``ask`` against the tutorial RAG pipeline, on the same articles and questions.

The naive pipeline is the one most tutorials build: LangChain's
``RecursiveCharacterTextSplitter`` (1,000 characters, 200 overlap), all-MiniLM-L6-v2
(the same bundled weights citeseek uses), an exact FAISS inner-product index, and as the
answer the single sentence of the top passage most similar to the question (sentences
split by citeseek's own splitter, so both sides choose among the same sentences). It
never declines.

Sets (one run measures them all, both systems, the same scoring code):
- ``squad2``: ``../shared/eval/qa-dev/squad2-dev`` (14 Wikipedia articles, answerable
  and unanswerable questions);
- ``covid``: ``../shared/eval/qa-dev/covid-qa`` (30 papers, answerable only);
- ``sample``: the five sample articles with the 50 answerable questions and 20
  unanswerable ones of ``benchmarks/sample_questions.json``;
- ``pdf``: the five PDFs of ``../shared/eval/pdf-dev`` with their questions, and the
  unanswerable ones of ``benchmarks/pdf_unanswerable.json``. The naive pipeline reads a
  PDF as LangChain's ``PyPDFium2Loader`` does: each page's plain text from pypdfium2, a
  document per page, split as above.

    PYTHONPATH=src HF_HUB_OFFLINE=1 python benchmarks/bench_qa.py            # full sets
    PYTHONPATH=src HF_HUB_OFFLINE=1 python benchmarks/bench_qa.py --every 10 # a subset
    PYTHONPATH=src HF_HUB_OFFLINE=1 python benchmarks/bench_qa.py --curve    # + declining

``--curve`` adds, per set, the trade-off of declining: for each evidence threshold, the
share of answerable questions answered, answered rightly, and of unanswerable ones
declined (a question is answered at threshold t when its evidence reaches t; its answer
does not depend on t).

Figures: passage hit@1/3/5, answer accuracy (the answer holds a gold string), *first
sentence* accuracy (citeseek's first answer sentence alone, to set beside the naive
pipeline's one sentence), SQuAD exact match and F1 of the short answer (the sentence
where there is none), answered share, decline rate and precision/recall.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
QA_DEV = HERE.parents[1] / "shared" / "eval" / "qa-dev"
PDF_DEV = HERE.parents[1] / "shared" / "eval" / "pdf-dev"

from citeseek.evaluation.qa import holds, score_answers  # noqa: E402
from citeseek.evaluation.squad import QAData, QAQuestion, exact_match, f1_score, load_qa  # noqa: E402
from citeseek.sentences import sentence_spans  # noqa: E402


def sample_set() -> tuple[QAData, dict[str, list[str]]]:
    from citeseek.demo import sample_dir

    data = json.loads((HERE / "sample_questions.json").read_text(encoding="utf-8"))
    questions = [QAQuestion(f"a{i}", q["q"], q["docs"][0], q["answers"], True)
                 for i, q in enumerate(data["answerable"])]
    # An answerable question counts as found in any of its articles.
    questions += [QAQuestion(f"u{i}", q, "", [], False)
                  for i, q in enumerate(data["unanswerable"])]
    extra = {f"a{i}": q["docs"] for i, q in enumerate(data["answerable"])}
    return QAData("sample", questions, sources=[sample_dir()]), extra


def pdf_set() -> tuple[QAData, dict[str, list[str]]]:
    with open(PDF_DEV / "questions.jsonl", encoding="utf-8") as fh:
        asked = [json.loads(line) for line in fh if line.strip()]
    questions = [QAQuestion(q["id"], q["question"], q["file"], q["answers"], True)
                 for q in asked]
    own = json.loads((HERE / "pdf_unanswerable.json").read_text(encoding="utf-8"))
    questions += [QAQuestion(f"pdf-u{i}", q["q"], q["file"], [], False)
                  for i, q in enumerate(own["unanswerable"])]
    return QAData("pdf", questions, sources=sorted(PDF_DEV.glob("*.pdf"))), {}


def load_sets(names: list[str], every: int, offset: int = 0
              ) -> list[tuple[QAData, dict[str, list[str]]]]:
    sets = []
    for name in names:
        if name == "sample":
            data, docs = sample_set()
        elif name == "pdf":
            data, docs = pdf_set()
        else:
            folder = QA_DEV / {"squad2": "squad2-dev", "covid": "covid-qa"}[name]
            data, docs = load_qa(folder), {}
            data.name = name
        if name not in ("sample", "pdf"):  # small sets: always whole
            data.questions = data.questions[offset::every]
        sets.append((data, docs))
    return sets


def _docs_of(q: QAQuestion, docs: dict[str, list[str]]) -> list[str]:
    return docs.get(q.id, [q.doc_id])


def passage_rank(passages: list[tuple[str, str]], q: QAQuestion, docs) -> int | None:
    for i, (doc_id, text) in enumerate(passages, start=1):
        if doc_id in _docs_of(q, docs) and holds(text, q.answers):
            return i
    return None


# -- citeseek ------------------------------------------------------------------------

def run_citeseek(data: QAData, docs, embedder, root: Path, k: int,
                 **options) -> list[dict]:
    import citeseek

    col = citeseek.build(data.sources, root / f"cs-{data.name}", model=embedder,
                         progress=False)
    rows = []
    for q in data.questions:
        ans = col.ask(q.question, k=k, **options)
        short = ans.short_answer or next((s.span for s in ans.sentences if s.span), None)
        first = ans.sentences[0].text if ans.sentences else None
        declined = ans.answer is None
        pred = "" if declined else (short or first or ans.answer)
        text = " ".join([ans.answer or "", short or "", *(s.text for s in ans.sentences)])
        # The answer it would give at any threshold (for the trade-off curve).
        whole = col.ask(q.question, k=k, min_evidence=0.0, **options) if declined else ans
        whole_text = " ".join([whole.answer or "", whole.short_answer or "",
                               *(s.text for s in whole.sentences)])
        rows.append({
            "id": q.id, "question": q.question, "answerable": q.answerable,
            "declined": declined, "confident": ans.confident,
            "passage_rank": passage_rank([(h.doc_id, h.text) for h in ans.citations], q,
                                         docs) if q.answerable else None,
            "answer_ok": q.answerable and not declined and holds(text, q.answers),
            "first_ok": q.answerable and not declined and holds(
                f"{first} {short or ''}", q.answers),
            "em": exact_match(pred, q.answers), "f1": f1_score(pred, q.answers),
            "short": short, "first": first, "evidence": ans.evidence,
            "answer_ok_any": q.answerable and holds(whole_text, q.answers),
        })
    return rows


# -- the naive pipeline ----------------------------------------------------------------

def read_articles(data: QAData) -> list[tuple[str, str]]:
    """(doc id, text) per article; a PDF gives one entry per page, as LangChain's
    ``PyPDFium2Loader`` gives one document per page."""
    out = []
    for source in data.sources:
        paths = sorted(Path(source).iterdir()) if Path(source).is_dir() else [Path(source)]
        for path in paths:
            if path.suffix in (".txt", ".md"):
                out.append((path.name, path.read_text(encoding="utf-8")))
            elif path.suffix == ".pdf":
                out += [(path.name, page) for page in pdf_pages(path)]
    return out


def pdf_pages(path: Path) -> list[str]:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def run_naive(data: QAData, docs, model, k: int) -> list[dict]:
    import faiss
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks: list[tuple[str, str]] = []
    for doc_id, text in read_articles(data):
        chunks += [(doc_id, c) for c in splitter.split_text(text)]
    vecs = model.encode([c for _, c in chunks], batch_size=32, normalize_embeddings=True,
                        convert_to_numpy=True).astype(np.float32)
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)
    memory: dict[str, np.ndarray] = {}

    def embed(texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in memory]
        if new:
            memory.update(zip(new, model.encode(new, batch_size=32, normalize_embeddings=True,
                                                convert_to_numpy=True), strict=True))
        return np.stack([memory[t] for t in texts])

    rows = []
    for q in data.questions:
        qv = model.encode([q.question], normalize_embeddings=True,
                          convert_to_numpy=True).astype(np.float32)
        _, ids = index.search(qv, k)
        top = [chunks[i] for i in ids[0] if i >= 0]
        sentences = [top[0][1][a:b] for a, b in sentence_spans(top[0][1])] or [top[0][1]]
        sims = embed(sentences) @ qv[0]
        best = sentences[int(np.argmax(sims))]
        rows.append({
            "id": q.id, "question": q.question, "answerable": q.answerable,
            "declined": False, "confident": False,
            "passage_rank": passage_rank(top, q, docs) if q.answerable else None,
            "answer_ok": q.answerable and holds(best, q.answers),
            "first_ok": q.answerable and holds(best, q.answers),
            "em": exact_match(best, q.answers), "f1": f1_score(best, q.answers),
            "short": None, "first": best, "evidence": float(np.max(sims)),
        })
    return rows


def summary(rows: list[dict]) -> dict:
    out = score_answers(rows)
    pos = [r for r in rows if r["answerable"]]
    out["first_sentence_accuracy"] = (sum(r["first_ok"] for r in pos) / len(pos)
                                      if pos else None)
    return out


CURVE = (0.18, 0.20, 0.22, 0.24, 0.28, 0.31, 0.36, 0.40, 0.50)


def curve(rows: list[dict], thresholds: tuple[float, ...] = CURVE) -> list[dict]:
    """Declining's trade-off: per threshold, answerable answered / answered rightly,
    unanswerable declined."""
    pos = [r for r in rows if r["answerable"]]
    neg = [r for r in rows if not r["answerable"]]
    out = []
    for t in thresholds:
        out.append({
            "threshold": t,
            "answered": sum(r["evidence"] >= t for r in pos) / len(pos) if pos else None,
            "right": (sum(r["evidence"] >= t and r["answer_ok_any"] for r in pos) / len(pos)
                      if pos else None),
            "declined": sum(r["evidence"] < t for r in neg) / len(neg) if neg else None,
        })
    return out


COLUMNS = [("hit@1", "hit@1"), ("hit@3", "hit@3"), ("hit@5", "hit@5"),
           ("answer", "answer_accuracy"), ("1st sent.", "first_sentence_accuracy"),
           ("EM", "exact_match"), ("F1", "f1"), ("answered", "answered"),
           ("declined unans.", "decline_rate_unanswerable"),
           ("decl. prec.", "decline_precision"), ("decl. rec.", "decline_recall")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="pdf,squad2,covid,sample")
    parser.add_argument("--every", type=int, default=1,
                        help="take every Nth question (a subset for quick runs)")
    parser.add_argument("--offset", type=int, default=0,
                        help="start the subset at this question (another subset)")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--rows", type=Path, help="write every row as JSON here")
    parser.add_argument("--curve", action="store_true",
                        help="also the trade-off of declining, threshold by threshold")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from citeseek.embed.sentence_transformer import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    model = embedder.model
    report: dict = {"every": args.every, "k": args.k, "sets": {}}
    all_rows: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for data, docs in load_sets(args.sets.split(","), args.every, args.offset):
            started = time.perf_counter()
            ours = run_citeseek(data, docs, embedder, Path(tmp), args.k)
            took = time.perf_counter() - started
            entry = {"citeseek": summary(ours), "citeseek seconds": round(took, 1)}
            if args.curve:
                entry["curve"] = curve(ours)
            all_rows[data.name] = {"citeseek": ours}
            if not args.skip_naive:
                started = time.perf_counter()
                naive = run_naive(data, docs, model, args.k)
                entry["naive"] = summary(naive)
                entry["naive seconds"] = round(time.perf_counter() - started, 1)
                all_rows[data.name]["naive"] = naive
            report["sets"][data.name] = entry
            if not args.json:
                print_set(data.name, entry)
    if args.rows:
        args.rows.write_text(json.dumps(all_rows, indent=1, default=str), encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return 0


def print_set(name: str, entry: dict) -> None:
    ours = entry["citeseek"]
    print(f"\n{name}: {ours['questions']} questions ({ours['answerable']} answerable, "
          f"{ours['unanswerable']} unanswerable)")
    print(f"{'system':<10}" + "".join(f"{label:>16}" for label, _ in COLUMNS))
    for system in ("citeseek", "naive"):
        if system in entry:
            m = entry[system]
            print(f"{system:<10}" + "".join(
                f"{'-' if m.get(key) is None else format(m[key], '.3f'):>16}"
                for _, key in COLUMNS))
    print(f"seconds: citeseek {entry['citeseek seconds']}, naive {entry.get('naive seconds')}")
    if entry.get("curve"):
        print(f"{'threshold':>10}{'answered':>10}{'right':>10}{'declined unans.':>17}")
        for point in entry["curve"]:
            print(f"{point['threshold']:>10.2f}" + "".join(
                f"{'-' if point[key] is None else format(point[key], '.3f'):>{width}}"
                for key, width in (("answered", 10), ("right", 10), ("declined", 17))))


if __name__ == "__main__":
    sys.exit(main())
