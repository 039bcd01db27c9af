"""The scale benchmark's articles and questions, made offline from real text.

Sentences come from the evaluation sets beside the project (``../shared/eval``: the
Cranfield abstracts, the SQuAD 2.0 and COVID-QA articles, the html-dev pages' article
text) and the bundled sample articles. Each article is a title and paragraphs of
sentences drawn at random from that pool (a seeded generator: the same corpus on every
run), so every passage is real language with real word frequencies, recombined.
Articles go into JSONL files of ``ARTICLES_PER_FILE`` each, as an archive would hold them.

Questions: the Cranfield queries, the SQuAD and COVID-QA questions (a fixed sample),
and one- and two-word queries of the pool's most common content words, so the set
spans one word to a long sentence and rare words to words in a third of the passages.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
SAMPLE = ROOT / "src" / "citeseek" / "data" / "sample"
ARTICLES_PER_FILE = 500
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_WORD = re.compile(r"[A-Za-z]{4,}")


def _texts() -> list[str]:
    texts: list[str] = []
    cranfield = EVAL / "cranfield" / "corpus.jsonl"
    if cranfield.is_file():
        for line in cranfield.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts.append(row.get("text", ""))
    for path in sorted((EVAL / "qa-dev").glob("*/articles/*.txt")):
        texts.append(path.read_text(encoding="utf-8"))
    truth = EVAL / "html-dev" / "ground-truth.json"
    if truth.is_file():
        texts.extend(page["articleBody"] for page in
                     json.loads(truth.read_text(encoding="utf-8")).values())
    texts.extend(p.read_text(encoding="utf-8") for p in sorted(SAMPLE.glob("*.txt")))
    return texts


def sentences() -> list[str]:
    """Every usable sentence of the pool: 5 to 60 words, once each, in a fixed order."""
    seen: dict[str, None] = {}
    for text in _texts():
        for para in text.split("\n"):
            for sentence in _SPLIT.split(" ".join(para.split())):
                if 5 <= len(sentence.split()) <= 60:
                    seen.setdefault(sentence, None)
    if len(seen) < 1000:
        raise SystemExit(f"only {len(seen)} sentences found: is {EVAL} there?")
    return list(seen)


def article(rng: random.Random, pool: list[str], number: int) -> dict[str, str]:
    """One article: a title from a sentence's first words, 3 to 8 paragraphs."""
    title = " ".join(rng.choice(pool).split()[:rng.randint(4, 9)]).rstrip(",;:")
    paragraphs = [" ".join(rng.choice(pool) for _ in range(rng.randint(2, 6)))
                  for _ in range(rng.randint(3, 8))]
    day = 1 + number % 28
    return {"id": f"a{number:07d}", "title": title, "text": "\n\n".join(paragraphs),
            "date": f"20{10 + number % 15:02d}-{1 + number % 12:02d}-{day:02d}"}


def write_file(path: Path, rng: random.Random, pool: list[str], first: int,
               count: int = ARTICLES_PER_FILE) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        for number in range(first, first + count):
            out.write(json.dumps(article(rng, pool, number)) + "\n")
    tmp.replace(path)


def write_corpus(folder: Path, articles: int, seed: int = 21) -> int:
    """``articles`` articles in ``folder/part-NNNNN.jsonl``; files already there (from an
    interrupted run with the same arguments) are kept. Returns the number of files."""
    pool = sentences()
    folder.mkdir(parents=True, exist_ok=True)
    files = -(-articles // ARTICLES_PER_FILE)
    for i in range(files):
        path = folder / f"part-{i:05d}.jsonl"
        count = min(ARTICLES_PER_FILE, articles - i * ARTICLES_PER_FILE)
        if not path.exists():
            write_file(path, random.Random(seed * 1_000_003 + i), pool,
                       i * ARTICLES_PER_FILE, count)
    return files


def questions(limit_each: int = 60) -> list[str]:
    """Questions of every length and word frequency (see the module docstring)."""
    out: list[str] = []
    queries = EVAL / "cranfield" / "queries.jsonl"
    if queries.is_file():
        rows = [json.loads(line) for line in queries.read_text("utf-8").splitlines()]
        out += [r["text"] for r in rows[:limit_each]]
    for name in ("squad2-dev", "covid-qa"):
        path = EVAL / "qa-dev" / name / "questions.jsonl"
        if path.is_file():
            rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
            out += [r["question"] for r in random.Random(7).sample(rows, limit_each)]
    common = Counter(w.lower() for s in sentences() for w in _WORD.findall(s))
    top = [w for w, _ in common.most_common(60) if w not in {"that", "with", "from", "this",
                                                                "which", "have", "were"}]
    out += top[:15] + [f"{a} {b}" for a, b in zip(top[15:30], top[30:45], strict=True)]
    return out
