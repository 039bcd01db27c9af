"""The notebooks run top to bottom on a fresh kernel; their output works in a real browser
(headless Chromium through Playwright); hostile article text stays text there; build
progress shows in a kernel with and without ipywidgets.

The notebook and browser tools come from the ``notebook`` and ``test`` extras and from
Debian's ``chromium``, all installed by ``make test``. Where one is missing these tests
skip, except under CI (the ``CI`` environment variable set), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.demo import sample_dir, sample_eval_dir, sample_formats_dir
from tests.helpers import REPO, need_modules

ROOT = REPO
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SAMPLE_FILES = {p.name for p in sample_dir().glob("*.txt")} | {
    p.name for p in sample_formats_dir().iterdir()}
def test_notebooks_are_stored_without_outputs() -> None:
    import json

    assert [p.name for p in NOTEBOOKS] == ["01_quickstart.ipynb", "02_exploring.ipynb",
                                           "03_evaluation.ipynb"]
    for path in NOTEBOOKS:
        cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                 if c["cell_type"] == "code"]
        assert cells, path
        assert all(c["outputs"] == [] and c["execution_count"] is None for c in cells), path


# -- executing notebooks ------------------------------------------------------------------

@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A kernel working folder, and an environment that makes kernels import this very
    citeseek and keep their collections in the working folder."""
    need_modules("nbclient", "nbformat", "ipykernel", "matplotlib", "pandas")
    folder = tmp_path_factory.mktemp("notebooks")
    src = str(Path(citeseek.__file__).resolve().parents[1])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", os.pathsep.join(
            p for p in (src, os.environ.get("PYTHONPATH", "")) if p))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("CITESEEK_STORE_DIR", str(folder / "embeddings"))
        # The evaluation notebook's "any BEIR folder" part runs on the shipped sample
        # set: it exercises building from corpus.jsonl without minutes of embedding.
        mp.setenv("CITESEEK_BEIR_DIR", str(sample_eval_dir()))
        yield folder


def execute(nb: Any, folder: Path) -> Any:
    """Run every cell on a fresh kernel in ``folder``; any error fails the test."""
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb


@pytest.fixture(scope="module")
def run_notebook(workdir: Path) -> Callable[[str], Any]:
    import nbformat

    done: dict[str, Any] = {}

    def run(name: str) -> Any:
        if name not in done:
            done[name] = execute(nbformat.read(ROOT / "notebooks" / name, as_version=4),
                                 workdir)
        return done[name]

    return run


def outputs(nb: Any, kind: str) -> list[str]:
    """Every output of ``kind`` ("text/html", "stderr", ...) in cell order."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == kind:
                found.append(out["text"])
            elif kind in out.get("data", {}):
                found.append(out["data"][kind])
    return found


@pytest.mark.model
@pytest.mark.parametrize("name", [p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(run_notebook: Callable[[str], Any], name: str) -> None:
    nb = run_notebook(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert not any("Traceback" in text for text in outputs(nb, "stderr"))
    if name != "01_quickstart.ipynb":
        assert outputs(nb, "image/png"), "its plots are drawn"


class _Cards(HTMLParser):
    """Collects result cards (their document ids) and classed spans."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[str] = []
        self.classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.classes += (found.get("class") or "").split()
        if "cs-card" in (found.get("class") or "").split():
            self.cards.append(found.get("data-doc-id") or "")


@pytest.mark.model
def test_quickstart_output_holds_cards_citing_sample_articles(
        run_notebook: Callable[[str], Any]) -> None:
    nb = run_notebook("01_quickstart.ipynb")
    parser = _Cards()
    for page in outputs(nb, "text/html"):
        parser.feed(page)
    assert len(parser.cards) >= 3 and set(parser.cards) <= SAMPLE_FILES
    assert {"cs-said", "cs-span", "cs-cited"} <= set(parser.classes)
    assert "004_4711baa52dff02b9.txt, lines" in "".join(outputs(nb, "stdout"))
    assert "harbour-wall.pdf, p. 1, line" in "".join(outputs(nb, "stdout"))
    assert "harbour-wall-inspection.html, line" in "".join(outputs(nb, "stdout"))


# -- in a real browser -----------------------------------------------------------------------

def open_exported(browser: Any, nb: Any, path: Path) -> Any:
    """Export ``nb`` to HTML as nbconvert does and open it; only local files load."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    path.write_text(body, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else route.abort())
    page.goto(path.as_uri(), wait_until="load")
    return page


@pytest.mark.model
def test_quickstart_in_chromium(run_notebook: Callable[[str], Any], browser: Any,
                                tmp_path: Path) -> None:
    page = open_exported(browser, run_notebook("01_quickstart.ipynb"),
                         tmp_path / "quickstart.html")
    cards = page.locator(".cs-card")
    assert cards.count() >= 3
    doc_ids = {cards.nth(i).get_attribute("data-doc-id") for i in range(cards.count())}
    assert doc_ids <= SAMPLE_FILES
    first = cards.first
    assert first.locator(".cs-title").inner_text().strip()
    assert "lines" in first.locator(".cs-source").inner_text()
    bar = first.locator(".cs-bar > span").bounding_box()
    assert bar is not None and bar["width"] > 0  # the card's CSS applies in the page
    terms = page.locator(".cs-card .cs-text mark")
    assert terms.count() > 0
    assert terms.first.evaluate("e => getComputedStyle(e).backgroundColor") == \
        "rgb(255, 229, 138)"
    said = page.locator(".cs-card .cs-said")
    assert said.count() > 0 and "1,500" in said.first.inner_text()
    assert page.locator(".cs-line.cs-cited .cs-said").count() > 0  # the located citation
    assert layout_problems(page) == []
    first.scroll_into_view_if_needed()
    shot = tmp_path / "quickstart.png"
    page.screenshot(path=str(shot), full_page=True)
    first.screenshot(path=str(tmp_path / "card.png"))
    assert shot.stat().st_size > 10_000
    page.close()


HOSTILE = ('<script>window.__pwned = 1; document.title = "pwned"</script>'
           '<img src=x onerror="window.__pwned = 2"><b id=injected>bold?</b>')

PROBE_SETUP = '''
import hashlib, re, sys
from pathlib import Path
import numpy as np
import citeseek

class TinyEmbedder:
    """Hashed bag of words: enough to build and search without a model."""
    model_id, max_seq_length, dimension = "tiny-bow-16", 64, 16
    def token_spans(self, text):
        return [m.span() for m in re.finditer(r"\\w+|[^\\w\\s]", text)]
    def count_tokens(self, texts):
        return [len(self.token_spans(t)) + 2 for t in texts]
    def encode(self, texts, *, batch_size=32, progress=False):
        out = np.zeros((len(texts), 16), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in re.findall(r"\\w+", text.lower()):
                out[i, hashlib.md5(w.encode()).digest()[0] % 16] += 1
            out[i] /= max(np.linalg.norm(out[i]), 1e-9)
        return out

def articles(folder, n):
    Path(folder).mkdir(exist_ok=True)
    for i in range(n):
        Path(folder, f"{i:03d}.txt").write_text(f"Note {i}\\n\\nThe harbour log {i} says ships came.\\n")
    return folder
'''


# Articles deep in folders with long names, and paragraphs apart by blank lines.
LONG_PATHS = """
deep = Path('deep', 'archive_of_regional_newspapers_2019_2024', 'harbour_and_shipping_desk',
            'weekly_summaries_with_long_names')
deep.mkdir(parents=True, exist_ok=True)
for i in range(3):
    (deep / f'harbour_crane_cargo_weekly_report_number_{i}_with_an_unusually_long_name.txt'
     ).write_text(f'Harbour report {i}\\n\\nThe harbour crane moved cargo {i}.\\n\\n\\n\\n'
                  'Ships came and went all week.\\n')
deep_col = citeseek.build('deep', 'deep-store', model=TinyEmbedder(), progress=False)
"""


def layout_problems(page: Any) -> list[str]:
    """Where shown things spill out of their card, document view or column, or cards
    overlap."""
    return list(page.evaluate("""() => {
        const problems = [], box = e => e.getBoundingClientRect();
        const name = e => e.className || e.tagName;
        const within = (inner, outer, what) => {
            const a = box(inner), b = box(outer);
            if (a.width && (a.left < b.left - 1 || a.right > b.right + 1))
                problems.push(`${name(inner)} spills out of its ${what}: ${a.left}-${a.right}`
                              + ` outside ${b.left}-${b.right}`);
        };
        for (const card of document.querySelectorAll('.cs-card, .cs-doc'))
            for (const el of [card, ...card.querySelectorAll('*')]) {
                if (!el.closest('.cs-lines')) within(el, card, 'card');  // that one scrolls
                // text wider than its own box (an unbroken path) spills past it
                if (el.clientWidth && el.scrollWidth > el.clientWidth + 1)
                    problems.push(`${name(el)} holds text ${el.scrollWidth - el.clientWidth}`
                                  + 'px wider than itself');
            }
        for (const col of document.querySelectorAll('.cs-col')) {
            within(col, col.parentElement, 'row of columns');
            for (const el of col.querySelectorAll('*')) within(el, col, 'column');
        }
        const cards = [...document.querySelectorAll('.cs-card')].map(box);
        cards.forEach((a, i) => cards.slice(i + 1).forEach(b => {
            if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 &&
                b.top < a.bottom - 1) problems.push(`cards overlap at ${a.left},${a.top}`);
        }));
        return problems;
    }"""))


def probe_notebook() -> Any:
    """Hostile articles shown every way citeseek shows things, then builds with progress
    in a kernel with ipywidgets and with ipywidgets hidden."""
    from nbformat.v4 import new_code_cell, new_notebook

    hostile = (f"Path('evil').mkdir(exist_ok=True)\n"
               f"Path('evil/evil.md').write_text('# Harbour ' + {HOSTILE!r} + "
               f"'\\n\\nThe harbour crane ' + {HOSTILE!r} + ' moved cargo to the dock.\\n')\n"
               f"col = citeseek.build('evil', 'evil-store', model=TinyEmbedder(), "
               f"progress=False)\nhits = col.search('harbour crane cargo', k=3)")
    cells = [PROBE_SETUP, hostile, "col", "hits", "hits[0]",
             "col.ask('What moved cargo to the dock?', min_evidence=0)",
             "col.document('evil.md')", "col.locate(hits[0])",
             "col.compare('harbour crane cargo', k=2)", LONG_PATHS,
             "deep_col.compare('harbour crane cargo', k=3)",
             "deep_col.document(deep_col.documents()[0]['doc_id'])",
             "citeseek.build(articles('many', 70), 'many-store', model=TinyEmbedder());",
             "sys.modules['ipywidgets'] = None  # as if it were not installed\n"
             "citeseek.build(articles('more', 70), 'more-store', model=TinyEmbedder());"]
    return new_notebook(cells=[new_code_cell(c) for c in cells],
                        metadata={"kernelspec": {"name": "python3", "language": "python",
                                                 "display_name": "Python 3"}})


@pytest.fixture(scope="module")
def probe(workdir: Path) -> Any:
    folder = workdir / "probe"
    folder.mkdir()
    return execute(probe_notebook(), folder)


def test_build_progress_in_a_kernel(probe: Any) -> None:
    with_widgets, without = probe.cells[-2].outputs, probe.cells[-1].outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
               for o in with_widgets)
    text = "".join(o.get("text", "") for o in without if o.get("output_type") == "stream")
    assert "embedding: 100%" in text and "70/70" in text
    assert "IProgress" not in text and "Warning" not in text
    assert not any("data" in o for o in without)  # no widget without ipywidgets


def test_hostile_article_renders_as_text_in_chromium(probe: Any, browser: Any,
                                                     tmp_path: Path) -> None:
    page = open_exported(browser, probe, tmp_path / "hostile.html")
    shown = page.locator(".cs-card, .cs-doc")
    assert page.locator(".cs-card").count() >= 4 and page.locator(".cs-doc").count() >= 3
    assert page.evaluate("window.__pwned") is None
    assert page.title() != "pwned"
    assert page.locator("#injected").count() == 0
    assert page.locator(".cs-card img, .cs-doc img, .cs-card script, .cs-doc script, "
                        ".cs-card b#injected").count() == 0
    texts = [shown.nth(i).inner_text() for i in range(shown.count())]
    assert sum("<script>window.__pwned" in t for t in texts) >= 5
    assert all("<img src=x" in t for t in texts if "<script>" in t)
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
    page.close()


def test_cards_stay_in_their_columns_in_chromium(probe: Any, browser: Any,
                                                 tmp_path: Path) -> None:
    """Long paths in narrow side-by-side columns: shortened to the collection's source
    folder (in full on hover) and wrapped inside the card; nothing spills or overlaps.
    A document's blank lines are gaps, not numbered rows."""
    page = open_exported(browser, probe, tmp_path / "layout.html")
    columns = page.locator(".cs-cols").last.locator(".cs-col")
    assert columns.count() == 3 and columns.first.locator(".cs-card").count() == 3
    source = columns.first.locator(".cs-source").first
    full = source.get_attribute("title") or ""
    assert "/archive_of_regional_newspapers_2019_2024/" in full
    assert source.inner_text().startswith("harbour_crane_cargo_weekly_report_number_")
    tops = {round(columns.nth(i).bounding_box()["x"]) for i in range(3)}
    assert len(tops) == 3  # side by side at this width
    assert layout_problems(page) == []
    view = page.locator(".cs-doc").last
    numbers = [n.strip() for n in view.locator(".cs-ln").all_inner_texts()]
    assert numbers == ["1", "3", "7"] and view.locator(".cs-gap").count() == 2
    page.screenshot(path=str(tmp_path / "layout.png"), full_page=True)
    page.close()

