"""What a browser shows with no network: ``/docs`` of a real ``citeseek serve`` lists
every endpoint in headless Chromium with every request outside the server refused (the
Swagger UI files come from an installed package), ``/openapi.json`` describes every
response, and the collection card of Jupyter keeps its headers and ids on one line.

Chromium and Playwright are installed by ``make test``; where one is missing the
browser tests skip, except under CI, where they fail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import citeseek
from citeseek.demo import sample_dir, sample_formats_dir
from citeseek.embed.hashing import HashingEmbedder

from .server_process import running_server

ENDPOINTS = {("GET", "/search"), ("POST", "/search"), ("GET", "/ask"), ("POST", "/ask"),
             ("GET", "/documents"), ("GET", "/documents/{doc_id}"), ("GET", "/info"),
             ("GET", "/health")}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("docs") / "sample"
    citeseek.build([sample_dir(), sample_formats_dir()], target, model=HashingEmbedder(),
                   progress=False)
    return target


@pytest.fixture(scope="module")
def url(store: Path) -> Iterator[str]:
    with running_server(store) as base:
        yield base


def offline_page(browser: Any, allowed: str) -> tuple[Any, list[str]]:
    """A page that may load only URLs under ``allowed``; the refused ones are listed."""
    refused: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def route(r: Any) -> None:
        if r.request.url.startswith(allowed):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return page, refused


def test_every_response_has_a_schema(url: str) -> None:
    spec = httpx.get(f"{url}/openapi.json", timeout=30).json()
    found = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert found == ENDPOINTS
    schemas = spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            ok = op["responses"]["200"]["content"]["application/json"]["schema"]
            assert ok.get("$ref") or ok.get("items"), (method, path)
            for status, response in op["responses"].items():
                schema = response["content"]["application/json"]["schema"]
                ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
                assert ref, (method, path, status)
                assert ref.rsplit("/", 1)[-1] in schemas
    hit = schemas["Hit"]["properties"]
    assert {"doc_id", "start", "end", "line_start", "page_start", "page_label",
            "score"} <= set(hit)
    answer = schemas["AnswerBody"]["properties"]
    assert answer["citations"]["items"]["$ref"].endswith("/Hit")


def test_docs_list_every_endpoint_in_chromium_offline(url: str, browser: Any,
                                                      tmp_path: Path) -> None:
    page, refused = offline_page(browser, url)
    page.goto(f"{url}/docs", wait_until="load")
    page.wait_for_selector(".opblock-summary", timeout=30_000)
    rows = page.locator(".opblock-summary")
    shown = {(rows.nth(i).locator(".opblock-summary-method").inner_text().strip(),
              rows.nth(i).locator(".opblock-summary-path").inner_text().strip()
              .replace("\u200b", "")) for i in range(rows.count())}
    assert shown == ENDPOINTS
    assert "citeseek" in page.locator(".info .title").inner_text()
    assert refused == [], "the page asked for nothing outside the server"
    # A response's schema opens in the page, the citation fields among it
    page.locator(".opblock-summary-path", has_text="/search").first.click()
    page.wait_for_selector(".responses-wrapper", timeout=10_000)
    page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
    page.close()


def test_the_collection_card_keeps_headers_and_ids_whole(browser: Any, store: Path,
                                                         tmp_path: Path) -> None:
    """Each header, number and id on one line; an id too long for its column cut with
    an ellipsis, whole on hover; titles wrap between words only."""
    from citeseek.listing import collection_card

    col = citeseek.open(store, model=HashingEmbedder())
    docs = col.documents()
    long_id = "reports/archive_of_regional_newspapers_2019_2024/" + docs[0]["doc_id"]
    docs = [*docs, {**docs[0], "doc_id": long_id}]
    card = collection_card(str(col.root), col.generation, documents=len(docs),
                           passages=len(col), model="hashing", docs=docs)
    page, refused = offline_page(browser, "about:")
    # a notebook's output column is narrow; the card must not wrap words mid-way in it
    page.set_content(f"<div style='width:800px'>{card}</div>")

    def one_line(locator: Any) -> list[str]:
        """The texts of ``locator`` that take more than one line (their text's line
        boxes, measured by a range over it, at more than one height)."""
        wrapped = []
        for i in range(locator.count()):
            cell = locator.nth(i)
            rows = cell.evaluate(
                "e => { const r = document.createRange(); r.selectNodeContents(e);"
                " return new Set([...r.getClientRects()].filter(b => b.width > 0)"
                ".map(b => Math.round(b.top))).size; }")
            if rows > 1:
                wrapped.append(cell.inner_text())
        return wrapped

    headers = page.locator(".cs-table th")
    assert headers.all_inner_texts() == ["title", "date", "passages", "characters", "id"]
    assert one_line(headers) == []
    ids = page.locator(".cs-table .cs-id")
    assert ids.count() == len(docs)
    assert one_line(ids) == []
    assert one_line(page.locator(".cs-table .cs-num, .cs-table .cs-date")) == []
    assert [ids.nth(i).get_attribute("title") for i in range(ids.count())] == \
        [d["doc_id"] for d in docs]
    cut = ids.last
    assert cut.evaluate("e => e.scrollWidth > e.clientWidth")  # shortened, with "…"
    for i in range(ids.count() - 1):  # the sample's ids have room
        assert ids.nth(i).evaluate("e => e.scrollWidth <= e.clientWidth"), i
    table = page.locator(".cs-table").bounding_box()
    assert table is not None and table["width"] <= 800
    assert refused == []
    page.screenshot(path=str(tmp_path / "card.png"), full_page=True)
    page.close()
