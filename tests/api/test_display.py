"""Rich display: result cards, answers, documents, collections, modes side by side, plots,
evaluation tables and progress bars (fast: the fake embedder, no model)."""

from __future__ import annotations

import importlib.util
import os
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import citeseek
from citeseek.display import highlight
from citeseek.errors import UsageError
from citeseek.evaluation import BeirData, EvalResult, per_query, wins_and_losses
from citeseek.plots import pca_2d
from citeseek.progress import bar_class, progress_bar
from citeseek.search.hits import render_hits

QUESTION = "How many protesters were killed in November 2019?"


def need(module: str) -> None:
    """The notebook extra's packages: a skip where absent, a failure under CI."""
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is not installed (make test installs it)")
        pytest.skip(f"{module} is not installed")


@pytest.fixture
def col(sample_dir: Path, tmp_path: Path, build) -> citeseek.Collection:
    return build(sample_dir, tmp_path / "col")


# -- highlighting ---------------------------------------------------------------------------

def test_highlight_marks_terms_and_nests_spans() -> None:
    text = "More than 1,500 <b>protesters</b> were killed. Then quiet."
    page = highlight(text, ["protesters", "killed", "an"], [(0, 46, "cs-said"),
                                                             (10, 15, "cs-span")])
    assert page == ('<span class="cs-said">More than <span class="cs-span">1,500</span> '
                    '&lt;b&gt;<mark>protesters</mark>&lt;/b&gt; were <mark>killed</mark>.'
                    '</span> Then quiet.')
    assert highlight("a<b", [], [(-3, 99, "x")]) == '<span class="x">a&lt;b</span>'
    assert highlight("", ["word"], [(0, 0, "x")]) == ""


class _Within(HTMLParser):
    """The text inside each element of one class (nested tags included)."""

    def __init__(self, css: str) -> None:
        super().__init__(convert_charrefs=True)
        self.css, self.depth, self.found = css, 0, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.depth += 1
        elif self.css in (dict(attrs).get("class") or "").split():
            self.depth = 1
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.found[-1] += data


def within(page: str, css: str) -> list[str]:
    parser = _Within(css)
    parser.feed(page)
    return parser.found


def test_answer_cards_mark_the_answer_sentence(col: citeseek.Collection) -> None:
    answer = col.ask(QUESTION, min_evidence=0.0)
    assert answer.sentences
    page = answer._repr_html_()
    said = within(page, "cs-said")
    assert [s.text for s in answer.sentences] == said
    assert [s.span for s in answer.sentences if s.span] == within(page, "cs-span")
    assert f">[{answer.sentences[0].citation}]<" in page  # cards numbered as cited


def test_hit_cards_show_rank_score_title_date_source_lines(col: citeseek.Collection) -> None:
    hits = col.search(QUESTION, k=3)
    page = hits._repr_html_()
    assert page.count('class="cs-card"') == 3
    for h in hits:
        assert f">#{h.rank}<" in page and f"{h.score:.3f}" in page
        assert f"lines {h.line_start}–{h.line_end}" in page or f"line {h.line_start}" in page
        assert (h.date or "") in page
    assert "<mark>protesters</mark>" in page and "<mark>many</mark>" not in page.lower()
    empty = render_hits(citeseek.HitList([], query="<x>"), query="<x>")
    assert "No passages match &lt;x&gt;" in empty


# -- documents, collections, comparisons -----------------------------------------------------

def test_document_views(col: citeseek.Collection) -> None:
    hit = col.search(QUESTION, k=1)[0]
    doc = col.document(hit.doc_id)
    rows = doc.lines()
    assert all(doc.text[a:b] == text for _, a, b, text in rows)
    assert [line for line, *_ in rows] == doc.line_map
    frame = doc.to_pandas()
    assert list(frame["line"]) == doc.line_map
    assert doc.doc_id in repr(doc) and len(repr(doc)) < 300
    assert (doc.title or "") in str(doc)
    page = doc._repr_html_()  # numbered rows for text; a run of blank lines is one gap
    texts = [text for *_, text in rows]
    assert page.count("class='cs-ln'") == sum(1 for t in texts if t.strip()) > 0
    runs = sum(1 for i, t in enumerate(texts) if not t.strip() and i and texts[i - 1].strip())
    assert page.count("class='cs-gap'") == runs > 0

    view = col.locate(hit, context=1)
    assert view.text == hit.text
    shown = [line for line, *_ in view.lines()]
    assert hit.line_start in shown and hit.line_end in shown
    assert len(shown) <= hit.line_end - hit.line_start + 3
    assert "⟦" in str(view) and "▶" in str(view)
    page = view._repr_html_()
    assert "cs-cited" in page and f"characters {hit.start}–{hit.end}" in page
    assert str(doc.view()).count("\n") == len(rows)
    for bad in [(5, None), (-1, 3), (3, 2), (0, len(doc.text) + 1)]:
        with pytest.raises(UsageError):
            doc.view(*bad)
    plain = citeseek.Document(doc_id="d", source="d.txt", text="alpha\n\nbeta")
    for start, end in [(5, 6), (6, 7), (5, 7)]:  # line breaks only: the line they start in
        view = plain.view(start, end, context=0)
        assert view.lines() and "d.txt" in str(view) and "cs-line" in view._repr_html_()


def test_collection_display_and_frame(col: citeseek.Collection) -> None:
    need("pandas")
    frame = col.to_pandas()
    assert len(frame) == 5 and set(frame["chunks"]) and frame["chunks"].sum() == len(col)
    text = str(col)
    assert text.startswith("Collection(") and text.count(".txt") == 5
    page = col._repr_html_()
    assert page.count("<tr data-doc-id=") == 5 and "passages" in page


def test_more_like_uses_the_passage_vector(col: citeseek.Collection) -> None:
    hit = col.search("bomb plot against the NCRI rally", k=1)[0]
    similar = col.more_like(hit, k=4)
    assert hit.chunk_id not in [h.chunk_id for h in similar] and len(similar) == 4
    passages = col.passages()
    vectors = col.passage_vectors()
    assert vectors.shape == (len(passages), 64)
    own = col.passage_vectors([hit.chunk_id])[0]
    by_id = {p["chunk_id"]: vectors[i] for i, p in enumerate(passages)}
    for h in similar:
        assert h.score == pytest.approx(float(by_id[h.chunk_id] @ own), abs=1e-5)
    assert [h.score for h in similar] == sorted((h.score for h in similar), reverse=True)
    elsewhere = col.more_like(hit.chunk_id, k=3, other_documents=True)
    assert elsewhere and all(h.doc_id != hit.doc_id for h in elsewhere)
    only = col.more_like(hit, k=3, doc_ids=hit.doc_id)
    assert all(h.doc_id == hit.doc_id for h in only)
    for bad in (10**9, "3", True):
        with pytest.raises(UsageError):
            col.more_like(bad)
    with pytest.raises(UsageError):
        col.more_like(hit, colour="red")
    with pytest.raises(UsageError):
        col.passage_vectors([10**9])


def test_modes_side_by_side(col: citeseek.Collection) -> None:
    need("pandas")
    comparison = col.compare("gasoline prices", k=3)
    assert list(comparison.results) == ["dense", "keyword", "hybrid"]
    page = comparison._repr_html_()
    assert page.count("class='cs-col'") == 3 and "elsewhere:" in page
    root = col.source_root()
    hit = comparison.results["dense"][0]
    assert root is not None and hit.source.startswith(root + "/")
    assert f'title="{hit.source}">{hit.source[len(root) + 1:]} · line' in page
    frame = comparison.to_pandas()
    assert list(frame.columns) == ["dense", "keyword", "hybrid"] and len(frame) == 3
    assert "keyword:" in str(comparison)
    with pytest.raises(UsageError):
        col.compare("gasoline", modes=["sparse"])


# -- plots -----------------------------------------------------------------------------------

def test_pca_2d() -> None:
    # A centred, uncorrelated grid spread 3:1 along axes 0 and 2, shifted off the origin.
    grid = np.array([[3.0 * a, 0.0, b, 0.0] for a in range(-2, 3) for b in (-1, 0, 1)])
    xy = pca_2d(grid + 7.0)
    assert xy.shape == (15, 2)
    assert np.allclose(np.abs(xy), np.abs(grid[:, [0, 2]]), atol=1e-9)
    assert np.array_equal(pca_2d(grid), pca_2d(grid.copy()))  # same map every run
    assert pca_2d(np.ones((1, 4))).tolist() == [[0.0, 0.0]]
    with pytest.raises(UsageError):
        pca_2d(np.ones(3))


def test_plots_draw(col: citeseek.Collection) -> None:
    need("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from citeseek import plots

    ax = plots.passage_map(col, annotate=[col.passages()[0]["chunk_id"]])
    points = sum(len(c.get_offsets()) for c in ax.collections)
    assert points == len(col) + 1  # every passage, and the circle around one
    assert len(ax.get_legend().get_texts()) == 5
    ax = plots.passage_lengths(col)
    assert sum(p.get_height() for p in ax.patches) == len(col)
    results = [EvalResult("keyword", {"ndcg@10": 0.5}), EvalResult("hybrid", {"ndcg@10": 0.7})]
    ax = plots.metric_by_mode({"a": results, "b": results[:1]})
    heights = [p.get_height() for p in ax.patches]
    assert heights[:2] == [0.5, 0.5] and heights[2] == 0.7 and np.isnan(heights[3])
    full = [EvalResult(m, {"ndcg@10": v}) for m, v in
            (("keyword", 0.37), ("dense", 0.38), ("hybrid", 0.43))]
    ax = plots.metric_by_mode({"sample": full, "cranfield": full})
    renderer = ax.figure.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    drawn = [p.get_window_extent(renderer) for p in ax.patches] + \
        [t.get_window_extent(renderer) for t in ax.texts]  # bars and their value labels
    assert len(drawn) == 12 and not any(legend.overlaps(box) for box in drawn)
    plt.close("all")


# -- evaluation tables ------------------------------------------------------------------------

def test_wins_and_losses() -> None:
    need("pandas")
    data = BeirData(Path("."), {"a": "first", "b": "second", "c": "third"}, {})
    per = {"keyword": {"a": 0.2, "b": 0.9, "c": 0.5}, "dense": {"a": 0.4, "b": 0.1, "c": 0.5},
           "hybrid": {"a": 0.6, "b": 0.3, "c": 0.5}}
    results = [EvalResult(mode, {}, {q: {"ndcg@10": v} for q, v in scores.items()})
               for mode, scores in per.items()]
    frame = per_query(results, data)
    assert list(frame.columns) == ["query", "keyword", "dense", "hybrid"]
    table = wins_and_losses(results, data)
    assert list(table.index) == ["a", "c", "b"]
    assert table.loc["a", "delta"] == pytest.approx(0.2)
    assert table.loc["b", "best_other_mode"] == "keyword"
    assert table.loc["b", "delta"] == pytest.approx(-0.6)
    with pytest.raises(UsageError):
        per_query(results, data, metric="ndcg@3")
    with pytest.raises(UsageError):
        wins_and_losses(results[:1], data, mode="keyword")


def test_shipped_question_set_matches_the_sample(col: citeseek.Collection) -> None:
    from citeseek.demo import sample_eval_dir
    from citeseek.evaluation import evaluate, load_beir

    data = load_beir(sample_eval_dir())
    assert len(data.queries) == 50 and set(data.qrels) == set(data.queries)
    judged = {d for j in data.qrels.values() for d in j}
    assert judged == {d["doc_id"] for d in col.documents()}
    assert all(max(j.values()) == 2 for j in data.qrels.values())
    result = evaluate(col, data, mode="keyword")
    assert result.queries == 50 and 0.5 < result.metrics["ndcg@10"] <= 1.0


# -- progress ---------------------------------------------------------------------------------

def test_progress_bar_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    from tqdm.notebook import tqdm as notebook_tqdm
    from tqdm.std import tqdm as text_tqdm

    assert bar_class(kernel=False, widgets=True) is text_tqdm
    assert bar_class(kernel=True, widgets=False) is text_tqdm
    assert bar_class(kernel=True, widgets=True) is notebook_tqdm
    # A kernel without ipywidgets: a text bar, and no warning about widgets.
    monkeypatch.setattr("citeseek.progress.in_kernel", lambda: True)
    monkeypatch.setitem(__import__("sys").modules, "ipywidgets", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with progress_bar(total=3, desc="embedding", unit="passage") as bar:
            bar.update(3)
    assert type(bar) is text_tqdm and bar.n == 3


def test_comparisons_cite_pdf_pages(tmp_path: Path, fake) -> None:
    from citeseek.demo import sample_formats_dir

    col = citeseek.build(sample_formats_dir(), tmp_path / "formats", model=fake,
                         progress=False)
    comparison = col.compare("harbour wall rebuilding Port Ellen", k=3,
                             modes=("keyword", "dense"))
    pdf_hits = [h for hits in comparison.results.values() for h in hits
                if h.page_start is not None]
    assert pdf_hits
    text = str(comparison)
    assert f"p. {pdf_hits[0].page_start}" in text
    table = comparison.to_pandas().to_string()
    assert f"p.{pdf_hits[0].page_start}:" in table
    pages = {d["doc_id"]: d["pages"] for d in col.documents()}
    assert pages[pdf_hits[0].doc_id] >= 1 and list(pages.values()).count(None) == 1
